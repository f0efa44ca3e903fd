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
    router_.Add(
        {"POST", base, false, [this, k](const Call& c) -> Response {
           auto body = BodyObject(c.request);
           if (!body.ok()) return Error(body.status());
           auto name = OptString(*body, "name");
           if (!name.ok()) return Error(name.status());
           auto data = SettableData(*body, k.kind);
           if (!data.ok()) return Error(data.status());
           StatusOr<control::CatalogObject> made = InvalidArgument("unreachable");
           std::size_t before = 0;
           if (k.kind == ObjectKind::kProject) {
             if (!name->has_value()) return Error(InvalidArgument("'name' is required"));
             before = deps_.catalog.ListObjects(c.principal.org_id, k.kind, {.name = **name})
                          .value()
                          .size();
             made = deps_.registry.RegisterProject(c.principal.org_id, **name);
           } else {
             auto pid = RequireString(*body, "project_id");
             if (!pid.ok()) return Error(pid.status());
             auto project = deps_.registry.Get(c.principal.org_id, ObjectKind::kProject, *pid);
             if (!project.ok()) return Error(project.status());
             if (k.kind == ObjectKind::kDataset) {
               before = deps_.catalog
                            .ListObjects(c.principal.org_id, k.kind,
                                         {.project_id = *pid, .name = name->value_or("dataset")})
                            .value()
                            .size();
               made = deps_.registry.RegisterDataset(c.principal.org_id, *project,
                                                     name->value_or(""), *data);
             } else {
               auto ensure_new = OptBool(*body, "ensure_new");
               if (!ensure_new.ok()) return Error(ensure_new.status());
               control::ExperimentSpec spec{
                   .name = *name, .update = !ensure_new->value_or(false), .data = *data};
               if (name->has_value()) {
                 before = deps_.catalog
                              .ListObjects(c.principal.org_id, k.kind,
                                           {.project_id = *pid, .name = **name})
                              .value()
                              .size();
               }
               if (!spec.update) before = 0;
               made = deps_.registry.RegisterExperiment(c.principal.org_id, *project, spec);
             }
           }
           if (!made.ok()) return Error(made.status());
           Response r = Json(ObjectToJson(*made));
           if (before > 0) r.headers.emplace_back("x-bt-found-existing", "true");
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
