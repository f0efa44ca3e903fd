// The SDKs' registration routes (protocol §1.2, §2) and health checks.
#include "api/app.h"
#include "api/fields.h"
#include "base/util.h"

namespace arbor::api {

namespace bj = boost::json;
using catalog::ObjectKind;
using control::ObjectToJson;

namespace {

// Bodies may name the org; it must be the caller's own.
Status CheckOrg(const bj::object& body, const control::Principal& who) {
  ASSIGN_OR_RETURN(auto org_id, OptString(body, "org_id"));
  if (org_id && *org_id != who.org_id) return PermissionDenied("org_id is not the caller's org");
  ASSIGN_OR_RETURN(auto org_name, OptString(body, "org_name"));
  if (org_name && *org_name != who.org_name) {
    return PermissionDenied("org_name is not the caller's org");
  }
  return Status::Ok();
}

StatusOr<control::CatalogObject> ProjectFromBody(control::Registry& registry,
                                                 const bj::object& body,
                                                 const control::Principal& who) {
  RETURN_IF_ERROR(CheckOrg(body, who));
  ASSIGN_OR_RETURN(auto id, OptString(body, "project_id"));
  ASSIGN_OR_RETURN(auto name, OptString(body, "project_name"));
  return registry.ResolveProject(who.org_id, id.value_or(""), name.value_or(""));
}

// Copies optional, typed experiment fields from a register body into catalog data.
StatusOr<bj::object> ExperimentData(const bj::object& body) {
  bj::object data;
  for (const char* key : {"description", "base_exp_id", "dataset_id", "dataset_version"}) {
    ASSIGN_OR_RETURN(auto v, OptString(body, key));
    if (v) data[key] = *v;
  }
  for (const char* key : {"metadata", "repo_info"}) {
    ASSIGN_OR_RETURN(auto v, OptObject(body, key));
    if (v) data[key] = *v;
  }
  ASSIGN_OR_RETURN(auto is_public, OptBool(body, "public"));
  if (is_public) data["public"] = *is_public;
  if (const bj::value* tags = body.if_contains("tags"); tags && !tags->is_null()) {
    if (!tags->is_array()) return InvalidArgument("'tags' must be an array of strings");
    data["tags"] = *tags;
  }
  return data;
}

}  // namespace

void App::AddControlRoutes() {
  auto health = [](const Call&) {
    bj::object o;
    o["status"] = "ok";
    return Json(o);
  };
  router_.Add({"GET", "/", true, [this](const Call&) {
                 bj::object o;
                 o["name"] = "arbor";
                 o["version"] = deps_.version;
                 return Json(o);
               }});
  router_.Add({"GET", "/healthz", true, health});
  router_.Add({"GET", "/readyz", true, health});

  router_.Add({"POST", "/api/apikey/login", false, [](const Call& c) {
                 bj::object org;
                 org["id"] = c.principal.org_id;
                 org["name"] = c.principal.org_name;
                 org["api_url"] = c.request.Origin();
                 org["proxy_url"] = c.request.Origin();
                 org["git_metadata"] = nullptr;
                 bj::object out;
                 out["org_info"] = bj::array{org};
                 return Json(out);
               }});

  router_.Add({"POST", "/api/project/register", false, [this](const Call& c) {
                 auto body = BodyObject(c.request);
                 if (!body.ok()) return Error(body.status());
                 auto project = ProjectFromBody(deps_.registry, *body, c.principal);
                 if (!project.ok()) return Error(project.status());
                 bj::object out;
                 out["project"] = ObjectToJson(*project);
                 return Json(out);
               }});

  router_.Add({"GET", "/api/project", false, [this](const Call& c) {
                 auto p = deps_.registry.Get(c.principal.org_id, ObjectKind::kProject,
                                             c.request.Query("id"));
                 return p.ok() ? Json(ObjectToJson(*p)) : Error(p.status());
               }});

  router_.Add(
      {"POST", "/api/experiment/register", false, [this](const Call& c) -> Response {
         auto body = BodyObject(c.request);
         if (!body.ok()) return Error(body.status());
         auto project = ProjectFromBody(deps_.registry, *body, c.principal);
         if (!project.ok()) return Error(project.status());
         auto name = OptString(*body, "experiment_name");
         auto update = OptBool(*body, "update");
         auto data = ExperimentData(*body);
         if (!name.ok()) return Error(name.status());
         if (!update.ok()) return Error(update.status());
         if (!data.ok()) return Error(data.status());
         auto base_name = OptString(*body, "base_experiment");
         if (base_name.ok() && base_name->has_value()) {
           auto base = deps_.catalog.ListObjects(c.principal.org_id, ObjectKind::kExperiment,
                                                 {.project_id = project->id, .name = **base_name});
           if (!base.ok() || base->empty()) {
             return Error(InvalidArgument("base experiment '" + **base_name + "' not found"));
           }
           (*data)["base_exp_id"] = base->front().id;
         }
         control::ExperimentSpec spec{
             .name = *name, .update = update->value_or(false), .data = std::move(*data)};
         auto exp = deps_.registry.RegisterExperiment(c.principal.org_id, *project, spec);
         if (!exp.ok()) return Error(exp.status());
         bj::object out;
         out["project"] = ObjectToJson(*project);
         out["experiment"] = ObjectToJson(*exp);
         return Json(out);
       }});

  router_.Add({"POST", "/api/experiment/get", false, [this](const Call& c) -> Response {
                 auto body = BodyObject(c.request);
                 if (!body.ok()) return Error(body.status());
                 if (Status st = CheckOrg(*body, c.principal); !st.ok()) return Error(st);
                 auto pid = OptString(*body, "project_id");
                 auto pname = OptString(*body, "project_name");
                 auto ename = OptString(*body, "experiment_name");
                 if (!pid.ok() || !pname.ok() || !ename.ok()) {
                   return Error(
                       InvalidArgument("project_id, project_name and experiment_name "
                                       "must be strings"));
                 }
                 bj::array out;
                 catalog::ObjectFilter filter{.name = *ename};
                 if (*pid) {
                   filter.project_id = **pid;
                 } else if (*pname) {
                   auto projects = deps_.catalog.ListObjects(
                       c.principal.org_id, ObjectKind::kProject, {.name = **pname});
                   if (!projects.ok() || projects->empty()) return Json(out);
                   filter.project_id = projects->front().id;
                 }
                 auto found =
                     deps_.catalog.ListObjects(c.principal.org_id, ObjectKind::kExperiment, filter);
                 if (!found.ok()) return Error(found.status());
                 for (const auto& e : *found) out.push_back(ObjectToJson(e));
                 return Json(out);
               }});

  router_.Add({"POST", "/api/dataset/register", false, [this](const Call& c) -> Response {
                 auto body = BodyObject(c.request);
                 if (!body.ok()) return Error(body.status());
                 auto project = ProjectFromBody(deps_.registry, *body, c.principal);
                 if (!project.ok()) return Error(project.status());
                 auto name = OptString(*body, "dataset_name");
                 auto description = OptString(*body, "description");
                 auto metadata = OptObject(*body, "metadata");
                 if (!name.ok()) return Error(name.status());
                 if (!description.ok()) return Error(description.status());
                 if (!metadata.ok()) return Error(metadata.status());
                 bj::object data;
                 if (*description) data["description"] = **description;
                 if (*metadata) data["metadata"] = **metadata;
                 auto ds = deps_.registry.RegisterDataset(c.principal.org_id, *project,
                                                          name->value_or(""), data);
                 if (!ds.ok()) return Error(ds.status());
                 bj::object out;
                 out["project"] = ObjectToJson(*project);
                 out["dataset"] = ObjectToJson(*ds);
                 return Json(out);
               }});

  router_.Add({"POST", "/api/base_experiment/get_id", false, [this](const Call& c) -> Response {
                 auto body = BodyObject(c.request);
                 if (!body.ok()) return Error(body.status());
                 auto id = RequireString(*body, "id");
                 if (!id.ok()) return Error(id.status());
                 auto base = deps_.registry.BaseExperiment(c.principal.org_id, *id);
                 if (!base.ok()) return Error(base.status());
                 // The SDKs read HTTP 400 (and only 400) as "there is no baseline".
                 if (!base->has_value()) return Error(FailedPrecondition("no base experiment"));
                 bj::object out;
                 out["base_exp_id"] = (*base)->id;
                 out["base_exp_name"] = (*base)->name;
                 return Json(out);
               }});

  router_.Add(
      {"POST", "/api/self/get_object_info", false, [this](const Call& c) -> Response {
         auto body = BodyObject(c.request);
         if (!body.ok()) return Error(body.status());
         auto type = RequireString(*body, "object_type");
         if (!type.ok()) return Error(type.status());
         ObjectKind kind = *type == "dataset"      ? ObjectKind::kDataset
                           : *type == "experiment" ? ObjectKind::kExperiment
                                                   : ObjectKind::kProject;
         const bj::value* ids = body->if_contains("object_ids");
         if (ids == nullptr || !ids->is_array()) {
           return Error(InvalidArgument("'object_ids' must be an array"));
         }
         bj::array out;
         for (const auto& id : ids->get_array()) {
           if (!id.is_string()) continue;
           auto o = deps_.registry.Get(c.principal.org_id, kind, std::string(id.get_string()));
           if (!o.ok()) continue;
           bj::object info;
           info["object_id"] = o->id;
           info["object_name"] = o->name;
           bj::object parent;
           if (kind != ObjectKind::kProject) {
             auto p = deps_.registry.Get(c.principal.org_id, ObjectKind::kProject, o->project_id);
             bj::object project;
             project["id"] = o->project_id;
             project["name"] = p.ok() ? bj::value(p->name) : bj::value(nullptr);
             parent["project"] = project;
           }
           info["parent_cols"] = parent;
           out.push_back(info);
         }
         return Json(out);
       }});
}

}  // namespace arbor::api
