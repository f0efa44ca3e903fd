// Local users and sessions: sign-in, one message for unknown email and wrong password,
// lockout, session expiry (idle and absolute), disabled users, org choice, CSRF tokens, and
// that only token hashes are stored.
#include "control/users.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "base/limits.h"
#include "base/util.h"

namespace arbor::control {
namespace {

constexpr std::int64_t kSecond = 1'000'000;
constexpr std::int64_t kT0 = 1'800'000'000 * kSecond;

class UsersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = std::filesystem::temp_directory_path() / ("arbor-users-" + NewUuid() + ".db");
    auto cat = catalog::OpenSqliteCatalog(path_);
    ASSERT_TRUE(cat.ok());
    cat_ = std::move(*cat);
    users_ = std::make_unique<Users>(*cat_);
    acme_ = cat_->CreateOrg("acme")->id;
    auto ann = users_->CreateUser(acme_, "Ann@Example.com", "Ann", "ann-password", "owner");
    ASSERT_TRUE(ann.ok()) << ann.status().ToString();
    ann_ = *ann;
  }
  void TearDown() override {
    users_.reset();
    cat_.reset();
    std::filesystem::remove(path_);
  }

  std::string path_;
  std::unique_ptr<catalog::Catalog> cat_;
  std::unique_ptr<Users> users_;
  std::string acme_;
  catalog::User ann_;
};

TEST_F(UsersTest, LoginMakesASessionThatResolvesToThePrincipal) {
  EXPECT_TRUE(ann_.password_hash.empty());  // never handed out
  auto s = users_->Login("ann@example.com", "ann-password", "", kT0);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->token.size(), 64u);
  EXPECT_EQ(s->principal.org_id, acme_);
  EXPECT_EQ(s->principal.org_name, "acme");
  EXPECT_EQ(s->principal.user_id, ann_.id);
  EXPECT_EQ(s->principal.role, "owner");
  EXPECT_TRUE(s->user.password_hash.empty());
  EXPECT_EQ(s->expires_us, kT0 + limits::session_absolute_s * kSecond);

  auto r = users_->Resolve(s->token, kT0 + kSecond);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->principal.user_id, ann_.id);
  EXPECT_EQ(r->csrf_token, s->csrf_token);
  EXPECT_TRUE(r->token.empty());

  // Only the token's hash is stored.
  EXPECT_EQ(cat_->FindSession(s->token).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(cat_->FindSession(Sha256Hex(s->token)).ok());

  ASSERT_TRUE(users_->Logout(s->token).ok());
  EXPECT_EQ(users_->Resolve(s->token, kT0 + 2 * kSecond).status().code(),
            StatusCode::kUnauthenticated);
}

TEST_F(UsersTest, UnknownEmailAndWrongPasswordLookAlike) {
  auto wrong = users_->Login("ann@example.com", "not-her-password", "", kT0);
  auto unknown = users_->Login("nobody@example.com", "ann-password", "", kT0);
  ASSERT_EQ(wrong.status().code(), StatusCode::kUnauthenticated);
  ASSERT_EQ(unknown.status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(wrong.status().message(), unknown.status().message());
}

TEST_F(UsersTest, LockoutAfterRepeatedFailures) {
  for (std::size_t i = 0; i < limits::login_failures_max; ++i) {
    EXPECT_EQ(users_->Login("ann@example.com", "wrong-password", "", kT0).status().code(),
              StatusCode::kUnauthenticated);
  }
  // Locked, even with the right password (and in any letter case).
  EXPECT_EQ(users_->Login("ANN@example.com", "ann-password", "", kT0).status().code(),
            StatusCode::kResourceExhausted);
  // Unknown emails lock the same way, so a lockout reveals nothing.
  for (std::size_t i = 0; i < limits::login_failures_max; ++i) {
    (void)users_->Login("ghost@example.com", "wrong-password", "", kT0);
  }
  EXPECT_EQ(users_->Login("ghost@example.com", "x-password", "", kT0).status().code(),
            StatusCode::kResourceExhausted);
  // After the window it works again.
  std::int64_t later = kT0 + limits::login_failure_window_s * kSecond;
  EXPECT_TRUE(users_->Login("ann@example.com", "ann-password", "", later).ok());
}

TEST_F(UsersTest, IdleAndAbsoluteExpiry) {
  auto s = users_->Login("ann@example.com", "ann-password", "", kT0);
  ASSERT_TRUE(s.ok());
  // Activity keeps the session alive past one idle period...
  std::int64_t t = kT0;
  for (int i = 0; i < 3; ++i) {
    t += (limits::session_idle_s - 10) * kSecond;
    ASSERT_TRUE(users_->Resolve(s->token, t).ok()) << i;
  }
  // ...but an idle period without any ends it.
  t += limits::session_idle_s * kSecond;
  EXPECT_EQ(users_->Resolve(s->token, t).status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(cat_->FindSession(Sha256Hex(s->token)).status().code(), StatusCode::kNotFound);

  // The absolute limit ends even an active session.
  auto s2 = users_->Login("ann@example.com", "ann-password", "", kT0);
  ASSERT_TRUE(s2.ok());
  t = kT0;
  while (t + (limits::session_idle_s - 10) * kSecond < s2->expires_us) {
    t += (limits::session_idle_s - 10) * kSecond;
    ASSERT_TRUE(users_->Resolve(s2->token, t).ok());
  }
  EXPECT_EQ(users_->Resolve(s2->token, s2->expires_us).status().code(),
            StatusCode::kUnauthenticated);
}

TEST_F(UsersTest, DisabledUsersAreRefusedAndTheirSessionsEnd) {
  auto s = users_->Login("ann@example.com", "ann-password", "", kT0);
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE(users_->SetDisabled(ann_.id, true).ok());
  EXPECT_EQ(users_->Resolve(s->token, kT0).status().code(), StatusCode::kUnauthenticated);
  auto again = users_->Login("ann@example.com", "ann-password", "", kT0);
  EXPECT_EQ(again.status().code(), StatusCode::kUnauthenticated);
  EXPECT_NE(again.status().message().find("disabled"), std::string::npos);
  EXPECT_EQ(users_->SignInVerifiedEmail("ann@example.com", "", kT0).status().code(),
            StatusCode::kUnauthenticated);
  ASSERT_TRUE(users_->SetDisabled(ann_.id, false).ok());
  EXPECT_TRUE(users_->Login("ann@example.com", "ann-password", "", kT0).ok());
}

TEST_F(UsersTest, TwoOrgsAndSwitching) {
  std::string beta = cat_->CreateOrg("beta")->id;
  ASSERT_TRUE(users_->AddToOrg(beta, ann_.id, "viewer").ok());
  auto orgs = users_->OrgsOf(ann_.id);
  ASSERT_TRUE(orgs.ok());
  ASSERT_EQ(orgs->size(), 2u);
  EXPECT_EQ((*orgs)[1].name, "beta");

  auto s = users_->Login("ann@example.com", "ann-password", "beta", kT0);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->principal.org_id, beta);
  EXPECT_EQ(s->principal.role, "viewer");
  EXPECT_EQ(users_->Login("ann@example.com", "ann-password", "gamma", kT0).status().code(),
            StatusCode::kPermissionDenied);

  auto back = users_->SwitchOrg(s->token, acme_, kT0 + kSecond);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->principal.org_id, acme_);
  EXPECT_EQ(back->principal.role, "owner");
  EXPECT_NE(back->token, s->token);
  EXPECT_EQ(users_->Resolve(s->token, kT0 + kSecond).status().code(), StatusCode::kUnauthenticated);

  // Leaving an org ends the session there.
  auto in_beta = users_->SwitchOrg(back->token, "beta", kT0 + kSecond);
  ASSERT_TRUE(in_beta.ok());
  ASSERT_TRUE(cat_->RemoveOrgMember(beta, ann_.id).ok());
  EXPECT_EQ(users_->Resolve(in_beta->token, kT0 + kSecond).status().code(),
            StatusCode::kUnauthenticated);
}

TEST_F(UsersTest, CreateUserValidation) {
  auto dup = users_->CreateUser(acme_, "ANN@example.com", "Other", "other-password", "viewer");
  EXPECT_EQ(dup.status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(users_->CreateUser(acme_, "not-an-email", "x", "password-1", "viewer").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(users_->CreateUser(acme_, "b@x.io", "x", "short", "viewer").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(users_->CreateUser(acme_, "b@x.io", "x", "password-1", "god").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(users_->CreateUser("no-org", "b@x.io", "x", "password-1", "viewer").status().code(),
            StatusCode::kNotFound);
  // Nothing of the refused attempts was written.
  EXPECT_EQ(cat_->FindUserByEmail("b@x.io").status().code(), StatusCode::kNotFound);
}

TEST_F(UsersTest, PasswordChangeEndsSessions) {
  auto s = users_->Login("ann@example.com", "ann-password", "", kT0);
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE(users_->SetPassword(ann_.id, "new-password").ok());
  EXPECT_FALSE(users_->Resolve(s->token, kT0).ok());
  EXPECT_FALSE(users_->Login("ann@example.com", "ann-password", "", kT0).ok());
  EXPECT_TRUE(users_->Login("ann@example.com", "new-password", "", kT0).ok());
}

TEST_F(UsersTest, VerifiedEmailSignIn) {
  auto s = users_->SignInVerifiedEmail("ANN@EXAMPLE.COM", "acme", kT0);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->principal.user_id, ann_.id);
  EXPECT_EQ(users_->SignInVerifiedEmail("nobody@example.com", "", kT0).status().code(),
            StatusCode::kUnauthenticated);
}

TEST(Csrf, TokensAreTiedToTheSession) {
  std::string a(64, 'a');
  std::string b(64, 'b');
  std::string csrf = Users::CsrfTokenFor(a);
  EXPECT_EQ(csrf.size(), 64u);
  EXPECT_TRUE(Users::CsrfMatches(a, csrf));
  EXPECT_FALSE(Users::CsrfMatches(b, csrf));
  EXPECT_FALSE(Users::CsrfMatches(a, ""));
  EXPECT_FALSE(Users::CsrfMatches(a, csrf.substr(1)));
  EXPECT_NE(csrf, Sha256Hex(a));  // not the stored session hash
}

TEST_F(UsersTest, MalformedTokensAreRefused) {
  for (const char* t : {"", "abc", "ZZZZ"}) {
    EXPECT_EQ(users_->Resolve(t, kT0).status().code(), StatusCode::kUnauthenticated);
  }
  EXPECT_EQ(users_->Resolve(std::string(64, '0'), kT0).status().code(),
            StatusCode::kUnauthenticated);
}

}  // namespace
}  // namespace arbor::control
