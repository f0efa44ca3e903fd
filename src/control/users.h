// Local users and the web UI's sessions. Users sign in with email and password (argon2id,
// control/password.h) or, through SignInVerifiedEmail, with an identity an OIDC provider
// vouched for. A session is a random token in an HttpOnly cookie; only its SHA-256 is stored.
// Requests that ride on the cookie must echo the session's CSRF token (derived from the
// session token, so it needs no storage) on every unsafe method.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/status.h"
#include "catalog/catalog.h"
#include "control/auth.h"

namespace arbor::control {

inline constexpr const char* kSessionCookie = "arbor_session";

struct OrgChoice {
  std::string id;
  std::string name;
  std::string role;
};

// A live session, resolved from its token.
struct SignedIn {
  Principal principal;  // org, user and role; key_id empty
  catalog::User user;   // password_hash cleared
  std::string token;    // the cookie value (set only by sign-in and org switch)
  std::string csrf_token;
  std::int64_t expires_us = 0;  // absolute expiry
};

// Counts failed sign-ins per email (known or not) and locks an email after
// limits::login_failures_max failures within limits::login_failure_window_s.
class LoginThrottle {
 public:
  bool Locked(const std::string& email, std::int64_t now_us);
  void Failed(const std::string& email, std::int64_t now_us);
  void Succeeded(const std::string& email);

 private:
  struct Entry {
    std::size_t failures = 0;
    std::int64_t window_start_us = 0;
  };
  std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;  // lower-cased email -> failures
};

bool IsValidRole(std::string_view role);
// Lower-cases ASCII letters; emails compare this way everywhere.
std::string NormalizeEmail(std::string_view email);

class Users {
 public:
  explicit Users(catalog::Catalog& catalog) : catalog_(catalog) {}

  // Creates a user with a password and makes it a member of `org_id` with `role`.
  // InvalidArgument for a bad email, name, role or password; AlreadyExists for a taken email.
  StatusOr<catalog::User> CreateUser(const std::string& org_id, const std::string& email,
                                     const std::string& name, std::string_view password,
                                     const std::string& role);
  // Adds an existing user to one more org.
  Status AddToOrg(const std::string& org_id, const std::string& user_id, const std::string& role);
  // A disabled user's sessions end at once and sign-ins are refused.
  Status SetDisabled(const std::string& user_id, bool disabled);
  // Ends the user's other sessions too.
  Status SetPassword(const std::string& user_id, std::string_view password);

  // Email + password sign-in into `org` (a name or id of one of the user's orgs; empty: the
  // first membership). Unauthenticated with one message for an unknown email or a wrong
  // password; ResourceExhausted while the email is locked out.
  StatusOr<SignedIn> Login(const std::string& email, std::string_view password,
                           const std::string& org, std::int64_t now_us);
  // For sign-in flows that verified the email themselves (OIDC): no password involved.
  StatusOr<SignedIn> SignInVerifiedEmail(const std::string& email, const std::string& org,
                                         std::int64_t now_us);
  // The session behind a cookie token; Unauthenticated when unknown, idle or expired, or the
  // user was disabled or left the org.
  StatusOr<SignedIn> Resolve(std::string_view token, std::int64_t now_us);
  // Moves the session to another of the user's orgs (a new token; the old one ends).
  StatusOr<SignedIn> SwitchOrg(std::string_view token, const std::string& org, std::int64_t now_us);
  Status Logout(std::string_view token);

  StatusOr<std::vector<OrgChoice>> OrgsOf(const std::string& user_id);

  static std::string CsrfTokenFor(std::string_view token);
  // Constant-time comparison of a request's X-CSRF-Token with the session's.
  static bool CsrfMatches(std::string_view token, std::string_view header);

 private:
  StatusOr<SignedIn> StartSession(catalog::User user, const std::string& org, std::int64_t now_us);

  catalog::Catalog& catalog_;
  LoginThrottle throttle_;
};

}  // namespace arbor::control
