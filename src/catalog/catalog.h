// Metadata: orgs, API keys, and the named objects rows belong to (projects, experiments,
// datasets). An interface so PostgreSQL can replace SQLite for scale-out.
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
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

// One version of a prompt or function (protocol §4.8). `data` holds the client's fields
// (name, description, prompt_data, function_data, tags, ...); the rest is ours.
struct FunctionRecord {
  std::string id;
  std::string org_id;
  std::string project_id;
  std::string kind;  // "prompt" or "function"
  std::string slug;  // unique among the live functions of a project
  std::string created;
  std::int64_t seq = 0;
  std::uint64_t xact_id = 0;  // the version, in the data plane's _xact_id space
  boost::json::object data;
};

struct FunctionFilter {
  std::optional<std::string> project_id;
  std::optional<std::string> slug;
  std::optional<std::string> kind;
  std::optional<std::uint64_t> version;    // as of this _xact_id
  std::optional<std::string> environment;  // the version pinned to this environment
};

// An AI provider secret. The value is stored only sealed (control/secret_box).
struct AiSecretRecord {
  std::string id;
  std::string org_id;
  std::string project_id;  // empty for org-level secrets
  std::string name;
  boost::json::value type;      // string or null
  boost::json::value metadata;  // object or null
  std::string preview;          // masked, never the value
  std::string sealed_value;     // hex: nonce | ciphertext | tag under the data key
  std::string wrapped_key;      // hex: the data key sealed under the master key
  std::string created;
  std::string updated_at;
};

class Catalog {
 public:
  virtual ~Catalog() = default;

  virtual StatusOr<Org> CreateOrg(const std::string& name) = 0;
  virtual StatusOr<Org> GetOrg(const std::string& id) = 0;
  virtual StatusOr<Org> FindOrgByName(const std::string& name) = 0;
  virtual StatusOr<std::vector<Org>> ListOrgs() = 0;
  // AlreadyExists when another org has the name; NotFound for an unknown id.
  virtual Status RenameOrg(const std::string& id, const std::string& name) = 0;

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

  // Prompts and functions. Every change appends a version whose xact_id is at least
  // `min_xact` and above every version stored before; `environments` pin that version.
  // AlreadyExists when the slug is taken by another live function of the project.
  virtual StatusOr<FunctionRecord> CreateFunction(FunctionRecord record, std::uint64_t min_xact,
                                                  const std::vector<std::string>& environments) = 0;
  virtual StatusOr<FunctionRecord> AddFunctionVersion(
      FunctionRecord record, std::uint64_t min_xact,
      const std::vector<std::string>& environments) = 0;
  // The newest version (or the one the filter's version/environment selects) of one function.
  virtual StatusOr<FunctionRecord> GetFunction(const std::string& org_id, const std::string& id,
                                               const FunctionFilter& filter) = 0;
  // Live functions of the org in creation order, each at the version the filter selects;
  // functions with no such version are left out.
  virtual StatusOr<std::vector<FunctionRecord>> ListFunctions(const std::string& org_id,
                                                              const FunctionFilter& filter) = 0;
  virtual Status DeleteFunction(const std::string& org_id, const std::string& id) = 0;

  // AI secrets. AlreadyExists when the org (and project) has a secret of that name.
  virtual Status CreateAiSecret(const AiSecretRecord& secret) = 0;
  virtual Status UpdateAiSecret(const AiSecretRecord& secret) = 0;
  virtual StatusOr<AiSecretRecord> GetAiSecret(const std::string& org_id,
                                               const std::string& id) = 0;
  // Secrets of one org (empty org_id: every org, for key rotation), in creation order.
  virtual StatusOr<std::vector<AiSecretRecord>> ListAiSecrets(const std::string& org_id) = 0;
  virtual Status DeleteAiSecret(const std::string& org_id, const std::string& id) = 0;
  // Replaces the wrapped data keys (id -> wrapped_key) in one transaction: all or none.
  virtual Status RewrapAiSecrets(const std::vector<std::pair<std::string, std::string>>& keys) = 0;
};

// Opens (creating if needed) an SQLite catalog at `path`, with durable commits.
StatusOr<std::unique_ptr<Catalog>> OpenSqliteCatalog(const std::string& path);

}  // namespace arbor::catalog
