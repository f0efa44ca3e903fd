// /v1/organization (the caller's org: list, get, rename) and /v1/api_key (the caller's org's
// keys: list, get, create, revoke). A created key's secret is in the create response only;
// the catalog keeps its SHA-256.
#include "api/app.h"
#include "api/fields.h"
#include "base/limits.h"

namespace arbor::api {

namespace bj = boost::json;

namespace {

bj::object OrgJson(const catalog::Org& org, const Request& request) {
  return bj::object{{"id", org.id},
                    {"name", org.name},
                    {"api_url", request.Origin()},
                    {"proxy_url", request.Origin()},
                    {"realtime_url", nullptr},
                    {"is_universal_api", nullptr},
                    {"created", org.created}};
}

bj::object KeyJson(const catalog::ApiKey& key) {
  bj::object out{{"id", key.id},
                 {"org_id", key.org_id},
                 {"name", key.name},
                 {"created", key.created},
                 {"preview_name", nullptr},
                 {"user_id", nullptr},
                 {"user_email", nullptr},
                 {"user_given_name", nullptr},
                 {"user_family_name", nullptr},
                 // A user's key acts with the user's role; other keys with theirs (empty: owner).
                 {"role", key.user_id.empty() ? bj::value(key.role.empty() ? "owner" : key.role)
                                              : bj::value(nullptr)}};
  if (!key.user_id.empty()) out["user_id"] = key.user_id;
  return out;
}

// A new key acts for its creator: the creator's user, else the creator's role; an explicit
// `role` (at most the creator's) makes a key with that role and no user.
StatusOr<control::KeySpec> KeySpecFor(const bj::object& body, const control::Principal& who) {
  control::KeySpec spec{.org_id = who.org_id, .user_id = who.user_id};
  if (who.user_id.empty()) spec.role = who.role;
  ASSIGN_OR_RETURN(auto role, OptString(body, "role"));
  if (!role) return spec;
  if (control::ParseRole(*role) == control::Role::kNone) {
    return InvalidArgument("'role' must be one of owner, admin, editor, viewer");
  }
  if (control::ParseRole(*role) > control::ParseRole(who.role)) {
    return PermissionDenied("a key cannot have a higher role than its creator");
  }
  spec.user_id.clear();
  spec.role = *role;
  return spec;
}

StatusOr<std::string> BoundedName(const bj::object& body, std::size_t max) {
  ASSIGN_OR_RETURN(std::string name, RequireString(body, "name"));
  if (name.size() > max) {
    return InvalidArgument("'name' is longer than " + std::to_string(max) + " bytes");
  }
  return name;
}

// The caller's live key with that id; NotFound for revoked keys and other orgs' keys.
StatusOr<catalog::ApiKey> OwnKey(catalog::Catalog& catalog, const std::string& org_id,
                                 const std::string& id) {
  ASSIGN_OR_RETURN(auto keys, catalog.ListApiKeys());
  for (auto& k : keys) {
    if (k.id == id && k.org_id == org_id && !k.revoked) return std::move(k);
  }
  return NotFound("no API key with id " + id);
}

}  // namespace

void App::AddOrgRoutes() {
  router_.Add({"GET", "/v1/organization", false, [this](const Call& c) -> Response {
                 auto org = deps_.catalog.GetOrg(c.principal.org_id);
                 if (!org.ok()) return Error(org.status());
                 const std::string& name = c.request.Query("org_name");
                 bj::array objects;
                 if (name.empty() || name == org->name) {
                   objects.push_back(OrgJson(*org, c.request));
                 }
                 return Json(bj::object{{"objects", std::move(objects)}});
               }});
  router_.Add({"GET", "/v1/organization/{}", false, [this](const Call& c) -> Response {
                 if (c.params[0] != c.principal.org_id) {
                   return Error(NotFound("organization " + c.params[0] + " not found"));
                 }
                 auto org = deps_.catalog.GetOrg(c.principal.org_id);
                 return org.ok() ? Json(OrgJson(*org, c.request)) : Error(org.status());
               }});
  router_.Add({"PATCH", "/v1/organization/{}", false, [this](const Call& c) -> Response {
                 if (c.params[0] != c.principal.org_id) {
                   return Error(NotFound("organization " + c.params[0] + " not found"));
                 }
                 auto body = BodyObject(c.request);
                 if (!body.ok()) return Error(body.status());
                 auto name = BoundedName(*body, limits::org_name_bytes_max);
                 if (!name.ok()) return Error(name.status());
                 if (Status st = deps_.auth.RenameOrg(c.principal.org_id, *name); !st.ok()) {
                   return Error(st);
                 }
                 auto org = deps_.catalog.GetOrg(c.principal.org_id);
                 return org.ok() ? Json(OrgJson(*org, c.request)) : Error(org.status());
               }});

  router_.Add({"GET", "/v1/api_key", false, [this](const Call& c) -> Response {
                 auto keys = deps_.catalog.ListApiKeys();
                 if (!keys.ok()) return Error(keys.status());
                 const std::string& name = c.request.Query("api_key_name");
                 const std::string& org_name = c.request.Query("org_name");
                 std::set<std::string> ids = SplitCommaList(c.request.Query("ids"));
                 bj::array objects;
                 for (auto it = keys->rbegin(); it != keys->rend(); ++it) {  // newest first
                   if (it->org_id != c.principal.org_id || it->revoked) continue;
                   if (!org_name.empty() && org_name != c.principal.org_name) continue;
                   if (!name.empty() && it->name != name) continue;
                   if (!ids.empty() && ids.count(it->id) == 0) continue;
                   objects.push_back(KeyJson(*it));
                 }
                 return Json(bj::object{{"objects", std::move(objects)}});
               }});
  router_.Add({"POST", "/v1/api_key", false, [this](const Call& c) -> Response {
                 auto body = BodyObject(c.request);
                 if (!body.ok()) return Error(body.status());
                 auto name = BoundedName(*body, limits::api_key_name_bytes_max);
                 if (!name.ok()) return Error(name.status());
                 auto spec = KeySpecFor(*body, c.principal);
                 if (!spec.ok()) return Error(spec.status());
                 spec->name = *name;
                 auto made = deps_.auth.CreateKey(*spec);
                 if (!made.ok()) return Error(made.status());
                 auto key = OwnKey(deps_.catalog, c.principal.org_id, made->id);
                 if (!key.ok()) return Error(key.status());
                 bj::object out = KeyJson(*key);
                 out["key"] = made->secret;  // the only time the secret is shown
                 return Json(out);
               }});
  router_.Add({"GET", "/v1/api_key/{}", false, [this](const Call& c) -> Response {
                 auto key = OwnKey(deps_.catalog, c.principal.org_id, c.params[0]);
                 return key.ok() ? Json(KeyJson(*key)) : Error(key.status());
               }});
  router_.Add({"DELETE", "/v1/api_key/{}", false, [this](const Call& c) -> Response {
                 auto key = OwnKey(deps_.catalog, c.principal.org_id, c.params[0]);
                 if (!key.ok()) return Error(key.status());
                 if (Status st = deps_.auth.RevokeKey(c.principal.org_id, key->id); !st.ok()) {
                   return Error(st);
                 }
                 return Json(KeyJson(*key));
               }});
}

}  // namespace arbor::api
