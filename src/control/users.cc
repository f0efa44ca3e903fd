#include "control/users.h"

#include <algorithm>

#include "base/limits.h"
#include "base/util.h"
#include "control/password.h"

namespace arbor::control {
namespace {

constexpr std::int64_t kMicros = 1'000'000;
constexpr std::size_t kTokenBytes = 32;
// One message for an unknown email and a wrong password: the answer must not tell which.
constexpr const char* kBadLogin = "invalid email or password";
constexpr const char* kNoSession = "not signed in, or the session expired: sign in again";

Status CheckEmail(const std::string& email) {
  std::size_t at = email.rfind('@');
  bool ok = !email.empty() && email.size() <= limits::user_email_bytes_max &&
            at != std::string::npos && at > 0 && at + 1 < email.size();
  for (unsigned char c : email) ok = ok && c > 0x20 && c != 0x7f;
  if (!ok) return InvalidArgument("'email' must be an email address like name@example.com");
  return Status::Ok();
}

bool IsHexToken(std::string_view token) {
  return token.size() == 2 * kTokenBytes && std::all_of(token.begin(), token.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

const catalog::OrgMember* FindMembership(const std::vector<catalog::OrgMember>& members,
                                         const std::string& org_id) {
  for (const auto& m : members) {
    if (m.org_id == org_id) return &m;
  }
  return nullptr;
}

}  // namespace

bool IsValidRole(std::string_view role) {
  return role == "owner" || role == "admin" || role == "editor" || role == "viewer";
}

std::string NormalizeEmail(std::string_view email) {
  std::string out(email);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool LoginThrottle::Locked(const std::string& email, std::int64_t now_us) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(email);
  if (it == entries_.end()) return false;
  if (now_us - it->second.window_start_us >= limits::login_failure_window_s * kMicros) {
    entries_.erase(it);
    return false;
  }
  return it->second.failures >= limits::login_failures_max;
}

void LoginThrottle::Failed(const std::string& email, std::int64_t now_us) {
  std::lock_guard<std::mutex> lock(mu_);
  const std::int64_t window_us = limits::login_failure_window_s * kMicros;
  if (!entries_.contains(email) && entries_.size() >= limits::login_failure_emails_max) {
    std::erase_if(entries_,
                  [&](const auto& e) { return now_us - e.second.window_start_us >= window_us; });
    if (entries_.size() >= limits::login_failure_emails_max) {
      // Still full of live entries: forget the oldest one.
      auto oldest = std::min_element(entries_.begin(), entries_.end(), [](auto& a, auto& b) {
        return a.second.window_start_us < b.second.window_start_us;
      });
      entries_.erase(oldest);
    }
  }
  Entry& e = entries_[email];
  if (e.failures == 0 || now_us - e.window_start_us >= window_us) e = {0, now_us};
  ++e.failures;
}

void LoginThrottle::Succeeded(const std::string& email) {
  std::lock_guard<std::mutex> lock(mu_);
  entries_.erase(email);
}

StatusOr<catalog::User> Users::CreateUser(const std::string& org_id, const std::string& email,
                                          const std::string& name, std::string_view password,
                                          const std::string& role) {
  RETURN_IF_ERROR(CheckEmail(email));
  if (name.size() > limits::user_name_bytes_max) {
    return InvalidArgument("'name' must be at most " + std::to_string(limits::user_name_bytes_max) +
                           " bytes");
  }
  if (!IsValidRole(role)) {
    return InvalidArgument("'role' must be one of owner, admin, editor, viewer");
  }
  RETURN_IF_ERROR(catalog_.GetOrg(org_id).status());
  ASSIGN_OR_RETURN(std::string hash, HashPassword(password));
  catalog::User user{.id = NewUuid(),
                     .email = email,
                     .name = name,
                     .password_hash = std::move(hash),
                     .created = FormatIsoTime(NowMicros())};
  RETURN_IF_ERROR(catalog_.CreateUser(user));
  RETURN_IF_ERROR(catalog_.AddOrgMember(org_id, user.id, role));
  user.password_hash.clear();
  return user;
}

Status Users::AddToOrg(const std::string& org_id, const std::string& user_id,
                       const std::string& role) {
  if (!IsValidRole(role)) {
    return InvalidArgument("'role' must be one of owner, admin, editor, viewer");
  }
  return catalog_.AddOrgMember(org_id, user_id, role);
}

Status Users::SetDisabled(const std::string& user_id, bool disabled) {
  ASSIGN_OR_RETURN(catalog::User user, catalog_.GetUser(user_id));
  user.disabled = disabled;
  RETURN_IF_ERROR(catalog_.UpdateUser(user));
  if (!disabled) return Status::Ok();
  return catalog_.DeleteUserSessions(user_id, NowMicros());
}

Status Users::SetPassword(const std::string& user_id, std::string_view password) {
  ASSIGN_OR_RETURN(catalog::User user, catalog_.GetUser(user_id));
  ASSIGN_OR_RETURN(user.password_hash, HashPassword(password));
  RETURN_IF_ERROR(catalog_.UpdateUser(user));
  return catalog_.DeleteUserSessions(user_id, NowMicros());
}

StatusOr<SignedIn> Users::Login(const std::string& email, std::string_view password,
                                const std::string& org, std::int64_t now_us) {
  const std::string key = NormalizeEmail(email.substr(0, limits::user_email_bytes_max));
  if (throttle_.Locked(key, now_us)) {
    return ResourceExhausted("too many failed sign-ins for this email: try again in " +
                             std::to_string(limits::login_failure_window_s / 60) + " minutes");
  }
  auto user = email.size() <= limits::user_email_bytes_max ? catalog_.FindUserByEmail(email)
                                                           : NotFound("user not found");
  if (!user.ok() && user.status().code() != StatusCode::kNotFound) return user.status();
  bool ok = false;
  if (user.ok() && !user->password_hash.empty()) {
    ok = VerifyPassword(user->password_hash, password);
  } else {
    VerifyDummyPassword(password);  // the same time as a real check
  }
  if (!ok) {
    throttle_.Failed(key, now_us);
    return Unauthenticated(kBadLogin);
  }
  throttle_.Succeeded(key);
  if (user->disabled) return Unauthenticated("this account is disabled");
  return StartSession(std::move(*user), org, now_us);
}

StatusOr<SignedIn> Users::SignInVerifiedEmail(const std::string& email, const std::string& org,
                                              std::int64_t now_us) {
  RETURN_IF_ERROR(CheckEmail(email));
  auto user = catalog_.FindUserByEmail(email);
  if (!user.ok()) {
    if (user.status().code() != StatusCode::kNotFound) return user.status();
    return Unauthenticated("no user with email " + email + ": ask an org owner to add you");
  }
  if (user->disabled) return Unauthenticated("this account is disabled");
  return StartSession(std::move(*user), org, now_us);
}

StatusOr<SignedIn> Users::StartSession(catalog::User user, const std::string& org,
                                       std::int64_t now_us) {
  ASSIGN_OR_RETURN(std::vector<OrgChoice> orgs, OrgsOf(user.id));
  if (orgs.empty()) return PermissionDenied("this user is not a member of any organization");
  const OrgChoice* chosen = &orgs.front();
  if (!org.empty()) {
    auto it = std::find_if(orgs.begin(), orgs.end(),
                           [&](const OrgChoice& o) { return o.id == org || o.name == org; });
    if (it == orgs.end()) return PermissionDenied("you are not a member of org '" + org + "'");
    chosen = &*it;
  }
  SignedIn s;
  s.token = HexEncode(RandomBytes(kTokenBytes));
  s.csrf_token = CsrfTokenFor(s.token);
  s.expires_us = now_us + limits::session_absolute_s * kMicros;
  RETURN_IF_ERROR(catalog_.CreateSession({.token_hash = Sha256Hex(s.token),
                                          .user_id = user.id,
                                          .org_id = chosen->id,
                                          .created_us = now_us,
                                          .last_seen_us = now_us,
                                          .expires_us = s.expires_us}));
  s.principal = {
      .org_id = chosen->id, .org_name = chosen->name, .user_id = user.id, .role = chosen->role};
  user.password_hash.clear();
  s.user = std::move(user);
  return s;
}

StatusOr<SignedIn> Users::Resolve(std::string_view token, std::int64_t now_us) {
  if (!IsHexToken(token)) return Unauthenticated(kNoSession);
  const std::string hash = Sha256Hex(token);
  auto session = catalog_.FindSession(hash);
  if (!session.ok()) {
    if (session.status().code() != StatusCode::kNotFound) return session.status();
    return Unauthenticated(kNoSession);
  }
  if (now_us >= session->expires_us ||
      now_us - session->last_seen_us >= limits::session_idle_s * kMicros) {
    RETURN_IF_ERROR(catalog_.DeleteSession(hash));
    return Unauthenticated(kNoSession);
  }
  ASSIGN_OR_RETURN(catalog::User user, catalog_.GetUser(session->user_id));
  if (user.disabled) {
    RETURN_IF_ERROR(catalog_.DeleteUserSessions(user.id, now_us));
    return Unauthenticated("this account is disabled");
  }
  ASSIGN_OR_RETURN(auto memberships, catalog_.ListUserOrgs(user.id));
  const catalog::OrgMember* member = FindMembership(memberships, session->org_id);
  if (member == nullptr) return Unauthenticated(kNoSession);
  ASSIGN_OR_RETURN(catalog::Org org, catalog_.GetOrg(session->org_id));
  if (now_us - session->last_seen_us >= limits::session_touch_interval_s * kMicros) {
    RETURN_IF_ERROR(catalog_.TouchSession(hash, now_us));
  }
  SignedIn s;
  s.principal = {.org_id = org.id, .org_name = org.name, .user_id = user.id, .role = member->role};
  user.password_hash.clear();
  s.user = std::move(user);
  s.csrf_token = CsrfTokenFor(token);
  s.expires_us = session->expires_us;
  return s;
}

StatusOr<SignedIn> Users::SwitchOrg(std::string_view token, const std::string& org,
                                    std::int64_t now_us) {
  ASSIGN_OR_RETURN(SignedIn current, Resolve(token, now_us));
  ASSIGN_OR_RETURN(SignedIn next, StartSession(std::move(current.user), org, now_us));
  RETURN_IF_ERROR(catalog_.DeleteSession(Sha256Hex(token)));
  return next;
}

Status Users::Logout(std::string_view token) {
  if (!IsHexToken(token)) return Status::Ok();
  return catalog_.DeleteSession(Sha256Hex(token));
}

StatusOr<std::vector<OrgChoice>> Users::OrgsOf(const std::string& user_id) {
  ASSIGN_OR_RETURN(auto memberships, catalog_.ListUserOrgs(user_id));
  std::vector<OrgChoice> out;
  for (const auto& m : memberships) {
    ASSIGN_OR_RETURN(catalog::Org org, catalog_.GetOrg(m.org_id));
    out.push_back({.id = org.id, .name = org.name, .role = m.role});
  }
  return out;
}

std::string Users::CsrfTokenFor(std::string_view token) {
  return HmacSha256Hex(token, "arbor csrf v1");
}

bool Users::CsrfMatches(std::string_view token, std::string_view header) {
  return !header.empty() && ConstantTimeEquals(CsrfTokenFor(token), header);
}

}  // namespace arbor::control
