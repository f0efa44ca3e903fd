#include "control/access.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "base/util.h"

namespace arbor::control {
namespace {

namespace bj = boost::json;

std::unique_ptr<catalog::Catalog> NewCatalog() {
  auto path = std::filesystem::temp_directory_path() / ("arbor-access-" + NewUuid() + ".db");
  return std::move(catalog::OpenSqliteCatalog(path).value());
}

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
  EXPECT_FALSE(access.RequireProjects(viewer, Need::kWrite, {p1}).ok());

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
  EXPECT_TRUE(access.RequireProjects(viewer, Need::kWrite, {p1}).ok());
  EXPECT_FALSE(access.RequireProjects(viewer, Need::kWrite, {p1, p2}).ok());
  EXPECT_FALSE(access.RequireProjects(viewer, Need::kAdmin, {p1}).ok());

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
