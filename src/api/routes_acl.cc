// /v1/acl (protocol §5): grants of a permission or a role on one object to a user (or service
// account) or a group. Create returns the identical ACL when one exists; list needs the
// object (object_type + object_id), list_org lists every ACL of the org; batch_update adds
// and removes in one request, checking everything first.
#include <optional>
#include <set>

#include "api/app.h"
#include "api/fields.h"
#include "api/routes_access.h"
#include "base/limits.h"
#include "base/util.h"

namespace arbor::api {

namespace bj = boost::json;
using catalog::AclRecord;
using catalog::ObjectKind;

namespace {

bj::value OrNull(const std::string& s) { return s.empty() ? bj::value(nullptr) : bj::value(s); }

bj::object AclJson(const AclRecord& a) {
  return bj::object{{"id", a.id},
                    {"object_type", a.object_type},
                    {"object_id", a.object_id},
                    {"_object_org_id", a.org_id},
                    {"user_id", OrNull(a.user_id)},
                    {"group_id", OrNull(a.group_id)},
                    {"permission", OrNull(a.permission)},
                    {"role_id", OrNull(a.role_id)},
                    {"restrict_object_type", OrNull(a.restrict_object_type)},
                    {"created", a.created}};
}

// The object an ACL names must be one of the org's (projects, experiments and datasets are
// looked up; the org itself by id); other object types are taken as given.
Status CheckObject(catalog::Catalog& catalog, const std::string& org_id, const AclRecord& a) {
  if (a.object_type == "organization") {
    if (a.object_id != org_id) return NotFound("no organization with id " + a.object_id);
    return Status::Ok();
  }
  for (auto kind : {ObjectKind::kProject, ObjectKind::kExperiment, ObjectKind::kDataset}) {
    if (a.object_type == catalog::ObjectKindName(kind)) {
      return catalog.GetObject(org_id, kind, a.object_id).status();
    }
  }
  return Status::Ok();
}

// Parses and checks one ACL body against the org. Every referenced id must exist.
StatusOr<AclRecord> ParseAcl(catalog::Catalog& catalog, control::Access& access,
                             const std::string& org_id, const bj::value& v) {
  if (!v.is_object()) return InvalidArgument("an ACL must be an object");
  const bj::object& body = v.get_object();
  AclRecord a{.id = NewUuid(), .org_id = org_id, .created = FormatIsoTime(NowMicros())};
  ASSIGN_OR_RETURN(a.object_type, RequireString(body, "object_type"));
  ASSIGN_OR_RETURN(a.object_id, RequireString(body, "object_id"));
  ASSIGN_OR_RETURN(auto user, OptString(body, "user_id"));
  ASSIGN_OR_RETURN(auto group, OptString(body, "group_id"));
  ASSIGN_OR_RETURN(auto permission, OptString(body, "permission"));
  ASSIGN_OR_RETURN(auto role, OptString(body, "role_id"));
  ASSIGN_OR_RETURN(auto only, OptString(body, "restrict_object_type"));
  if (user.has_value() == group.has_value()) {
    return InvalidArgument("exactly one of 'user_id' and 'group_id' is required");
  }
  if (permission.has_value() == role.has_value()) {
    return InvalidArgument("exactly one of 'permission' and 'role_id' is required");
  }
  if (permission && control::PermissionLevel(*permission) == control::Role::kNone) {
    return InvalidArgument("unknown permission '" + *permission + "'");
  }
  a.user_id = user.value_or("");
  a.group_id = group.value_or("");
  a.permission = permission.value_or("");
  a.role_id = role.value_or("");
  a.restrict_object_type = only.value_or("");
  if (a.object_id.empty() || a.object_type.empty()) {
    return InvalidArgument("'object_type' and 'object_id' must be non-empty");
  }
  RETURN_IF_ERROR(CheckObject(catalog, org_id, a));
  if (user) RETURN_IF_ERROR(CheckSubject(catalog, org_id, *user));
  if (group) {
    ASSIGN_OR_RETURN(auto found, catalog.ListAccessObjects(org_id, "group", *group));
    if (group->empty() || found.empty()) return NotFound("no group with id " + *group);
  }
  if (role) {
    ASSIGN_OR_RETURN(control::Role level, access.RoleLevel(org_id, *role));
    ASSIGN_OR_RETURN(auto found, catalog.ListAccessObjects(org_id, "role", *role));
    if (level == control::Role::kNone && (role->empty() || found.empty())) {
      return NotFound("no role with id " + *role);
    }
  }
  return a;
}

// The stored ACL with the same contents, if any.
StatusOr<std::optional<AclRecord>> Identical(catalog::Catalog& catalog, const AclRecord& a) {
  ASSIGN_OR_RETURN(auto same, catalog.ListAcls(a.org_id, {.object_type = a.object_type,
                                                          .object_id = a.object_id}));
  for (auto& s : same) {
    if (s.user_id == a.user_id && s.group_id == a.group_id && s.permission == a.permission &&
        s.role_id == a.role_id && s.restrict_object_type == a.restrict_object_type) {
      return std::optional<AclRecord>(std::move(s));
    }
  }
  return std::optional<AclRecord>();
}

StatusOr<AclRecord> CreateOrFind(catalog::Catalog& catalog, const AclRecord& a) {
  ASSIGN_OR_RETURN(auto existing, Identical(catalog, a));
  if (existing) return std::move(*existing);
  RETURN_IF_ERROR(catalog.CreateAcl(a));
  return a;
}

StatusOr<bj::array> ItemsOf(const bj::object& body, const char* field) {
  const bj::value* v = body.if_contains(field);
  if (v == nullptr || v->is_null()) return bj::array();
  if (!v->is_array()) return InvalidArgument(std::string("'") + field + "' must be an array");
  if (v->get_array().size() > limits::access_list_items_max) {
    return InvalidArgument(std::string("'") + field + "' has too many items");
  }
  return v->get_array();
}

Response BatchUpdate(catalog::Catalog& catalog, control::Access& access, const Call& c) {
  auto body = BodyObject(c.request);
  if (!body.ok()) return Error(body.status());
  auto adds = ItemsOf(*body, "add_acls");
  auto removes = ItemsOf(*body, "remove_acls");
  if (!adds.ok()) return Error(adds.status());
  if (!removes.ok()) return Error(removes.status());
  std::vector<AclRecord> to_add, to_remove;
  for (const auto& v : *adds) {
    auto a = ParseAcl(catalog, access, c.principal.org_id, v);
    if (!a.ok()) return Error(a.status());
    to_add.push_back(std::move(*a));
  }
  for (const auto& v : *removes) {
    auto a = ParseAcl(catalog, access, c.principal.org_id, v);
    if (!a.ok()) return Error(a.status());
    auto found = Identical(catalog, *a);
    if (!found.ok()) return Error(found.status());
    if (*found) to_remove.push_back(std::move(**found));
  }
  bj::array added, removed;
  for (const auto& a : to_add) {
    auto made = CreateOrFind(catalog, a);
    if (!made.ok()) return Error(made.status());
    added.push_back(AclJson(*made));
  }
  for (const auto& a : to_remove) {
    if (Status st = catalog.DeleteAcl(a.org_id, a.id);
        !st.ok() && st.code() != StatusCode::kNotFound) {
      return Error(st);
    }
    removed.push_back(AclJson(a));
  }
  return Json(bj::object{{"added_acls", std::move(added)}, {"removed_acls", std::move(removed)}});
}

Response ListAcls(catalog::Catalog& catalog, const Call& c, bool whole_org) {
  catalog::AclFilter filter;
  if (!whole_org) {
    const std::string& type = c.request.Query("object_type");
    const std::string& id = c.request.Query("object_id");
    if (type.empty() || id.empty()) {
      return Error(InvalidArgument("'object_type' and 'object_id' are required"));
    }
    filter.object_type = type;
    filter.object_id = id;
  }
  auto found = catalog.ListAcls(c.principal.org_id, filter);
  if (!found.ok()) return Error(found.status());
  std::set<std::string> ids = SplitCommaList(c.request.Query("ids"));
  bj::array objects;
  for (const auto& a : *found) {
    if (ids.empty() || ids.count(a.id)) objects.push_back(AclJson(a));
  }
  return Json(bj::object{{"objects", std::move(objects)}});
}

}  // namespace

void AddAclRoutes(Router& router, catalog::Catalog& catalog, control::Access& access) {
  router.Add({"POST", "/v1/acl", false, [&catalog, &access](const Call& c) -> Response {
                auto body = BodyObject(c.request);
                if (!body.ok()) return Error(body.status());
                auto a = ParseAcl(catalog, access, c.principal.org_id, *body);
                if (!a.ok()) return Error(a.status());
                auto made = CreateOrFind(catalog, *a);
                return made.ok() ? Json(AclJson(*made)) : Error(made.status());
              }});
  router.Add(
      {"GET", "/v1/acl", false, [&catalog](const Call& c) { return ListAcls(catalog, c, false); }});
  router.Add({"GET", "/v1/acl/list_org", false,
              [&catalog](const Call& c) { return ListAcls(catalog, c, true); }});
  router.Add({"POST", "/v1/acl/batch_update", false,
              [&catalog, &access](const Call& c) { return BatchUpdate(catalog, access, c); }});
  // DELETE /v1/acl: the ACL with the body's contents.
  router.Add({"DELETE", "/v1/acl", false, [&catalog, &access](const Call& c) -> Response {
                auto body = BodyObject(c.request);
                if (!body.ok()) return Error(body.status());
                auto a = ParseAcl(catalog, access, c.principal.org_id, *body);
                if (!a.ok()) return Error(a.status());
                auto found = Identical(catalog, *a);
                if (!found.ok()) return Error(found.status());
                if (!*found) return Error(NotFound("no such ACL"));
                Status st = catalog.DeleteAcl(c.principal.org_id, (*found)->id);
                return st.ok() ? Json(AclJson(**found)) : Error(st);
              }});
  router.Add({"GET", "/v1/acl/{}", false, [&catalog](const Call& c) -> Response {
                auto found = catalog.ListAcls(c.principal.org_id, {.id = c.params[0]});
                if (!found.ok()) return Error(found.status());
                if (found->empty()) return Error(NotFound("no ACL with id " + c.params[0]));
                return Json(AclJson(found->front()));
              }});
  router.Add({"DELETE", "/v1/acl/{}", false, [&catalog](const Call& c) -> Response {
                auto found = catalog.ListAcls(c.principal.org_id, {.id = c.params[0]});
                if (!found.ok()) return Error(found.status());
                if (found->empty()) return Error(NotFound("no ACL with id " + c.params[0]));
                Status st = catalog.DeleteAcl(c.principal.org_id, c.params[0]);
                return st.ok() ? Json(AclJson(found->front())) : Error(st);
              }});
}

}  // namespace arbor::api
