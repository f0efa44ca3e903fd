// /v1/role (custom roles: named permission sets, beside the four built-in roles) and
// /v1/group (named sets of users and groups), protocol §5. POST gets or creates by name, PUT
// creates or replaces, PATCH adds and removes members (add_member_users, remove_member_roles,
// ...). Every member id must exist in the caller's org; a bad request changes nothing.
#include <algorithm>
#include <set>

#include "api/app.h"
#include "api/fields.h"
#include "api/routes_access.h"
#include "base/limits.h"
#include "base/util.h"

namespace arbor::api {

namespace bj = boost::json;
using control::Role;

namespace {

struct KindSpec {
  const char* kind;        // catalog AccessObject kind
  const char* path;        // "/v1/role"
  const char* name_param;  // list filter: "role_name"
  const char* lists[2];    // member fields
};

constexpr KindSpec kRoleSpec{
    "role", "/v1/role", "role_name", {"member_permissions", "member_roles"}};
constexpr KindSpec kGroupSpec{
    "group", "/v1/group", "group_name", {"member_users", "member_groups"}};

constexpr const char* kObjectTypes[] = {"organization", "project",        "experiment", "dataset",
                                        "prompt",       "prompt_session", "group",      "role",
                                        "org_member",   "project_log",    "org_project"};

constexpr Role kBuiltins[] = {Role::kOwner, Role::kAdmin, Role::kEditor, Role::kViewer};

bool IsObjectType(std::string_view t) {
  return std::find(std::begin(kObjectTypes), std::end(kObjectTypes), t) != std::end(kObjectTypes);
}

bool IsBuiltin(const std::string& id) {
  return std::any_of(std::begin(kBuiltins), std::end(kBuiltins),
                     [&](Role r) { return control::BuiltinRoleId(r) == id; });
}

bj::object BuiltinJson(Role role) {
  bj::array perms;
  for (const std::string& p : control::PermissionNames()) {
    if (control::PermissionLevel(p) <= role) {
      perms.push_back(bj::object{{"permission", p}, {"restrict_object_type", nullptr}});
    }
  }
  return bj::object{{"id", control::BuiltinRoleId(role)},
                    {"org_id", nullptr},
                    {"user_id", nullptr},
                    {"created", nullptr},
                    {"name", control::RoleName(role)},
                    {"description", std::string("built-in ") + control::RoleName(role) + " role"},
                    {"deleted_at", nullptr},
                    {"builtin", true},
                    {"member_permissions", std::move(perms)},
                    {"member_roles", bj::array()}};
}

bj::object ToJson(const catalog::AccessObject& o, const KindSpec& k) {
  const bj::value* description = o.data.if_contains("description");
  bj::object out{
      {"id", o.id},           {"org_id", o.org_id},
      {"user_id", nullptr},   {"created", o.created},
      {"name", o.name},       {"description", description ? *description : bj::value(nullptr)},
      {"deleted_at", nullptr}};
  if (std::string_view(k.kind) == "role") out["builtin"] = false;
  for (const char* list : k.lists) {
    const bj::value* v = o.data.if_contains(list);
    out[list] = v && v->is_array() ? *v : bj::value(bj::array());
  }
  return out;
}

class Store {
 public:
  Store(catalog::Catalog& catalog, const std::string& org_id) : catalog_(catalog), org_(org_id) {}

  StatusOr<catalog::AccessObject> Get(const KindSpec& k, const std::string& id) {
    ASSIGN_OR_RETURN(auto found, catalog_.ListAccessObjects(org_, k.kind, id));
    if (id.empty() || found.empty())
      return NotFound(std::string("no ") + k.kind + " with id " + id);
    return std::move(found.front());
  }

  // One item of a member list, checked against the org; permissions are normalized.
  StatusOr<bj::value> Item(const char* list, const bj::value& v) {
    std::string_view field = list;
    if (field == "member_permissions") {
      if (!v.is_object()) return InvalidArgument("each member_permissions item must be an object");
      ASSIGN_OR_RETURN(std::string p, RequireString(v.get_object(), "permission"));
      if (control::PermissionLevel(p) == Role::kNone) {
        return InvalidArgument("unknown permission '" + p + "'");
      }
      ASSIGN_OR_RETURN(auto only, OptString(v.get_object(), "restrict_object_type"));
      if (only && !IsObjectType(*only)) {
        return InvalidArgument("unknown restrict_object_type '" + *only + "'");
      }
      return bj::value(
          bj::object{{"permission", p},
                     {"restrict_object_type", only ? bj::value(*only) : bj::value(nullptr)}});
    }
    if (!v.is_string()) return InvalidArgument(std::string("'") + list + "' must hold ids");
    std::string id(v.get_string());
    if (field == "member_users") {
      RETURN_IF_ERROR(CheckSubject(catalog_, org_, id));
    } else if (field == "member_roles") {
      if (!IsBuiltin(id)) RETURN_IF_ERROR(Get(kRoleSpec, id).status());
    } else {
      RETURN_IF_ERROR(Get(kGroupSpec, id).status());
    }
    return bj::value(id);
  }

  // A whole list field: an array of at most access_list_items_max valid items, deduplicated.
  StatusOr<bj::array> List(const char* list, const bj::value& v) {
    if (!v.is_array()) return InvalidArgument(std::string("'") + list + "' must be an array");
    if (v.get_array().size() > limits::access_list_items_max) {
      return InvalidArgument(std::string("'") + list + "' has too many items");
    }
    bj::array out;
    for (const bj::value& item : v.get_array()) {
      ASSIGN_OR_RETURN(bj::value checked, Item(list, item));
      if (std::find(out.begin(), out.end(), checked) == out.end()) out.push_back(checked);
    }
    return out;
  }

 private:
  catalog::Catalog& catalog_;
  std::string org_;
};

StatusOr<std::string> NameField(const bj::object& body) {
  ASSIGN_OR_RETURN(std::string name, RequireString(body, "name"));
  if (name.empty() || name.size() > limits::access_name_bytes_max) {
    return InvalidArgument("'name' must be 1 to " + std::to_string(limits::access_name_bytes_max) +
                           " bytes");
  }
  return name;
}

// Applies description and the whole member lists of a create/replace body onto `data`.
Status FillData(Store& store, const KindSpec& k, const bj::object& body, bj::object& data) {
  ASSIGN_OR_RETURN(auto description, OptString(body, "description"));
  if (description) data["description"] = *description;
  for (const char* list : k.lists) {
    const bj::value* v = body.if_contains(list);
    if (v == nullptr || v->is_null()) continue;
    ASSIGN_OR_RETURN(data[list], store.List(list, *v));
  }
  return Status::Ok();
}

// PATCH: name, description, and add_<list> / remove_<list> for each member list.
Status Patch(Store& store, const KindSpec& k, const bj::object& body, catalog::AccessObject& o) {
  if (body.contains("name")) {
    ASSIGN_OR_RETURN(o.name, NameField(body));
  }
  ASSIGN_OR_RETURN(auto description, OptString(body, "description"));
  if (description) o.data["description"] = *description;
  for (const char* list : k.lists) {
    bj::value* current = o.data.if_contains(list);
    bj::array items = current && current->is_array() ? current->get_array() : bj::array();
    if (const bj::value* add = body.if_contains(std::string("add_") + list);
        add && !add->is_null()) {
      ASSIGN_OR_RETURN(bj::array more, store.List(list, *add));
      for (auto& m : more) {
        if (std::find(items.begin(), items.end(), m) == items.end()) items.push_back(m);
      }
    }
    if (const bj::value* rm = body.if_contains(std::string("remove_") + list);
        rm && !rm->is_null()) {
      if (!rm->is_array())
        return InvalidArgument(std::string("'remove_") + list + "' must be an array");
      for (const auto& m : rm->get_array()) {
        items.erase(std::remove(items.begin(), items.end(), m), items.end());
      }
    }
    o.data[list] = std::move(items);
  }
  return Status::Ok();
}

Response Create(catalog::Catalog& catalog, const KindSpec& k, const Call& c, bool replace) {
  auto body = BodyObject(c.request);
  if (!body.ok()) return Error(body.status());
  auto name = NameField(*body);
  if (!name.ok()) return Error(name.status());
  Store store(catalog, c.principal.org_id);
  catalog::AccessObject o{.id = NewUuid(),
                          .org_id = c.principal.org_id,
                          .kind = k.kind,
                          .name = *name,
                          .created = FormatIsoTime(NowMicros())};
  if (Status st = FillData(store, k, *body, o.data); !st.ok()) return Error(st);
  auto all = catalog.ListAccessObjects(c.principal.org_id, k.kind, "");
  if (!all.ok()) return Error(all.status());
  auto same =
      std::find_if(all->begin(), all->end(), [&](const auto& x) { return x.name == *name; });
  if (same != all->end()) {
    if (!replace) {
      Response r = Json(ToJson(*same, k));
      r.headers.emplace_back("x-bt-found-existing", "true");
      return r;
    }
    o.id = same->id;
    o.created = same->created;
    if (Status st = catalog.UpdateAccessObject(o); !st.ok()) return Error(st);
    return Json(ToJson(o, k));
  }
  if (Status st = catalog.CreateAccessObject(o); !st.ok()) return Error(st);
  return Json(ToJson(o, k));
}

void AddKind(Router& router, catalog::Catalog& catalog, const KindSpec& k) {
  const bool roles = std::string_view(k.kind) == "role";
  const std::string base = k.path;
  router.Add(
      {"POST", base, false, [&catalog, k](const Call& c) { return Create(catalog, k, c, false); }});
  router.Add(
      {"PUT", base, false, [&catalog, k](const Call& c) { return Create(catalog, k, c, true); }});
  router.Add({"GET", base, false, [&catalog, k, roles](const Call& c) -> Response {
                auto found = catalog.ListAccessObjects(c.principal.org_id, k.kind, "");
                if (!found.ok()) return Error(found.status());
                const std::string& name = c.request.Query(k.name_param);
                std::set<std::string> ids = SplitCommaList(c.request.Query("ids"));
                auto keep = [&](const std::string& id, const std::string& n) {
                  return (name.empty() || n == name) && (ids.empty() || ids.count(id) > 0);
                };
                bj::array objects;
                if (roles) {
                  for (Role r : kBuiltins) {
                    if (keep(control::BuiltinRoleId(r), control::RoleName(r))) {
                      objects.push_back(BuiltinJson(r));
                    }
                  }
                }
                for (const auto& o : *found) {
                  if (keep(o.id, o.name)) objects.push_back(ToJson(o, k));
                }
                return Json(bj::object{{"objects", std::move(objects)}});
              }});
  router.Add({"GET", base + "/{}", false, [&catalog, k](const Call& c) -> Response {
                for (Role r : kBuiltins) {
                  if (c.params[0] == control::BuiltinRoleId(r) &&
                      std::string_view(k.kind) == "role") {
                    return Json(BuiltinJson(r));
                  }
                }
                auto o = Store(catalog, c.principal.org_id).Get(k, c.params[0]);
                return o.ok() ? Json(ToJson(*o, k)) : Error(o.status());
              }});
  router.Add({"PATCH", base + "/{}", false, [&catalog, k](const Call& c) -> Response {
                if (IsBuiltin(c.params[0])) {
                  return Error(InvalidArgument("built-in roles cannot be changed"));
                }
                auto body = BodyObject(c.request);
                if (!body.ok()) return Error(body.status());
                Store store(catalog, c.principal.org_id);
                auto o = store.Get(k, c.params[0]);
                if (!o.ok()) return Error(o.status());
                if (Status st = Patch(store, k, *body, *o); !st.ok()) return Error(st);
                if (Status st = catalog.UpdateAccessObject(*o); !st.ok()) return Error(st);
                return Json(ToJson(*o, k));
              }});
  router.Add({"DELETE", base + "/{}", false, [&catalog, k](const Call& c) -> Response {
                if (IsBuiltin(c.params[0])) {
                  return Error(InvalidArgument("built-in roles cannot be deleted"));
                }
                auto o = Store(catalog, c.principal.org_id).Get(k, c.params[0]);
                if (!o.ok()) return Error(o.status());
                Status st = catalog.DeleteAccessObject(c.principal.org_id, k.kind, o->id);
                if (!st.ok()) return Error(st);
                bj::object out = ToJson(*o, k);
                out["deleted_at"] = FormatIsoTime(NowMicros());
                return Json(out);
              }});
}

}  // namespace

Status CheckSubject(catalog::Catalog& catalog, const std::string& org_id,
                    const std::string& subject) {
  ASSIGN_OR_RETURN(auto members, catalog.ListOrgMembers(org_id));
  for (const auto& m : members) {
    if (m.user_id == subject) return Status::Ok();
  }
  ASSIGN_OR_RETURN(auto keys, catalog.ListApiKeys());
  for (const auto& k : keys) {
    if (k.id == subject && k.org_id == org_id && !k.revoked) return Status::Ok();
  }
  return NotFound("no user or service account with id " + subject + " in this org");
}

void AddRbacRoutes(Router& router, catalog::Catalog& catalog, control::Access&) {
  AddKind(router, catalog, kRoleSpec);
  AddKind(router, catalog, kGroupSpec);
}

}  // namespace arbor::api
