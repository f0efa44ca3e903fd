// Sign-in for the web UI and /v1/user.
//
// POST /api/auth/login {email, password, org?} sets the session cookie (HttpOnly, SameSite=Lax,
// Secure behind TLS) and answers {user, org, orgs, csrf_token}; POST /api/auth/logout ends it;
// GET /api/auth/session says who is signed in (with an API key too); POST /api/auth/switch_org
// moves the session to another of the user's orgs. Requests authenticated by the cookie go
// through SessionPrincipal, which also demands X-CSRF-Token on unsafe methods.
//
// /v1/user lists and reads the users of the caller's org; POST and PATCH are for the org's
// owners and admins (admin-only routes).
#include <algorithm>

#include "api/app.h"
#include "api/cookies.h"
#include "api/fields.h"
#include "base/limits.h"
#include "base/util.h"
#include "control/password.h"
#include "control/users.h"

namespace arbor::api {

namespace bj = boost::json;

namespace {

constexpr std::int64_t kMicros = 1'000'000;

bool IsUnsafeMethod(const std::string& method) {
  return method != "GET" && method != "HEAD" && method != "OPTIONS";
}

bool IsAdmin(const control::Principal& p) { return p.role == "owner" || p.role == "admin"; }

// Signed in with the session cookie (keys may carry a user_id too, but always a key_id).
bool IsSession(const control::Principal& p) { return p.key_id.empty() && !p.user_id.empty(); }

// "Ann Lee" -> given "Ann", family "Lee" (the Braintrust user object has both).
bj::object UserJson(const catalog::User& user, const std::string& role) {
  std::size_t space = user.name.find(' ');
  bj::object o{
      {"id", user.id},
      {"email", user.email},
      {"name", user.name},
      {"given_name", user.name.substr(0, space)},
      {"family_name", space == std::string::npos ? std::string() : user.name.substr(space + 1)},
      {"avatar_url", nullptr},
      {"created", user.created},
      {"disabled", user.disabled}};
  if (!role.empty()) o["role"] = role;
  return o;
}

bj::array OrgsJson(const std::vector<control::OrgChoice>& orgs) {
  bj::array out;
  for (const auto& o : orgs) out.push_back({{"id", o.id}, {"name", o.name}, {"role", o.role}});
  return out;
}

bj::object OrgJson(const control::Principal& p) {
  return {{"id", p.org_id}, {"name", p.org_name}, {"role", p.role}};
}

// The name from {name} or {given_name, family_name}.
StatusOr<std::string> NameFrom(const bj::object& body) {
  ASSIGN_OR_RETURN(auto name, OptString(body, "name"));
  if (name) return *name;
  ASSIGN_OR_RETURN(auto given, OptString(body, "given_name"));
  ASSIGN_OR_RETURN(auto family, OptString(body, "family_name"));
  std::string out = given.value_or("");
  if (family && !family->empty()) out += (out.empty() ? "" : " ") + *family;
  return out;
}

}  // namespace

StatusOr<control::Principal> App::SessionPrincipal(const Request& request) const {
  std::string token = CookieValue(request, control::kSessionCookie);
  if (deps_.users == nullptr || token.empty()) return deps_.auth.Authenticate("");
  ASSIGN_OR_RETURN(control::SignedIn s, deps_.users->Resolve(token, NowMicros()));
  // A cross-site page can make the browser send the cookie, but cannot read the CSRF token.
  if (IsUnsafeMethod(request.method) &&
      !control::Users::CsrfMatches(token, request.Header("x-csrf-token"))) {
    return PermissionDenied(
        "missing or wrong X-CSRF-Token header: requests signed in with a session cookie must "
        "send the csrf_token from /api/auth/session");
  }
  return s.principal;
}

void App::AddUserRoutes() {
  if (deps_.users == nullptr) return;
  auto secure = [this](const Request& r) {
    return deps_.secure_cookies || r.Header("x-forwarded-proto") == "https";
  };
  // The answer of sign-in, org switch and GET /api/auth/session.
  auto session_json = [this](const control::SignedIn& s) -> StatusOr<bj::object> {
    ASSIGN_OR_RETURN(auto orgs, deps_.users->OrgsOf(s.user.id));
    return bj::object{{"auth", "session"},           {"user", UserJson(s.user, "")},
                      {"org", OrgJson(s.principal)}, {"orgs", OrgsJson(orgs)},
                      {"csrf_token", s.csrf_token},  {"expires", FormatIsoTime(s.expires_us)}};
  };
  auto start = [secure, session_json](const Request& r, StatusOr<control::SignedIn> s) -> Response {
    if (!s.ok()) return Error(s.status());
    auto body = session_json(*s);
    if (!body.ok()) return Error(body.status());
    Response out = Json(*body);
    out.headers.emplace_back(
        "Set-Cookie", SessionCookie(s->token, (s->expires_us - NowMicros()) / kMicros, secure(r)));
    out.headers.emplace_back("Cache-Control", "no-store");
    return out;
  };

  router_.Add({"POST", "/api/auth/login", true, [this, start](const Call& c) -> Response {
                 // JSON only: a cross-site HTML form cannot send it, so it cannot sign a
                 // victim's browser into the attacker's account.
                 if (c.request.Header("content-type").rfind("application/json", 0) != 0) {
                   return Error(InvalidArgument("sign-in takes a JSON body"));
                 }
                 auto body = BodyObject(c.request);
                 if (!body.ok()) return Error(body.status());
                 auto email = RequireString(*body, "email");
                 if (!email.ok()) return Error(email.status());
                 auto password = RequireString(*body, "password");
                 if (!password.ok()) return Error(password.status());
                 auto org = OptString(*body, "org");
                 if (!org.ok()) return Error(org.status());
                 auto s = deps_.users->Login(*email, *password, org->value_or(""), NowMicros());
                 if (s.ok()) {
                   // The browser's previous session, if any, ends here.
                   (void)deps_.users->Logout(CookieValue(c.request, control::kSessionCookie));
                 }
                 return start(c.request, std::move(s));
               }});
  // Public so that an expired cookie can still be cleared; a live session needs its CSRF
  // token, so another site cannot sign the user out.
  router_.Add({"POST", "/api/auth/logout", true, [this, secure](const Call& c) -> Response {
                 std::string token = CookieValue(c.request, control::kSessionCookie);
                 if (!token.empty() && deps_.users->Resolve(token, NowMicros()).ok() &&
                     !control::Users::CsrfMatches(token, c.request.Header("x-csrf-token"))) {
                   return Error(PermissionDenied("missing or wrong X-CSRF-Token header"));
                 }
                 if (Status st = deps_.users->Logout(token); !st.ok()) return Error(st);
                 Response out = Json(bj::object{{"signed_out", true}});
                 out.headers.emplace_back("Set-Cookie", SessionCookie("", 0, secure(c.request)));
                 return out;
               }});
  router_.Add({"GET", "/api/auth/session", false, [this, session_json](const Call& c) -> Response {
                 if (!IsSession(c.principal)) {  // an API key
                   return Json(bj::object{{"auth", "api_key"},
                                          {"user", nullptr},
                                          {"org", OrgJson(c.principal)},
                                          {"orgs", bj::array{OrgJson(c.principal)}},
                                          {"csrf_token", nullptr}});
                 }
                 std::string token = CookieValue(c.request, control::kSessionCookie);
                 auto s = deps_.users->Resolve(token, NowMicros());
                 if (!s.ok()) return Error(s.status());
                 auto body = session_json(*s);
                 return body.ok() ? Json(*body) : Error(body.status());
               }});
  router_.Add({"POST", "/api/auth/switch_org", false, [this, start](const Call& c) -> Response {
                 if (!IsSession(c.principal)) {
                   return Error(InvalidArgument("switching orgs needs a signed-in user"));
                 }
                 auto body = BodyObject(c.request);
                 if (!body.ok()) return Error(body.status());
                 auto org = RequireString(*body, "org");
                 if (!org.ok()) return Error(org.status());
                 std::string token = CookieValue(c.request, control::kSessionCookie);
                 return start(c.request, deps_.users->SwitchOrg(token, *org, NowMicros()));
               }});

  router_.Add({"GET", "/v1/user", false, [this](const Call& c) -> Response {
                 auto list = deps_.catalog.ListOrgUsers(c.principal.org_id);
                 if (!list.ok()) return Error(list.status());
                 auto members = deps_.catalog.ListOrgMembers(c.principal.org_id);
                 if (!members.ok()) return Error(members.status());
                 const std::string email = control::NormalizeEmail(c.request.Query("email"));
                 std::set<std::string> ids = SplitCommaList(c.request.Query("ids"));
                 bj::array objects;
                 for (const auto& u : *list) {
                   if (!email.empty() && control::NormalizeEmail(u.email) != email) continue;
                   if (!ids.empty() && ids.count(u.id) == 0) continue;
                   auto m = std::find_if(members->begin(), members->end(),
                                         [&](const auto& m) { return m.user_id == u.id; });
                   objects.push_back(UserJson(u, m == members->end() ? "" : m->role));
                 }
                 return Json(bj::object{{"objects", std::move(objects)}});
               }});
  router_.Add({"GET", "/v1/user/{}", false, [this](const Call& c) -> Response {
                 auto role = MemberRole(c.principal.org_id, c.params[0]);
                 if (!role.ok()) return Error(role.status());
                 auto user = deps_.catalog.GetUser(c.params[0]);
                 return user.ok() ? Json(UserJson(*user, *role)) : Error(user.status());
               }});
  // Admin-only: owners and admins add users to their org with an initial password.
  router_.Add({"POST", "/v1/user", false, [this](const Call& c) -> Response {
                 if (!IsAdmin(c.principal)) {
                   return Error(PermissionDenied("only org owners and admins may add users"));
                 }
                 auto body = BodyObject(c.request);
                 if (!body.ok()) return Error(body.status());
                 auto email = RequireString(*body, "email");
                 if (!email.ok()) return Error(email.status());
                 auto password = RequireString(*body, "password");
                 if (!password.ok()) return Error(password.status());
                 auto name = NameFrom(*body);
                 if (!name.ok()) return Error(name.status());
                 auto role = OptString(*body, "role");
                 if (!role.ok()) return Error(role.status());
                 std::string r = role->value_or("viewer");
                 if (r == "owner" && c.principal.role != "owner") {
                   return Error(PermissionDenied("only owners may add owners"));
                 }
                 auto user =
                     deps_.users->CreateUser(c.principal.org_id, *email, *name, *password, r);
                 return user.ok() ? Json(UserJson(*user, r)) : Error(user.status());
               }});
  // Admin-only: name, password, disabled, and the role in the caller's org.
  router_.Add({"PATCH", "/v1/user/{}", false, [this](const Call& c) -> Response {
                 if (!IsAdmin(c.principal)) {
                   return Error(PermissionDenied("only org owners and admins may change users"));
                 }
                 auto body = BodyObject(c.request);
                 if (!body.ok()) return Error(body.status());
                 Status st = PatchUser(c.principal, c.params[0], *body);
                 if (!st.ok()) return Error(st);
                 auto role = MemberRole(c.principal.org_id, c.params[0]);
                 auto user = deps_.catalog.GetUser(c.params[0]);
                 if (!user.ok()) return Error(user.status());
                 return Json(UserJson(*user, role.ok() ? *role : ""));
               }});
}

StatusOr<std::string> App::MemberRole(const std::string& org_id, const std::string& user_id) const {
  ASSIGN_OR_RETURN(auto members, deps_.catalog.ListOrgMembers(org_id));
  for (const auto& m : members) {
    if (m.user_id == user_id) return m.role;
  }
  return NotFound("user " + user_id + " not found");
}

// Validates every field first, then applies them: a bad request changes nothing.
Status App::PatchUser(const control::Principal& who, const std::string& user_id,
                      const bj::object& body) const {
  ASSIGN_OR_RETURN(std::string current_role, MemberRole(who.org_id, user_id));
  ASSIGN_OR_RETURN(auto disabled, OptBool(body, "disabled"));
  ASSIGN_OR_RETURN(auto password, OptString(body, "password"));
  ASSIGN_OR_RETURN(auto role, OptString(body, "role"));
  bool renames =
      body.contains("name") || body.contains("given_name") || body.contains("family_name");
  ASSIGN_OR_RETURN(std::string name, NameFrom(body));
  if (name.size() > limits::user_name_bytes_max) return InvalidArgument("'name' is too long");
  if (password) RETURN_IF_ERROR(control::CheckPasswordPolicy(*password));
  if (role && !control::IsValidRole(*role)) {
    return InvalidArgument("'role' must be one of owner, admin, editor, viewer");
  }
  if (who.role != "owner" && (current_role == "owner" || (role && *role == "owner"))) {
    return PermissionDenied("only owners may change owners or make new ones");
  }
  if (user_id == who.user_id && disabled.value_or(false)) {
    return InvalidArgument("you cannot disable yourself");
  }
  if (renames) {
    ASSIGN_OR_RETURN(catalog::User user, deps_.catalog.GetUser(user_id));
    user.name = name;
    RETURN_IF_ERROR(deps_.catalog.UpdateUser(user));
  }
  if (role) RETURN_IF_ERROR(deps_.catalog.SetOrgMemberRole(who.org_id, user_id, *role));
  if (password) RETURN_IF_ERROR(deps_.users->SetPassword(user_id, *password));
  if (disabled) RETURN_IF_ERROR(deps_.users->SetDisabled(user_id, *disabled));
  return Status::Ok();
}

}  // namespace arbor::api
