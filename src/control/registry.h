// Projects, experiments and datasets: the registration rules the SDKs rely on
// (protocol §2): get-or-create projects and datasets, de-duplicated experiment names, and
// baseline selection.
#pragma once

#include <boost/json.hpp>
#include <mutex>
#include <optional>
#include <string>

#include "base/status.h"
#include "catalog/catalog.h"

namespace arbor::control {

using catalog::CatalogObject;
using catalog::ObjectKind;

struct ExperimentSpec {
  std::optional<std::string> name;
  bool update = false;       // reuse an experiment with this name instead of a new one
  boost::json::object data;  // description, metadata, base_exp_id, dataset_id, ...
};

class Registry {
 public:
  explicit Registry(catalog::Catalog& catalog) : catalog_(catalog) {}

  StatusOr<CatalogObject> RegisterProject(const std::string& org_id, const std::string& name);
  // Resolves a project by id, or by name when `id` is empty (creating it when `create`, else
  // NotFound: callers who may not create projects).
  StatusOr<CatalogObject> ResolveProject(const std::string& org_id, const std::string& id,
                                         const std::string& name, bool create = true);
  StatusOr<CatalogObject> RegisterExperiment(const std::string& org_id,
                                             const CatalogObject& project,
                                             const ExperimentSpec& spec);
  StatusOr<CatalogObject> RegisterDataset(const std::string& org_id, const CatalogObject& project,
                                          const std::string& name, const boost::json::object& data);
  // The stored base_exp_id, else the newest earlier experiment of the same project.
  StatusOr<std::optional<CatalogObject>> BaseExperiment(const std::string& org_id,
                                                        const std::string& experiment_id);

  StatusOr<CatalogObject> Get(const std::string& org_id, ObjectKind kind, const std::string& id) {
    return catalog_.GetObject(org_id, kind, id);
  }
  catalog::Catalog& catalog() { return catalog_; }

 private:
  StatusOr<CatalogObject> Create(const std::string& org_id, ObjectKind kind,
                                 const std::string& project_id, const std::string& name,
                                 boost::json::object data);

  catalog::Catalog& catalog_;
  std::mutex mu_;  // makes get-or-create and name de-duplication atomic
};

// The JSON the API returns for a catalog object (shape per protocol §2 and OpenAPI).
boost::json::object ObjectToJson(const CatalogObject& object);

}  // namespace arbor::control
