// REST v1 CRUD for projects, experiments and datasets (protocol §5).
#include "api/app.h"
#include "api/fields.h"
#include "base/util.h"

namespace arbor::api {

namespace bj = boost::json;
using catalog::ObjectKind;
using control::ObjectToJson;

namespace {

struct KindInfo {
  ObjectKind kind;
  const char* path;        // "/v1/project"
  const char* name_param;  // list filter: "project_name"
};

constexpr KindInfo kKinds[] = {
    {ObjectKind::kProject, "/v1/project", "project_name"},
    {ObjectKind::kExperiment, "/v1/experiment", "experiment_name"},
    {ObjectKind::kDataset, "/v1/dataset", "dataset_name"},
};

inline constexpr std::size_t list_limit_max = 1000;

// Fields a client may set on create or PATCH; the rest (id, org, created) are ours.
StatusOr<bj::object> SettableData(const bj::object& body, ObjectKind kind) {
  bj::object data;
  if (kind == ObjectKind::kProject) return data;
  for (const auto& [k, v] : body) {
    if (k == "description" || k == "metadata" || k == "tags" || k == "public" || k == "repo_info" ||
        k == "base_exp_id" || k == "dataset_id" || k == "dataset_version") {
      data[k] = v;
    }
  }
  if (const bj::value* m = data.if_contains("metadata"); m && !m->is_null() && !m->is_object()) {
    return InvalidArgument("'metadata' must be an object");
  }
  return data;
}

struct Created {
  control::CatalogObject object;
  bool existed = false;  // get-or-create found it: the x-bt-found-existing header
};

StatusOr<bool> Exists(catalog::Catalog& catalog, const std::string& org_id, ObjectKind kind,
                      const std::string& project_id, const std::string& name) {
  catalog::ObjectFilter filter{.name = name};
  if (kind != ObjectKind::kProject) filter.project_id = project_id;
  ASSIGN_OR_RETURN(auto found, catalog.ListObjects(org_id, kind, filter));
  return !found.empty();
}

// POST /v1/{project,experiment,dataset}: get-or-create by name (experiments: a new,
// de-duplicated name when `ensure_new`).
StatusOr<Created> CreateFromBody(const AppDeps& deps, ObjectKind kind, const std::string& org_id,
                                 const bj::object& body) {
  ASSIGN_OR_RETURN(auto name, OptString(body, "name"));
  ASSIGN_OR_RETURN(bj::object data, SettableData(body, kind));
  Created out;
  if (kind == ObjectKind::kProject) {
    if (!name) return InvalidArgument("'name' is required");
    ASSIGN_OR_RETURN(out.existed, Exists(deps.catalog, org_id, kind, "", *name));
    ASSIGN_OR_RETURN(out.object, deps.registry.RegisterProject(org_id, *name));
    return out;
  }
  ASSIGN_OR_RETURN(std::string pid, RequireString(body, "project_id"));
  ASSIGN_OR_RETURN(auto project, deps.registry.Get(org_id, ObjectKind::kProject, pid));
  if (kind == ObjectKind::kDataset) {
    std::string dataset_name = name && !name->empty() ? *name : "dataset";
    ASSIGN_OR_RETURN(out.existed, Exists(deps.catalog, org_id, kind, pid, dataset_name));
    ASSIGN_OR_RETURN(out.object,
                     deps.registry.RegisterDataset(org_id, project, dataset_name, data));
    return out;
  }
  ASSIGN_OR_RETURN(auto ensure_new, OptBool(body, "ensure_new"));
  control::ExperimentSpec spec{.name = name, .update = !ensure_new.value_or(false), .data = data};
  if (spec.update && name) {
    ASSIGN_OR_RETURN(out.existed, Exists(deps.catalog, org_id, kind, pid, *name));
  }
  ASSIGN_OR_RETURN(out.object, deps.registry.RegisterExperiment(org_id, project, spec));
  return out;
}

}  // namespace

void App::AddRestRoutes() {
  router_.Add({"GET", "/v1", false, [](const Call&) {
                 Response r;
                 r.content_type = "text/plain";
                 r.body = "Hello, World!";
                 return r;
               }});
  for (const KindInfo& k : kKinds) {
    std::string base = k.path;
    router_.Add({"POST", base, false, [this, k](const Call& c) -> Response {
                   auto body = BodyObject(c.request);
                   if (!body.ok()) return Error(body.status());
                   auto made = CreateFromBody(deps_, k.kind, c.principal.org_id, *body);
                   if (!made.ok()) return Error(made.status());
                   Response r = Json(ObjectToJson(made->object));
                   if (made->existed) r.headers.emplace_back("x-bt-found-existing", "true");
                   return r;
                 }});
    router_.Add(
        {"GET", base, false, [this, k](const Call& c) -> Response {
           catalog::ObjectFilter filter;
           if (!c.request.Query(k.name_param).empty()) filter.name = c.request.Query(k.name_param);
           if (!c.request.Query("name").empty()) filter.name = c.request.Query("name");
           if (!c.request.Query("project_id").empty()) {
             filter.project_id = c.request.Query("project_id");
           }
           auto found = deps_.catalog.ListObjects(c.principal.org_id, k.kind, filter);
           if (!found.ok()) return Error(found.status());
           std::size_t limit = list_limit_max;
           if (!c.request.Query("limit").empty()) {
             limit = std::min<std::size_t>(
                 std::strtoull(c.request.Query("limit").c_str(), nullptr, 10), list_limit_max);
           }
           bj::array objects;
           // Newest first, as the REST API lists.
           for (auto it = found->rbegin(); it != found->rend() && objects.size() < limit; ++it) {
             objects.push_back(ObjectToJson(*it));
           }
           bj::object out;
           out["objects"] = std::move(objects);
           return Json(out);
         }});
    router_.Add({"GET", base + "/{}", false, [this, k](const Call& c) {
                   auto o = deps_.registry.Get(c.principal.org_id, k.kind, c.params[0]);
                   return o.ok() ? Json(ObjectToJson(*o)) : Error(o.status());
                 }});
    router_.Add({"PATCH", base + "/{}", false, [this, k](const Call& c) -> Response {
                   auto body = BodyObject(c.request);
                   if (!body.ok()) return Error(body.status());
                   auto o = deps_.registry.Get(c.principal.org_id, k.kind, c.params[0]);
                   if (!o.ok()) return Error(o.status());
                   auto name = OptString(*body, "name");
                   if (!name.ok()) return Error(name.status());
                   auto data = SettableData(*body, k.kind);
                   if (!data.ok()) return Error(data.status());
                   if (*name && !(*name)->empty()) o->name = **name;
                   for (const auto& [key, v] : *data) o->data[key] = v;
                   if (Status st = deps_.catalog.UpdateObject(*o); !st.ok()) return Error(st);
                   return Json(ObjectToJson(*o));
                 }});
    router_.Add({"DELETE", base + "/{}", false, [this, k](const Call& c) -> Response {
                   auto o = deps_.registry.Get(c.principal.org_id, k.kind, c.params[0]);
                   if (!o.ok()) return Error(o.status());
                   Status st = deps_.catalog.DeleteObject(c.principal.org_id, k.kind, c.params[0]);
                   if (!st.ok()) return Error(st);
                   bj::object out = ObjectToJson(*o);
                   out["deleted_at"] = FormatIsoTime(NowMicros());
                   return Json(out);
                 }});
  }
}

}  // namespace arbor::api
