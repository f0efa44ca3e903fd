#include "api/app.h"

#include "api/basic_auth.h"
#include "api/cors.h"
#include "api/row_writes.h"
#include "base/limits.h"
#include "base/util.h"
#include "json/json.h"

namespace arbor::api {

namespace bj = boost::json;

inline constexpr std::int64_t signed_url_ttl_s = 3600;

StatusOr<bj::object> BodyObject(const Request& request) {
  if (request.body.empty()) return InvalidArgument("request body must be a JSON object");
  ASSIGN_OR_RETURN(bj::value v, json::Parse(request.body));
  if (!v.is_object()) return InvalidArgument("request body must be a JSON object");
  return std::move(v.get_object());
}

App::App(AppDeps deps) : deps_(std::move(deps)) {
  AddControlRoutes();
  AddRestRoutes();
  AddDataRoutes();
  AddBlobRoutes();
  AddOtelRoutes();
  AddPromptRoutes();
  AddSecretRoutes();
  AddOrgRoutes();
  AddWebRoutes();
  AddRetentionRoutes();
  AddUserRoutes();
  AddOidcRoutes();
  AddOpsRoutes();
  AddAccessRoutes();
  ApplyAccessPolicy();  // last: sets what every route above needs (access_policy.cc)
}

Response App::Handle(const Request& request) const {
  const std::int64_t start_us = NowMicros();
  Served served{.request_id = RequestIdFor(request), .route = "preflight"};
  Response r;
  if (request.method == "OPTIONS") {
    r = Preflight(request);
  } else {
    r = Dispatch(request, served);
    AddCorsHeaders(request, r);
  }
  Observe(request, served, r, start_us);
  return r;
}

Response App::Dispatch(const Request& request, Served& served) const {
  served.route = "web";
  if (auto web = ServeWeb(request)) return std::move(*web);
  served.route = "unmatched";
  std::vector<std::string> params;
  bool path_matched = false;
  const Route* route = router_.Match(request.method, request.path, params, path_matched);
  if (route == nullptr) {
    if (path_matched) {
      Response r =
          Error(InvalidArgument("method " + request.method + " is not allowed on " + request.path));
      r.status = 405;
      return r;
    }
    return Error(NotFound("no route for " + request.method + " " + request.path));
  }
  served.route = route->pattern;
  served.params = params;
  control::Principal principal;
  if (!route->public_route) {
    const std::string& auth = request.Header("authorization");
    std::string secret;
    if (auth.rfind("Bearer ", 0) == 0) secret = auth.substr(7);
    if (secret.empty()) secret = request.Header("x-api-key");
    // Basic: the password is the key (Langfuse's SDKs send public:secret key pairs).
    if (auto basic = ParseBasicAuth(auth); secret.empty() && basic) secret = basic->password;
    while (!secret.empty() && std::isspace(static_cast<unsigned char>(secret.back()))) {
      secret.pop_back();
    }
    // No API key: the web UI's session cookie (routes_users.cc), CSRF-checked.
    auto who = secret.empty() ? SessionPrincipal(request) : deps_.auth.Authenticate(secret);
    if (!who.ok()) return Error(who.status());
    principal = *who;
    served.authenticated = true;
    served.principal = principal;
    if (auto refused = Admit(request, served)) return std::move(*refused);
  }
  Call call{request, principal, std::move(params)};
  // The one role check: the org role, else the caller's ACL grants on the projects it touches.
  if (!route->public_route) {
    if (auto denied = Authorize(*route, call)) return std::move(*denied);
  }
  ScopedQueryBudget budget(deps_.ops.query_budget);
  return route->handler(call);
}

StatusOr<std::uint64_t> App::WriteRows(const control::Principal& who, bj::array rows) const {
  return WriteRowsAs(deps_.writer, deps_.catalog, who, std::move(rows));
}

std::string App::SignedUrl(const Request& request, const std::string& path,
                           const std::string& op) const {
  std::string expires = std::to_string(NowMicros() / 1'000'000 + signed_url_ttl_s);
  std::string sig = HmacSha256Hex(deps_.url_signing_key, op + "\n" + path + "\n" + expires);
  return request.Origin() + path + "?expires=" + expires + "&sig=" + sig;
}

Status App::CheckSignature(const Request& request, const std::string& op) const {
  const std::string& expires = request.Query("expires");
  const std::string& sig = request.Query("sig");
  if (expires.empty() || sig.empty()) return Unauthenticated("missing URL signature");
  std::string want =
      HmacSha256Hex(deps_.url_signing_key, op + "\n" + request.path + "\n" + expires);
  if (!ConstantTimeEquals(want, sig)) return Unauthenticated("bad URL signature");
  char* end = nullptr;
  long long t = std::strtoll(expires.c_str(), &end, 10);
  if (end == nullptr || *end != '\0' || t < NowMicros() / 1'000'000) {
    return Unauthenticated("URL signature expired");
  }
  return Status::Ok();
}

}  // namespace arbor::api
