#include "control/access.h"

#include <algorithm>
#include <set>

namespace arbor::control {

namespace bj = boost::json;

namespace {

// Custom roles may include other roles; deeper nesting than this is refused as a cycle.
inline constexpr int role_nesting_max = 8;

bool Contains(const bj::object& data, const char* field, const std::string& id) {
  const bj::value* list = data.if_contains(field);
  if (list == nullptr || !list->is_array()) return false;
  return std::any_of(list->get_array().begin(), list->get_array().end(),
                     [&](const bj::value& v) { return v.is_string() && v.get_string() == id; });
}

// A grant limited to one kind of object applies to objects of that kind only: left out
// elsewhere rather than over-granted.
bool Covers(std::string_view restrict_object_type, std::string_view object_type) {
  return restrict_object_type.empty() || restrict_object_type == object_type;
}

// Whether an ACL is granted to `subject`, directly or to one of its `groups`.
bool NamesCaller(const catalog::AclRecord& a, const std::string& subject,
                 const std::vector<std::string>& groups) {
  if (!a.user_id.empty()) return a.user_id == subject;
  return std::find(groups.begin(), groups.end(), a.group_id) != groups.end();
}

}  // namespace

const char* NeedName(Need need) {
  switch (need) {
    case Need::kByMethod:
      return "by_method";
    case Need::kRead:
      return "read";
    case Need::kWrite:
      return "write";
    case Need::kAdmin:
      return "admin";
    case Need::kOwner:
      return "owner";
  }
  return "unknown";
}

const char* RoleName(Role role) {
  switch (role) {
    case Role::kNone:
      return "none";
    case Role::kViewer:
      return "viewer";
    case Role::kEditor:
      return "editor";
    case Role::kAdmin:
      return "admin";
    case Role::kOwner:
      return "owner";
  }
  return "none";
}

Role ParseRole(std::string_view name) {
  for (Role r : {Role::kViewer, Role::kEditor, Role::kAdmin, Role::kOwner}) {
    if (name == RoleName(r)) return r;
  }
  return Role::kNone;
}

Role MinRole(Need need) {
  switch (need) {
    case Need::kByMethod:
    case Need::kRead:
      return Role::kViewer;
    case Need::kWrite:
      return Role::kEditor;
    case Need::kAdmin:
      return Role::kAdmin;
    case Need::kOwner:
      return Role::kOwner;
  }
  return Role::kOwner;
}

std::string BuiltinRoleId(Role role) {
  return "00000000-0000-4000-a000-00000000000" + std::to_string(static_cast<int>(role));
}

Role PermissionLevel(std::string_view p) {
  if (p == "read") return Role::kViewer;
  if (p == "create" || p == "update" || p == "delete") return Role::kEditor;
  if (p == "create_acls" || p == "read_acls" || p == "update_acls" || p == "delete_acls") {
    return Role::kAdmin;
  }
  return Role::kNone;
}

const std::vector<std::string>& PermissionNames() {
  static const std::vector<std::string> names = {"create",      "read",        "update",
                                                 "delete",      "create_acls", "read_acls",
                                                 "update_acls", "delete_acls"};
  return names;
}

bool MayCreateProjects(const Principal& who) {
  return ParseRole(who.role) >= MinRole(Need::kWrite);
}

std::string Subject(const Principal& who) { return who.user_id.empty() ? who.key_id : who.user_id; }

StatusOr<Role> Access::RoleLevel(const std::string& org_id, const std::string& role_id,
                                 std::string_view object_type) {
  for (Role r : {Role::kViewer, Role::kEditor, Role::kAdmin, Role::kOwner}) {
    if (role_id == BuiltinRoleId(r)) return r;
  }
  Role best = Role::kNone;
  std::vector<std::string> pending = {role_id};
  std::set<std::string> seen;
  for (int depth = 0; depth < role_nesting_max && !pending.empty(); ++depth) {
    std::vector<std::string> next;
    for (const std::string& id : pending) {
      if (!seen.insert(id).second) continue;
      for (Role r : {Role::kViewer, Role::kEditor, Role::kAdmin, Role::kOwner}) {
        if (id == BuiltinRoleId(r)) best = std::max(best, r);
      }
      ASSIGN_OR_RETURN(auto found, catalog_.ListAccessObjects(org_id, "role", id));
      if (found.empty()) continue;
      const bj::object& data = found.front().data;
      if (const bj::value* perms = data.if_contains("member_permissions");
          perms && perms->is_array()) {
        for (const bj::value& p : perms->get_array()) {
          if (!p.is_object()) continue;
          const bj::value* name = p.get_object().if_contains("permission");
          const bj::value* only = p.get_object().if_contains("restrict_object_type");
          bool covers =
              only == nullptr || !only->is_string() || Covers(only->get_string(), object_type);
          if (name && name->is_string() && covers) {
            best = std::max(best, PermissionLevel(name->get_string()));
          }
        }
      }
      if (const bj::value* roles = data.if_contains("member_roles"); roles && roles->is_array()) {
        for (const bj::value& r : roles->get_array()) {
          if (r.is_string()) next.emplace_back(r.get_string());
        }
      }
    }
    pending = std::move(next);
  }
  return best;
}

StatusOr<std::vector<std::string>> Access::GroupsOf(const std::string& org_id,
                                                    const std::string& subject) {
  ASSIGN_OR_RETURN(auto groups, catalog_.ListAccessObjects(org_id, "group", ""));
  std::set<std::string> in;
  for (const auto& g : groups) {
    if (Contains(g.data, "member_users", subject)) in.insert(g.id);
  }
  // A group that lists another group as a member contains that group's members; iterate to a
  // fixpoint (each round adds a group or stops).
  for (bool grew = true; grew;) {
    grew = false;
    for (const auto& g : groups) {
      if (in.count(g.id)) continue;
      for (const std::string& member : in) {
        if (Contains(g.data, "member_groups", member)) {
          in.insert(g.id);
          grew = true;
          break;
        }
      }
    }
  }
  return std::vector<std::string>(in.begin(), in.end());
}

StatusOr<Role> Access::GrantLevel(const catalog::AclRecord& acl, std::string_view object_type) {
  if (!Covers(acl.restrict_object_type, object_type)) return Role::kNone;
  if (!acl.role_id.empty()) return RoleLevel(acl.org_id, acl.role_id, object_type);
  return PermissionLevel(acl.permission);
}

StatusOr<Role> Access::ObjectRole(const Principal& who, const ObjectRef& object) {
  Role best = ParseRole(who.role);
  const std::string subject = Subject(who);
  ASSIGN_OR_RETURN(auto groups, GroupsOf(who.org_id, subject));
  // The ACLs on the org, on the object's project and on the object itself.
  ASSIGN_OR_RETURN(auto acls, catalog_.ListAcls(who.org_id, {.object_type = "organization",
                                                             .object_id = who.org_id}));
  auto add = [&](const std::string& type, const std::string& id) -> Status {
    if (id.empty()) return Status::Ok();
    ASSIGN_OR_RETURN(auto more,
                     catalog_.ListAcls(who.org_id, {.object_type = type, .object_id = id}));
    acls.insert(acls.end(), more.begin(), more.end());
    return Status::Ok();
  };
  RETURN_IF_ERROR(add("project", object.project_id));
  if (object.type != "project" && object.type != "project_log") {
    RETURN_IF_ERROR(add(object.type, object.id));
  }
  for (const auto& acl : acls) {
    if (!NamesCaller(acl, subject, groups)) continue;
    ASSIGN_OR_RETURN(Role granted, GrantLevel(acl, object.type));
    best = std::max(best, granted);
  }
  return best;
}

StatusOr<Role> Access::BestRole(const Principal& who) {
  Role best = ParseRole(who.role);
  const std::string subject = Subject(who);
  ASSIGN_OR_RETURN(auto groups, GroupsOf(who.org_id, subject));
  ASSIGN_OR_RETURN(auto acls, catalog_.ListAcls(who.org_id, {}));
  for (const auto& a : acls) {
    if (!NamesCaller(a, subject, groups)) continue;
    const std::string& type =
        a.restrict_object_type.empty() ? a.object_type : a.restrict_object_type;
    ASSIGN_OR_RETURN(Role granted, GrantLevel(a, type));
    best = std::max(best, granted);
  }
  return best;
}

Status Access::RequireObjects(const Principal& who, Need need,
                              const std::vector<ObjectRef>& objects) {
  const Role want = MinRole(need);
  for (const ObjectRef& o : objects) {
    ASSIGN_OR_RETURN(Role have, ObjectRole(who, o));
    if (have < want) {
      std::string what = o.type + (o.id.empty() ? " in project " + o.project_id : " " + o.id);
      return PermissionDenied(std::string("this needs the ") + RoleName(want) + " role on " + what +
                              "; the caller has " + RoleName(have));
    }
  }
  return Status::Ok();
}

}  // namespace arbor::control
