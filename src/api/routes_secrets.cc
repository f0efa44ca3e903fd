// /v1/ai_secret (protocol §5): org- or project-level LLM provider secrets. Responses carry
// metadata and a masked preview_secret; no response or error ever contains the value.
#include <set>

#include "api/app.h"
#include "api/fields.h"
#include "base/util.h"

namespace arbor::api {

namespace bj = boost::json;
using control::SecretToJson;

namespace {

// The body's fields, type-checked. Error messages name fields, never echo values.
StatusOr<control::SecretInput> ParseSecretInput(catalog::Catalog& catalog,
                                                const std::string& org_id, const bj::object& body) {
  control::SecretInput in;
  ASSIGN_OR_RETURN(in.name, OptString(body, "name"));
  ASSIGN_OR_RETURN(in.secret, OptString(body, "secret"));
  if (const bj::value* t = body.if_contains("type")) {
    if (!t->is_null() && !t->is_string()) return InvalidArgument("'type' must be a string");
    in.type = *t;
  }
  if (const bj::value* m = body.if_contains("metadata")) {
    if (!m->is_null() && !m->is_object()) return InvalidArgument("'metadata' must be an object");
    in.metadata = *m;
  }
  ASSIGN_OR_RETURN(auto project_id, OptString(body, "project_id"));
  if (project_id && !project_id->empty()) {
    RETURN_IF_ERROR(catalog.GetObject(org_id, catalog::ObjectKind::kProject, *project_id).status());
    in.project_id = *project_id;
  }
  return in;
}

Status NoMasterKey() {
  return FailedPrecondition("AI secrets are disabled: the server has no master key");
}

bool Matches(const catalog::AiSecretRecord& r, const Request& request,
             const std::set<std::string>& ids) {
  if (!ids.empty() && ids.count(r.id) == 0) return false;
  const std::string& name = request.Query("ai_secret_name");
  if (!name.empty() && r.name != name) return false;
  const std::string& type = request.Query("ai_secret_type");
  if (!type.empty() && !(r.type.is_string() && r.type.get_string() == type)) return false;
  const std::string& project = request.Query("project_id");
  return project.empty() || r.project_id == project;
}

}  // namespace

void App::AddSecretRoutes() {
  if (deps_.secret_box != nullptr) {
    ai_secrets_ = std::make_unique<control::AiSecrets>(deps_.catalog, *deps_.secret_box);
  }
  control::AiSecrets* secrets = ai_secrets_.get();
  const std::string base = "/v1/ai_secret";
  for (const char* method : {"POST", "PUT"}) {
    bool replace = std::string(method) == "PUT";
    router_.Add({method, base, false, [this, secrets, replace](const Call& c) -> Response {
                   if (secrets == nullptr) return Error(NoMasterKey());
                   auto body = BodyObject(c.request);
                   if (!body.ok()) return Error(body.status());
                   auto in = ParseSecretInput(deps_.catalog, c.principal.org_id, *body);
                   if (!in.ok()) return Error(in.status());
                   auto made = replace ? secrets->Replace(c.principal.org_id, *in)
                                       : secrets->Create(c.principal.org_id, *in);
                   if (!made.ok()) return Error(made.status());
                   Response r = Json(SecretToJson(made->record));
                   if (made->existed && !replace) {
                     r.headers.emplace_back("x-bt-found-existing", "true");
                   }
                   return r;
                 }});
  }
  router_.Add({"GET", base, false, [secrets](const Call& c) -> Response {
                 if (secrets == nullptr) return Error(NoMasterKey());
                 auto all = secrets->List(c.principal.org_id);
                 if (!all.ok()) return Error(all.status());
                 bj::object out;
                 bj::array objects;
                 const std::string& org_name = c.request.Query("org_name");
                 std::set<std::string> ids = SplitCommaList(c.request.Query("ids"));
                 if (org_name.empty() || org_name == c.principal.org_name) {
                   for (auto it = all->rbegin(); it != all->rend(); ++it) {  // newest first
                     if (Matches(*it, c.request, ids)) objects.push_back(SecretToJson(*it));
                   }
                 }
                 out["objects"] = std::move(objects);
                 return Json(out);
               }});
  // DELETE by name (OpenAPI deleteAiSecret: body {name, org_name?}).
  router_.Add({"DELETE", base, false, [this, secrets](const Call& c) -> Response {
                 if (secrets == nullptr) return Error(NoMasterKey());
                 auto body = BodyObject(c.request);
                 if (!body.ok()) return Error(body.status());
                 auto in = ParseSecretInput(deps_.catalog, c.principal.org_id, *body);
                 if (!in.ok()) return Error(in.status());
                 if (!in->name) return Error(InvalidArgument("'name' is required"));
                 auto found = secrets->FindByName(c.principal.org_id, in->project_id.value_or(""),
                                                  *in->name);
                 if (!found.ok()) return Error(found.status());
                 if (!*found) return Error(NotFound("no AI secret named '" + *in->name + "'"));
                 auto gone = secrets->Delete(c.principal.org_id, (*found)->id);
                 return gone.ok() ? Json(SecretToJson(*gone)) : Error(gone.status());
               }});
  router_.Add({"GET", base + "/{}", false, [secrets](const Call& c) -> Response {
                 if (secrets == nullptr) return Error(NoMasterKey());
                 auto r = secrets->Get(c.principal.org_id, c.params[0]);
                 return r.ok() ? Json(SecretToJson(*r)) : Error(r.status());
               }});
  router_.Add({"PATCH", base + "/{}", false, [this, secrets](const Call& c) -> Response {
                 if (secrets == nullptr) return Error(NoMasterKey());
                 auto body = BodyObject(c.request);
                 if (!body.ok()) return Error(body.status());
                 auto in = ParseSecretInput(deps_.catalog, c.principal.org_id, *body);
                 if (!in.ok()) return Error(in.status());
                 if (in->project_id) {
                   return Error(InvalidArgument("'project_id' cannot be changed"));
                 }
                 auto r = secrets->Patch(c.principal.org_id, c.params[0], *in);
                 return r.ok() ? Json(SecretToJson(*r)) : Error(r.status());
               }});
  router_.Add({"DELETE", base + "/{}", false, [secrets](const Call& c) -> Response {
                 if (secrets == nullptr) return Error(NoMasterKey());
                 auto r = secrets->Delete(c.principal.org_id, c.params[0]);
                 return r.ok() ? Json(SecretToJson(*r)) : Error(r.status());
               }});
}

}  // namespace arbor::api
