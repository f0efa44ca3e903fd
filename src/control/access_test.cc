#include "control/access.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "base/util.h"

namespace arbor::control {
namespace {

namespace bj = boost::json;

// A catalog in a fresh file, removed (with its WAL side files) when the test binary exits.
std::unique_ptr<catalog::Catalog> NewCatalog() {
  static std::vector<std::string> paths;
  if (paths.empty()) {
    std::atexit([] {
      for (const std::string& p : paths) {
        for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(p + suffix);
      }
    });
  }
  std::string path = std::filesystem::temp_directory_path() / ("arbor-access-" + NewUuid() + ".db");
  paths.push_back(path);
  return std::move(catalog::OpenSqliteCatalog(path).value());
}

ObjectRef Project(const std::string& id) { return {.type = "project", .id = id, .project_id = id}; }

TEST(Access, RolesAreOrderedAndPermissionsHaveLevels) {
  EXPECT_EQ(ParseRole("viewer"), Role::kViewer);
  EXPECT_EQ(ParseRole("root"), Role::kNone);
  EXPECT_EQ(MinRole(Need::kRead), Role::kViewer);
  EXPECT_EQ(MinRole(Need::kWrite), Role::kEditor);
  EXPECT_EQ(MinRole(Need::kAdmin), Role::kAdmin);
  EXPECT_EQ(MinRole(Need::kOwner), Role::kOwner);
  EXPECT_EQ(PermissionLevel("read"), Role::kViewer);
  EXPECT_EQ(PermissionLevel("update"), Role::kEditor);
  EXPECT_EQ(PermissionLevel("create_acls"), Role::kAdmin);
  EXPECT_EQ(PermissionLevel("fly"), Role::kNone);
  EXPECT_NE(BuiltinRoleId(Role::kEditor), BuiltinRoleId(Role::kViewer));
}

TEST(Access, ProjectRoleIsTheBestOfOrgRoleAndGrants) {
  auto cat = NewCatalog();
  auto org = cat->CreateOrg("o").value();
  Access access(*cat);
  Principal viewer{.org_id = org.id, .key_id = "k-viewer", .role = "viewer"};
  auto p1 = "project-1", p2 = "project-2";
  EXPECT_EQ(access.ProjectRole(viewer, p1).value(), Role::kViewer);
  EXPECT_FALSE(access.RequireObjects(viewer, Need::kWrite, {Project(p1)}).ok());

  // A direct grant of the built-in editor role on one project.
  ASSERT_TRUE(cat->CreateAcl({.id = "a1",
                              .org_id = org.id,
                              .object_type = "project",
                              .object_id = p1,
                              .user_id = "k-viewer",
                              .role_id = BuiltinRoleId(Role::kEditor)})
                  .ok());
  EXPECT_EQ(access.ProjectRole(viewer, p1).value(), Role::kEditor);
  EXPECT_EQ(access.ProjectRole(viewer, p2).value(), Role::kViewer);
  EXPECT_TRUE(access.RequireObjects(viewer, Need::kWrite, {Project(p1)}).ok());
  EXPECT_FALSE(access.RequireObjects(viewer, Need::kWrite, {Project(p1), Project(p2)}).ok());
  EXPECT_FALSE(access.RequireObjects(viewer, Need::kAdmin, {Project(p1)}).ok());

  // Through a group nested in another group, with a custom role that includes "create_acls".
  ASSERT_TRUE(cat->CreateAccessObject({.id = "g-inner",
                                       .org_id = org.id,
                                       .kind = "group",
                                       .name = "inner",
                                       .data = {{"member_users", bj::array{"k-viewer"}}}})
                  .ok());
  ASSERT_TRUE(cat->CreateAccessObject({.id = "g-outer",
                                       .org_id = org.id,
                                       .kind = "group",
                                       .name = "outer",
                                       .data = {{"member_groups", bj::array{"g-inner"}}}})
                  .ok());
  bj::array perms{bj::object{{"permission", "create_acls"}}};
  ASSERT_TRUE(cat->CreateAccessObject({.id = "r-acl",
                                       .org_id = org.id,
                                       .kind = "role",
                                       .name = "acl admin",
                                       .data = {{"member_permissions", perms}}})
                  .ok());
  EXPECT_EQ(access.RoleLevel(org.id, "r-acl").value(), Role::kAdmin);
  ASSERT_TRUE(cat->CreateAcl({.id = "a2",
                              .org_id = org.id,
                              .object_type = "project",
                              .object_id = p2,
                              .group_id = "g-outer",
                              .role_id = "r-acl"})
                  .ok());
  EXPECT_EQ(access.ProjectRole(viewer, p2).value(), Role::kAdmin);

  // Grants restricted to one kind of object inside the project are not project-wide.
  ASSERT_TRUE(cat->CreateAcl({.id = "a3",
                              .org_id = org.id,
                              .object_type = "project",
                              .object_id = "project-3",
                              .user_id = "k-viewer",
                              .permission = "update",
                              .restrict_object_type = "dataset"})
                  .ok());
  EXPECT_EQ(access.ProjectRole(viewer, "project-3").value(), Role::kViewer);

  // Deleting the group takes its grants along.
  ASSERT_TRUE(cat->DeleteAccessObject(org.id, "group", "g-outer").ok());
  EXPECT_EQ(access.ProjectRole(viewer, p2).value(), Role::kViewer);

  // Another org's principal with the same key id gets nothing from this org's grants.
  auto other = cat->CreateOrg("other").value();
  Principal stranger{.org_id = other.id, .key_id = "k-viewer", .role = "viewer"};
  EXPECT_EQ(access.ProjectRole(stranger, p1).value(), Role::kViewer);
}

TEST(Access, GrantsOnOneObjectOrOneTypeOfObject) {
  auto cat = NewCatalog();
  auto org = cat->CreateOrg("o").value();
  Access access(*cat);
  Principal viewer{.org_id = org.id, .key_id = "k-viewer", .role = "viewer"};
  const ObjectRef e1{.type = "experiment", .id = "exp-1", .project_id = "p"};
  const ObjectRef e2{.type = "experiment", .id = "exp-2", .project_id = "p"};
  const ObjectRef logs{.type = "project_log", .id = "p", .project_id = "p"};
  const ObjectRef new_exp{.type = "experiment", .id = "", .project_id = "p"};
  const ObjectRef other_exp{.type = "experiment", .id = "exp-9", .project_id = "q"};

  // On one experiment: that experiment only.
  ASSERT_TRUE(cat->CreateAcl({.id = "a1",
                              .org_id = org.id,
                              .object_type = "experiment",
                              .object_id = "exp-1",
                              .user_id = "k-viewer",
                              .permission = "update"})
                  .ok());
  EXPECT_EQ(access.ObjectRole(viewer, e1).value(), Role::kEditor);
  EXPECT_EQ(access.ObjectRole(viewer, e2).value(), Role::kViewer);
  EXPECT_EQ(access.ObjectRole(viewer, logs).value(), Role::kViewer);
  EXPECT_EQ(access.ProjectRole(viewer, "p").value(), Role::kViewer);

  // On the project, restricted to experiments: every experiment of it (also new ones), not its
  // logs, not the project itself, not another project's experiments.
  ASSERT_TRUE(cat->CreateAcl({.id = "a2",
                              .org_id = org.id,
                              .object_type = "project",
                              .object_id = "p",
                              .user_id = "k-viewer",
                              .role_id = BuiltinRoleId(Role::kAdmin),
                              .restrict_object_type = "experiment"})
                  .ok());
  EXPECT_EQ(access.ObjectRole(viewer, e2).value(), Role::kAdmin);
  EXPECT_EQ(access.ObjectRole(viewer, new_exp).value(), Role::kAdmin);
  EXPECT_EQ(access.ObjectRole(viewer, logs).value(), Role::kViewer);
  EXPECT_EQ(access.ProjectRole(viewer, "p").value(), Role::kViewer);
  EXPECT_EQ(access.ObjectRole(viewer, other_exp).value(), Role::kViewer);
  EXPECT_TRUE(access.RequireObjects(viewer, Need::kWrite, {e1, e2}).ok());
  EXPECT_FALSE(access.RequireObjects(viewer, Need::kWrite, {e1, logs}).ok());

  // A custom role whose permission is restricted to datasets grants nothing on experiments.
  bj::array perms{bj::object{{"permission", "update"}, {"restrict_object_type", "dataset"}}};
  ASSERT_TRUE(cat->CreateAccessObject({.id = "r-ds",
                                       .org_id = org.id,
                                       .kind = "role",
                                       .name = "dataset writer",
                                       .data = {{"member_permissions", perms}}})
                  .ok());
  ASSERT_TRUE(cat->CreateAcl({.id = "a3",
                              .org_id = org.id,
                              .object_type = "organization",
                              .object_id = org.id,
                              .user_id = "k-viewer",
                              .role_id = "r-ds"})
                  .ok());
  EXPECT_EQ(access.ObjectRole(viewer, other_exp).value(), Role::kViewer);
  EXPECT_EQ(access.ObjectRole(viewer, {.type = "dataset", .id = "d", .project_id = "q"}).value(),
            Role::kEditor);
}

TEST(Access, KeysCarryTheirRole) {
  auto cat = NewCatalog();
  auto org = cat->CreateOrg("o").value();
  Auth auth(*cat);
  auto old_style = auth.CreateKey(org.id, "legacy").value();
  EXPECT_EQ(auth.Authenticate(old_style.secret)->role, "owner");
  auto token = auth.CreateKey(KeySpec{.org_id = org.id, .name = "ci", .role = "viewer"}).value();
  auto p = auth.Authenticate(token.secret).value();
  EXPECT_EQ(p.role, "viewer");
  EXPECT_EQ(Subject(p), token.id);
}

}  // namespace
}  // namespace arbor::control
