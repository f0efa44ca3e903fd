// Who may do what. Org roles are ordered: viewer < editor < admin < owner, each holding every
// right of the roles below it:
//   viewer  reads rows and control objects (projects, experiments, prompts, roles, ACLs, ...)
//   editor  + writes rows and feedback; creates, updates and deletes projects, experiments,
//             datasets, prompts and functions
//   admin   + API keys, service tokens, AI secrets, members, ACLs, groups, roles, org settings
//   owner   + makes or unmakes owners
// A route needs one of these levels (Need). On an object (a project, or an experiment, dataset,
// project's logs, prompt or function inside one) a principal holds the highest of its org role
// and the roles its ACLs grant there: ACLs on the org, on the object's project or on the object
// itself, to its user or to a group it belongs to. An ACL with a restrict_object_type applies
// only to objects of that type ("experiment" on a project: its experiments, not its logs).
// Grants only ever add. Stateless apart from the catalog; thread-safe.
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

// Whether a principal's org role lets it create projects (editors and above); ACL grants are
// on existing projects only.
bool MayCreateProjects(const Principal& who);

// The identity ACLs and group memberships name: the user for user keys and sessions, the key
// itself for service tokens and older keys (their service_account_id).
std::string Subject(const Principal& who);

// An object a request acts on. For a project and its logs, `id` is the project id; `id` is
// empty for an object about to be created in `project_id`.
struct ObjectRef {
  std::string type;  // "project", "project_log", "experiment", "dataset", "prompt", "function"
  std::string id;
  std::string project_id;
};

class Access {
 public:
  explicit Access(catalog::Catalog& catalog) : catalog_(catalog) {}

  // The principal's role on an object of its org.
  StatusOr<Role> ObjectRole(const Principal& who, const ObjectRef& object);
  // The principal's role on a project itself.
  StatusOr<Role> ProjectRole(const Principal& who, const std::string& project_id) {
    return ObjectRole(who, {.type = "project", .id = project_id, .project_id = project_id});
  }
  // The highest role `who` holds on any object of its org (its org role, or a grant).
  StatusOr<Role> BestRole(const Principal& who);
  // Ok when `who` holds at least `need` on every object; PermissionDenied otherwise.
  Status RequireObjects(const Principal& who, Need need, const std::vector<ObjectRef>& objects);
  // The level a role id grants on objects of `object_type`: a built-in id, or a custom role's
  // permissions (those restricted to another type left out) and included roles.
  StatusOr<Role> RoleLevel(const std::string& org_id, const std::string& role_id,
                           std::string_view object_type = "project");

 private:
  // Ids of the groups `subject` belongs to, directly or through member_groups.
  StatusOr<std::vector<std::string>> GroupsOf(const std::string& org_id,
                                              const std::string& subject);
  StatusOr<Role> GrantLevel(const catalog::AclRecord& acl, std::string_view object_type);

  catalog::Catalog& catalog_;
};

}  // namespace arbor::control
