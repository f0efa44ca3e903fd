// Users, org membership and session rows in the SQLite catalog.
#include <gtest/gtest.h>

#include <filesystem>

#include "base/util.h"
#include "catalog/catalog.h"

namespace arbor::catalog {
namespace {

class UserTables : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = std::filesystem::temp_directory_path() / ("arbor-users-" + NewUuid() + ".db");
    auto cat = OpenSqliteCatalog(path_);
    ASSERT_TRUE(cat.ok()) << cat.status().ToString();
    cat_ = std::move(*cat);
    org_ = cat_->CreateOrg("acme")->id;
  }
  void TearDown() override {
    cat_.reset();
    std::filesystem::remove(path_);
  }
  User NewUser(const std::string& email) {
    User u{.id = NewUuid(), .email = email, .name = "N", .password_hash = "h", .created = "t"};
    EXPECT_TRUE(cat_->CreateUser(u).ok());
    return u;
  }

  std::string path_;
  std::string org_;
  std::unique_ptr<Catalog> cat_;
};

TEST_F(UserTables, EmailIsUniqueIgnoringCase) {
  User ann = NewUser("Ann@Example.com");
  User dup{.id = NewUuid(), .email = "ann@example.COM", .name = "x", .password_hash = "h"};
  EXPECT_EQ(cat_->CreateUser(dup).code(), StatusCode::kAlreadyExists);
  auto found = cat_->FindUserByEmail("ANN@example.com");
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->id, ann.id);
  EXPECT_EQ(cat_->FindUserByEmail("bob@example.com").status().code(), StatusCode::kNotFound);
}

TEST_F(UserTables, UpdateUser) {
  User u = NewUser("a@x.io");
  u.disabled = true;
  u.password_hash = "h2";
  ASSERT_TRUE(cat_->UpdateUser(u).ok());
  auto got = cat_->GetUser(u.id);
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(got->disabled);
  EXPECT_EQ(got->password_hash, "h2");
  u.id = NewUuid();
  EXPECT_EQ(cat_->UpdateUser(u).code(), StatusCode::kNotFound);
}

TEST_F(UserTables, Membership) {
  User a = NewUser("a@x.io");
  User b = NewUser("b@x.io");
  std::string other = cat_->CreateOrg("other")->id;
  ASSERT_TRUE(cat_->AddOrgMember(org_, a.id, "owner").ok());
  ASSERT_TRUE(cat_->AddOrgMember(org_, b.id, "viewer").ok());
  ASSERT_TRUE(cat_->AddOrgMember(other, a.id, "editor").ok());
  EXPECT_EQ(cat_->AddOrgMember(org_, a.id, "admin").code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(cat_->AddOrgMember("no-such-org", a.id, "admin").code(), StatusCode::kNotFound);
  EXPECT_EQ(cat_->AddOrgMember(org_, "no-such-user", "admin").code(), StatusCode::kNotFound);

  auto members = cat_->ListOrgMembers(org_);
  ASSERT_TRUE(members.ok());
  ASSERT_EQ(members->size(), 2u);
  EXPECT_EQ((*members)[0].user_id, a.id);
  EXPECT_EQ((*members)[1].role, "viewer");
  auto orgs = cat_->ListUserOrgs(a.id);
  ASSERT_TRUE(orgs.ok());
  ASSERT_EQ(orgs->size(), 2u);
  EXPECT_EQ((*orgs)[1].org_id, other);
  EXPECT_EQ((*orgs)[1].role, "editor");
  auto users = cat_->ListOrgUsers(other);
  ASSERT_TRUE(users.ok());
  ASSERT_EQ(users->size(), 1u);
  EXPECT_EQ((*users)[0].email, "a@x.io");

  ASSERT_TRUE(cat_->SetOrgMemberRole(org_, b.id, "admin").ok());
  EXPECT_EQ((*cat_->ListOrgMembers(org_))[1].role, "admin");
  EXPECT_EQ(cat_->SetOrgMemberRole(other, b.id, "admin").code(), StatusCode::kNotFound);
  ASSERT_TRUE(cat_->RemoveOrgMember(org_, b.id).ok());
  EXPECT_EQ(cat_->RemoveOrgMember(org_, b.id).code(), StatusCode::kNotFound);
  EXPECT_EQ(cat_->ListOrgMembers(org_)->size(), 1u);
}

TEST_F(UserTables, Sessions) {
  User a = NewUser("a@x.io");
  ASSERT_TRUE(cat_->AddOrgMember(org_, a.id, "owner").ok());
  Session s{.token_hash = Sha256Hex("t1"),
            .user_id = a.id,
            .org_id = org_,
            .created_us = 10,
            .last_seen_us = 10,
            .expires_us = 1000};
  ASSERT_TRUE(cat_->CreateSession(s).ok());
  ASSERT_TRUE(cat_->TouchSession(s.token_hash, 20).ok());
  auto got = cat_->FindSession(s.token_hash);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->user_id, a.id);
  EXPECT_EQ(got->last_seen_us, 20);
  EXPECT_EQ(got->expires_us, 1000);
  ASSERT_TRUE(cat_->DeleteSession(s.token_hash).ok());
  EXPECT_EQ(cat_->FindSession(s.token_hash).status().code(), StatusCode::kNotFound);

  // Removing a member ends that member's sessions in the org.
  ASSERT_TRUE(cat_->CreateSession(s).ok());
  ASSERT_TRUE(cat_->RemoveOrgMember(org_, a.id).ok());
  EXPECT_EQ(cat_->FindSession(s.token_hash).status().code(), StatusCode::kNotFound);

  ASSERT_TRUE(cat_->AddOrgMember(org_, a.id, "owner").ok());
  ASSERT_TRUE(cat_->CreateSession(s).ok());
  ASSERT_TRUE(cat_->DeleteUserSessions(a.id, 0).ok());
  EXPECT_EQ(cat_->FindSession(s.token_hash).status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace arbor::catalog
