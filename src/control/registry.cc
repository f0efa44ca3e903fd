#include "control/registry.h"

#include "base/util.h"

namespace arbor::control {

inline constexpr int experiment_name_suffix_max = 10'000;

StatusOr<CatalogObject> Registry::Create(const std::string& org_id, ObjectKind kind,
                                         const std::string& project_id, const std::string& name,
                                         boost::json::object data) {
  CatalogObject o{.id = NewUuid(),
                  .org_id = org_id,
                  .kind = kind,
                  .project_id = project_id,
                  .name = name,
                  .created = FormatIsoTime(NowMicros()),
                  .data = std::move(data)};
  return catalog_.CreateObject(std::move(o));
}

StatusOr<CatalogObject> Registry::RegisterProject(const std::string& org_id,
                                                  const std::string& name) {
  if (name.empty()) return InvalidArgument("project_name must not be empty");
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(auto existing,
                   catalog_.ListObjects(org_id, ObjectKind::kProject, {.name = name}));
  if (!existing.empty()) return existing.front();
  return Create(org_id, ObjectKind::kProject, "", name, {});
}

StatusOr<CatalogObject> Registry::ResolveProject(const std::string& org_id, const std::string& id,
                                                 const std::string& name, bool create) {
  if (!id.empty()) return catalog_.GetObject(org_id, ObjectKind::kProject, id);
  const std::string& wanted = name.empty() ? "Global" : name;
  if (create) return RegisterProject(org_id, wanted);
  ASSIGN_OR_RETURN(auto found,
                   catalog_.ListObjects(org_id, ObjectKind::kProject, {.name = wanted}));
  if (found.empty()) return NotFound("no project named " + wanted);
  return found.front();
}

StatusOr<CatalogObject> Registry::RegisterExperiment(const std::string& org_id,
                                                     const CatalogObject& project,
                                                     const ExperimentSpec& spec) {
  std::lock_guard<std::mutex> lock(mu_);
  std::string base = spec.name.value_or("");
  if (base.empty()) base = "experiment-" + NewUuid().substr(0, 8);
  ASSIGN_OR_RETURN(auto same, catalog_.ListObjects(org_id, ObjectKind::kExperiment,
                                                   {.project_id = project.id, .name = base}));
  if (!same.empty() && spec.update) return same.front();
  std::string name = base;
  for (int i = 1; !same.empty(); ++i) {
    if (i > experiment_name_suffix_max) return AlreadyExists("too many experiments named " + base);
    name = base + "-" + std::to_string(i);
    ASSIGN_OR_RETURN(same, catalog_.ListObjects(org_id, ObjectKind::kExperiment,
                                                {.project_id = project.id, .name = name}));
  }
  return Create(org_id, ObjectKind::kExperiment, project.id, name, spec.data);
}

StatusOr<CatalogObject> Registry::RegisterDataset(const std::string& org_id,
                                                  const CatalogObject& project,
                                                  const std::string& name,
                                                  const boost::json::object& data) {
  std::lock_guard<std::mutex> lock(mu_);
  std::string n = name.empty() ? "dataset" : name;
  ASSIGN_OR_RETURN(auto existing, catalog_.ListObjects(org_id, ObjectKind::kDataset,
                                                       {.project_id = project.id, .name = n}));
  if (!existing.empty()) return existing.front();
  return Create(org_id, ObjectKind::kDataset, project.id, n, data);
}

StatusOr<std::optional<CatalogObject>> Registry::BaseExperiment(const std::string& org_id,
                                                                const std::string& id) {
  ASSIGN_OR_RETURN(CatalogObject exp, catalog_.GetObject(org_id, ObjectKind::kExperiment, id));
  if (const auto* base = exp.data.if_contains("base_exp_id"); base && base->is_string()) {
    auto found =
        catalog_.GetObject(org_id, ObjectKind::kExperiment, std::string(base->as_string()));
    if (found.ok()) return std::optional<CatalogObject>(*found);
  }
  ASSIGN_OR_RETURN(auto all, catalog_.ListObjects(org_id, ObjectKind::kExperiment,
                                                  {.project_id = exp.project_id}));
  std::optional<CatalogObject> best;
  for (auto& e : all) {
    if (e.seq < exp.seq) best = e;  // creation order: the newest earlier one wins
  }
  return best;
}

boost::json::object ObjectToJson(const CatalogObject& object) {
  boost::json::object out;
  out["id"] = object.id;
  out["org_id"] = object.org_id;
  out["name"] = object.name;
  out["created"] = object.created;
  out["deleted_at"] = nullptr;
  out["user_id"] = nullptr;
  switch (object.kind) {
    case ObjectKind::kProject:
      out["settings"] = nullptr;
      break;
    case ObjectKind::kExperiment:
      out["project_id"] = object.project_id;
      for (const char* k : {"description", "repo_info", "base_exp_id", "dataset_id",
                            "dataset_version", "metadata", "tags"}) {
        out[k] = nullptr;
      }
      out["public"] = false;
      out["commit"] = nullptr;
      break;
    case ObjectKind::kDataset:
      out["project_id"] = object.project_id;
      out["description"] = nullptr;
      out["metadata"] = nullptr;
      break;
  }
  for (const auto& [k, v] : object.data) out[k] = v;
  return out;
}

}  // namespace arbor::control
