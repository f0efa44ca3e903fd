// Metadata: orgs, API keys, and the named objects rows belong to (projects, experiments,
// datasets). An interface so PostgreSQL can replace SQLite for scale-out.
#pragma once

#include <boost/json.hpp>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"

namespace arbor::catalog {

struct Org {
  std::string id;
  std::string name;
  std::string created;
};

struct ApiKey {
  std::string id;
  std::string org_id;
  std::string name;
  std::string key_hash;  // SHA-256 hex of the secret; the secret itself is never stored
  std::string created;
  bool revoked = false;
};

enum class ObjectKind { kProject, kExperiment, kDataset };
const char* ObjectKindName(ObjectKind kind);

// A project, experiment or dataset. Kind-specific fields live in `data`.
struct CatalogObject {
  std::string id;
  std::string org_id;
  ObjectKind kind = ObjectKind::kProject;
  std::string project_id;  // empty for projects
  std::string name;
  std::string created;
  std::int64_t seq = 0;  // creation order, assigned by the catalog
  boost::json::object data;
};

struct ObjectFilter {
  std::optional<std::string> project_id;
  std::optional<std::string> name;
};

class Catalog {
 public:
  virtual ~Catalog() = default;

  virtual StatusOr<Org> CreateOrg(const std::string& name) = 0;
  virtual StatusOr<Org> GetOrg(const std::string& id) = 0;
  virtual StatusOr<Org> FindOrgByName(const std::string& name) = 0;
  virtual StatusOr<std::vector<Org>> ListOrgs() = 0;

  virtual Status CreateApiKey(const ApiKey& key) = 0;
  virtual StatusOr<ApiKey> FindApiKeyByHash(const std::string& key_hash) = 0;
  virtual StatusOr<std::vector<ApiKey>> ListApiKeys() = 0;
  virtual Status RevokeApiKey(const std::string& id) = 0;

  // Inserts `object`, assigning `seq`. AlreadyExists when a live object of the same kind and
  // name exists in the same org and project.
  virtual StatusOr<CatalogObject> CreateObject(CatalogObject object) = 0;
  virtual StatusOr<CatalogObject> GetObject(const std::string& org_id, ObjectKind kind,
                                            const std::string& id) = 0;
  // Live objects of the org in creation order.
  virtual StatusOr<std::vector<CatalogObject>> ListObjects(const std::string& org_id,
                                                           ObjectKind kind,
                                                           const ObjectFilter& filter) = 0;
  virtual Status UpdateObject(const CatalogObject& object) = 0;
  virtual Status DeleteObject(const std::string& org_id, ObjectKind kind,
                              const std::string& id) = 0;
};

// Opens (creating if needed) an SQLite catalog at `path`, with durable commits.
StatusOr<std::unique_ptr<Catalog>> OpenSqliteCatalog(const std::string& path);

}  // namespace arbor::catalog
