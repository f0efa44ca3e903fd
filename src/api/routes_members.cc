// /v1/organization/members (protocol §5): GET lists the org's users with their roles; PATCH
// invites existing users (invite_users: ids/emails, role), removes them (remove_users) and
// changes roles (update_roles: ids/emails, role). Only owners touch owners, and an org always
// keeps one owner. /v1/service_token: API keys that act for no user, with an explicit role no
// higher than their creator's.
#include <algorithm>
#include <map>

#include "api/app.h"
#include "api/fields.h"
#include "api/routes_access.h"
#include "base/limits.h"
#include "base/util.h"

namespace arbor::api {

namespace bj = boost::json;
using control::Role;

namespace {

Status CheckOrgFields(const bj::object& body, const control::Principal& who) {
  ASSIGN_OR_RETURN(auto org_id, OptString(body, "org_id"));
  ASSIGN_OR_RETURN(auto org_name, OptString(body, "org_name"));
  if ((org_id && *org_id != who.org_id) || (org_name && *org_name != who.org_name)) {
    return NotFound("organization not found");
  }
  return Status::Ok();
}

// The user ids a {ids, emails} object names; NotFound for unknown users.
StatusOr<std::vector<std::string>> UsersOf(catalog::Catalog& catalog, const bj::object& part) {
  std::vector<std::string> out;
  for (const char* field : {"ids", "emails"}) {
    const bj::value* v = part.if_contains(field);
    if (v == nullptr || v->is_null()) continue;
    if (!v->is_array()) return InvalidArgument(std::string("'") + field + "' must be an array");
    for (const bj::value& item : v->get_array()) {
      if (!item.is_string()) return InvalidArgument(std::string("'") + field + "' holds strings");
      std::string s(item.get_string());
      auto user =
          std::string_view(field) == "ids" ? catalog.GetUser(s) : catalog.FindUserByEmail(s);
      if (!user.ok()) return NotFound("no user " + s);
      out.push_back(user->id);
    }
  }
  return out;
}

struct MemberChange {
  std::map<std::string, std::string> invite;  // user id -> role
  std::map<std::string, std::string> update;  // user id -> role
  std::vector<std::string> remove;
};

StatusOr<std::string> RoleField(const bj::object& part, bool required) {
  ASSIGN_OR_RETURN(auto role, OptString(part, "role"));
  if (!role && !required) return std::string("viewer");
  if (!role || control::ParseRole(*role) == Role::kNone) {
    return InvalidArgument("'role' must be one of owner, admin, editor, viewer");
  }
  return *role;
}

// Reads the PATCH body and checks it against the members as they are: nothing is applied
// until everything is known to be allowed.
StatusOr<MemberChange> PlanChange(catalog::Catalog& catalog, const control::Principal& who,
                                  const bj::object& body) {
  RETURN_IF_ERROR(CheckOrgFields(body, who));
  ASSIGN_OR_RETURN(auto members, catalog.ListOrgMembers(who.org_id));
  std::map<std::string, std::string> roles;
  for (const auto& m : members) roles[m.user_id] = m.role;
  MemberChange plan;
  for (const char* part : {"invite_users", "update_roles", "remove_users"}) {
    ASSIGN_OR_RETURN(auto section, OptObject(body, part));
    if (!section) continue;
    ASSIGN_OR_RETURN(auto users, UsersOf(catalog, *section));
    std::string_view what = part;
    std::string role;
    if (what != "remove_users") {
      ASSIGN_OR_RETURN(role, RoleField(*section, what == "update_roles"));
    }
    for (const std::string& u : users) {
      const bool member = roles.count(u) > 0;
      if (what == "invite_users" && member) return AlreadyExists("user " + u + " is a member");
      if (what != "invite_users" && !member) return NotFound("user " + u + " is not a member");
      const bool touches_owner = role == "owner" || (member && roles[u] == "owner");
      if (touches_owner && who.role != "owner") {
        return PermissionDenied("only owners may add, change or remove owners");
      }
      if (what == "invite_users") plan.invite[u] = role;
      if (what == "update_roles") plan.update[u] = role;
      if (what == "remove_users") plan.remove.push_back(u);
    }
  }
  // Apply the plan to a copy: the org must keep an owner.
  for (const auto& [u, r] : plan.invite) roles[u] = r;
  for (const auto& [u, r] : plan.update) roles[u] = r;
  for (const auto& u : plan.remove) roles.erase(u);
  bool had_owner =
      std::any_of(members.begin(), members.end(), [](const auto& m) { return m.role == "owner"; });
  bool has_owner =
      std::any_of(roles.begin(), roles.end(), [](const auto& kv) { return kv.second == "owner"; });
  if (had_owner && !has_owner) return InvalidArgument("the org must keep at least one owner");
  return plan;
}

Response ListMembers(catalog::Catalog& catalog, const Call& c) {
  auto members = catalog.ListOrgMembers(c.principal.org_id);
  if (!members.ok()) return Error(members.status());
  bj::array objects;
  for (const auto& m : *members) {
    auto user = catalog.GetUser(m.user_id);
    objects.push_back(bj::object{{"id", m.user_id},
                                 {"user_id", m.user_id},
                                 {"org_id", m.org_id},
                                 {"email", user.ok() ? bj::value(user->email) : bj::value(nullptr)},
                                 {"name", user.ok() ? bj::value(user->name) : bj::value(nullptr)},
                                 {"role", m.role},
                                 {"created", m.created}});
  }
  return Json(bj::object{{"objects", std::move(objects)}});
}

bj::object TokenJson(const catalog::ApiKey& key) {
  return bj::object{{"id", key.id},
                    {"object_type", "service_token"},
                    {"org_id", key.org_id},
                    {"name", key.name},
                    {"created", key.created},
                    {"preview_name", nullptr},
                    {"service_account_id", key.id},
                    {"role", key.role}};
}

StatusOr<catalog::ApiKey> OwnToken(catalog::Catalog& catalog, const std::string& org_id,
                                   const std::string& id) {
  ASSIGN_OR_RETURN(auto keys, catalog.ListApiKeys());
  for (auto& k : keys) {
    if (k.id == id && k.org_id == org_id && !k.revoked && k.user_id.empty() && !k.role.empty()) {
      return std::move(k);
    }
  }
  return NotFound("no service token with id " + id);
}

// POST makes a token; PUT replaces the live token of the same name (revoked, a new secret
// issued under the given role) or makes one.
Response CreateToken(catalog::Catalog& catalog, control::Auth& auth, const Call& c, bool replace) {
  auto body = BodyObject(c.request);
  if (!body.ok()) return Error(body.status());
  if (Status st = CheckOrgFields(*body, c.principal); !st.ok()) return Error(st);
  auto name = RequireString(*body, "name");
  if (!name.ok()) return Error(name.status());
  if (name->empty() || name->size() > limits::api_key_name_bytes_max) {
    return Error(InvalidArgument("'name' must be 1 to " +
                                 std::to_string(limits::api_key_name_bytes_max) + " bytes"));
  }
  auto role = RoleField(*body, false);
  if (!role.ok()) return Error(role.status());
  if (control::ParseRole(*role) > control::ParseRole(c.principal.role)) {
    return Error(PermissionDenied("a service token cannot have a higher role than its creator"));
  }
  if (replace) {
    auto keys = catalog.ListApiKeys();
    if (!keys.ok()) return Error(keys.status());
    for (const auto& k : *keys) {
      if (k.org_id != c.principal.org_id || k.name != *name || k.revoked || !k.user_id.empty() ||
          k.role.empty()) {
        continue;
      }
      if (control::ParseRole(k.role) > control::ParseRole(c.principal.role)) {
        return Error(PermissionDenied("a service token with a higher role than the caller's"));
      }
      if (Status st = auth.RevokeKey(c.principal.org_id, k.id); !st.ok()) return Error(st);
    }
  }
  auto made =
      auth.CreateKey(control::KeySpec{.org_id = c.principal.org_id, .name = *name, .role = *role});
  if (!made.ok()) return Error(made.status());
  auto key = OwnToken(catalog, c.principal.org_id, made->id);
  if (!key.ok()) return Error(key.status());
  bj::object out = TokenJson(*key);
  out["key"] = made->secret;  // the only time the secret is shown
  return Json(out);
}

}  // namespace

void AddMemberRoutes(Router& router, catalog::Catalog& catalog, control::Auth& auth) {
  router.Add({"GET", "/v1/organization/members", false,
              [&catalog](const Call& c) { return ListMembers(catalog, c); }});
  router.Add(
      {"PATCH", "/v1/organization/members", false, [&catalog, &auth](const Call& c) -> Response {
         auto body = BodyObject(c.request);
         if (!body.ok()) return Error(body.status());
         auto plan = PlanChange(catalog, c.principal, *body);
         if (!plan.ok()) return Error(plan.status());
         const std::string& org = c.principal.org_id;
         for (const auto& [u, r] : plan->invite) {
           if (Status st = catalog.AddOrgMember(org, u, r); !st.ok()) return Error(st);
         }
         for (const auto& [u, r] : plan->update) {
           if (Status st = catalog.SetOrgMemberRole(org, u, r); !st.ok()) return Error(st);
         }
         for (const auto& u : plan->remove) {
           if (Status st = catalog.RemoveOrgMember(org, u); !st.ok()) return Error(st);
         }
         auth.ForgetOrg(org);
         return ListMembers(catalog, c);
       }});

  router.Add({"POST", "/v1/service_token", false,
              [&catalog, &auth](const Call& c) { return CreateToken(catalog, auth, c, false); }});
  router.Add({"PUT", "/v1/service_token", false,
              [&catalog, &auth](const Call& c) { return CreateToken(catalog, auth, c, true); }});
  router.Add({"GET", "/v1/service_token", false, [&catalog](const Call& c) -> Response {
                auto keys = catalog.ListApiKeys();
                if (!keys.ok()) return Error(keys.status());
                const std::string& name = c.request.Query("service_token_name");
                bj::array objects;
                for (auto it = keys->rbegin(); it != keys->rend(); ++it) {
                  if (it->org_id != c.principal.org_id || it->revoked || !it->user_id.empty() ||
                      it->role.empty() || (!name.empty() && it->name != name)) {
                    continue;
                  }
                  objects.push_back(TokenJson(*it));
                }
                return Json(bj::object{{"objects", std::move(objects)}});
              }});
  router.Add({"GET", "/v1/service_token/{}", false, [&catalog](const Call& c) -> Response {
                auto key = OwnToken(catalog, c.principal.org_id, c.params[0]);
                return key.ok() ? Json(TokenJson(*key)) : Error(key.status());
              }});
  router.Add(
      {"DELETE", "/v1/service_token/{}", false, [&catalog, &auth](const Call& c) -> Response {
         auto key = OwnToken(catalog, c.principal.org_id, c.params[0]);
         if (!key.ok()) return Error(key.status());
         if (Status st = auth.RevokeKey(c.principal.org_id, key->id); !st.ok()) {
           return Error(st);
         }
         return Json(TokenJson(*key));
       }});
}

}  // namespace arbor::api
