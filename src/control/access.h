// Who may do what. Org roles are ordered: viewer < editor < admin < owner, each holding every
// right of the roles below it:
//   viewer  reads rows and control objects (projects, experiments, prompts, roles, ACLs, ...)
//   editor  + writes rows and feedback; creates, updates and deletes projects, experiments,
//             datasets, prompts and functions
//   admin   + API keys, service tokens, AI secrets, members, ACLs, groups, roles, org settings
//   owner   + makes or unmakes owners
// A route needs one of these levels (Need). On a project, a principal holds the highest of its
// org role and the roles its ACLs grant there (to its user, or to a group it belongs to, on that
// project or on the org): grants only ever add. Stateless apart from the catalog; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "catalog/catalog.h"
#include "control/auth.h"

namespace arbor::control {

enum class Role { kNone = 0, kViewer = 1, kEditor = 2, kAdmin = 3, kOwner = 4 };

// What a route needs. kByMethod: read for GET, write otherwise (routes say nothing more).
enum class Need { kByMethod, kRead, kWrite, kAdmin, kOwner };

const char* NeedName(Need need);
const char* RoleName(Role role);
// kNone for anything but the four role names.
Role ParseRole(std::string_view name);
// The lowest role that satisfies `need` (kByMethod must be resolved first).
Role MinRole(Need need);

// The ids of the built-in roles as /v1/role lists them (stable across data dirs).
std::string BuiltinRoleId(Role role);
// The level an ACL permission ("read", "update", "create_acls", ...) grants; kNone if unknown.
Role PermissionLevel(std::string_view permission);
// Every permission name /v1/acl and /v1/role accept.
const std::vector<std::string>& PermissionNames();

// The identity ACLs and group memberships name: the user for user keys and sessions, the key
// itself for service tokens and older keys (their service_account_id).
std::string Subject(const Principal& who);

class Access {
 public:
  explicit Access(catalog::Catalog& catalog) : catalog_(catalog) {}

  // The principal's role on a project of its org.
  StatusOr<Role> ProjectRole(const Principal& who, const std::string& project_id);
  // Ok when `who` holds at least `need` on every project; PermissionDenied otherwise.
  Status RequireProjects(const Principal& who, Need need,
                         const std::vector<std::string>& project_ids);
  // The level a role id grants: a built-in id, or a custom role's permissions (and roles).
  StatusOr<Role> RoleLevel(const std::string& org_id, const std::string& role_id);

 private:
  // Ids of the groups `subject` belongs to, directly or through member_groups.
  StatusOr<std::vector<std::string>> GroupsOf(const std::string& org_id,
                                              const std::string& subject);
  StatusOr<Role> GrantLevel(const catalog::AclRecord& acl);

  catalog::Catalog& catalog_;
};

}  // namespace arbor::control
