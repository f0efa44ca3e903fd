// OIDC sign-in for the web UI (authorization code flow with PKCE, control/oidc.h):
//   GET /api/auth/oidc/config    {"enabled": bool} so the sign-in page can offer the button
//   GET /api/auth/oidc/login     302 to the provider, with state/nonce/verifier in a sealed cookie
//   GET /api/auth/oidc/callback  code -> tokens -> verified ID token -> a UI session (cookie)
// The provider's email must be verified and belong to an existing user; OIDC never creates
// users, so an operator decides who is in which org.
#include <boost/json.hpp>
#include <chrono>
#include <memory>
#include <mutex>

#include "api/app.h"
#include "api/cookies.h"
#include "api/http_client.h"
#include "base/util.h"
#include "control/oidc.h"
#include "control/users.h"

namespace arbor::api {

namespace bj = boost::json;
namespace oidc = control::oidc;

namespace {

constexpr const char* kStateCookie = "arbor_oidc";
constexpr std::int64_t kMetadataTtlS = 3600;  // discovery and keys are re-read hourly

std::int64_t NowSeconds() { return NowMicros() / 1'000'000; }

// The provider's discovery document and keys, fetched on first use and cached.
class OidcProvider {
 public:
  explicit OidcProvider(oidc::Config config) : config_(std::move(config)) {}
  const oidc::Config& config() const { return config_; }

  StatusOr<oidc::ProviderMetadata> Metadata() {
    std::lock_guard<std::mutex> lock(mu_);
    RETURN_IF_ERROR(RefreshLocked(false));
    return metadata_;
  }

  // Verifies with the cached keys; on an unknown key (the provider rotated) reads them again.
  StatusOr<oidc::Identity> Verify(const std::string& id_token, const std::string& nonce) {
    oidc::IdTokenCheck check{.issuer = config_.issuer,
                             .client_id = config_.client_id,
                             .nonce = nonce,
                             .now_s = NowSeconds()};
    std::lock_guard<std::mutex> lock(mu_);
    RETURN_IF_ERROR(RefreshLocked(false));
    auto id = oidc::VerifyIdToken(id_token, keys_, check);
    if (!id.ok() && id.status().message().find("unknown key") != std::string::npos) {
      RETURN_IF_ERROR(RefreshLocked(true));
      id = oidc::VerifyIdToken(id_token, keys_, check);
    }
    return id;
  }

 private:
  Status RefreshLocked(bool force) {
    if (!force && fetched_s_ != 0 && NowSeconds() - fetched_s_ < kMetadataTtlS) {
      return Status::Ok();
    }
    std::string base = config_.issuer;
    if (!base.empty() && base.back() == '/') base.pop_back();
    ASSIGN_OR_RETURN(std::string doc, GetOk(base + "/.well-known/openid-configuration"));
    ASSIGN_OR_RETURN(oidc::ProviderMetadata m, oidc::ParseDiscovery(doc, config_.issuer));
    ASSIGN_OR_RETURN(std::string jwks, GetOk(m.jwks_uri));
    ASSIGN_OR_RETURN(oidc::KeySet keys, oidc::KeySet::Parse(jwks));
    metadata_ = std::move(m);
    keys_ = std::move(keys);
    fetched_s_ = NowSeconds();
    return Status::Ok();
  }

  static StatusOr<std::string> GetOk(const std::string& url) {
    ASSIGN_OR_RETURN(HttpReply reply, HttpFetch({.method = "GET", .url = url}));
    if (reply.status != 200) {
      return Unavailable("OIDC provider answered " + std::to_string(reply.status) + " for " + url);
    }
    return std::move(reply.body);
  }

  const oidc::Config config_;
  std::mutex mu_;
  oidc::ProviderMetadata metadata_;
  oidc::KeySet keys_;
  std::int64_t fetched_s_ = 0;
};

// Only same-site paths: an open redirect would hand the session to whoever built the link.
std::string SafeReturnTo(const std::string& path) {
  if (path.empty() || path[0] != '/' || path.rfind("//", 0) == 0 ||
      path.find('\\') != std::string::npos) {
    return "/";
  }
  return path;
}

Response Redirect(const std::string& location) {
  Response r{.status = 302, .content_type = "text/plain", .body = "", .headers = {}};
  r.headers.emplace_back("Location", location);
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

StatusOr<std::string> ExchangeCode(const oidc::ProviderMetadata& provider,
                                   const oidc::Config& config, const std::string& code,
                                   const std::string& verifier) {
  HttpCall call{.method = "POST",
                .url = provider.token_endpoint,
                .headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                            {"Accept", "application/json"}},
                .body = oidc::TokenRequestBody(config, code, verifier)};
  if (!config.client_secret.empty()) {
    // RFC 6749 §2.3.1: client_secret_basic, each part form-encoded first.
    call.headers.emplace_back("Authorization",
                              "Basic " + Base64Encode(oidc::FormEncode(config.client_id) + ":" +
                                                      oidc::FormEncode(config.client_secret)));
  }
  ASSIGN_OR_RETURN(HttpReply reply, HttpFetch(call));
  if (reply.status != 200) {
    return Unauthenticated("the OIDC provider refused the sign-in code (HTTP " +
                           std::to_string(reply.status) + ")");
  }
  return oidc::IdTokenOf(reply.body);
}

}  // namespace

void App::AddOidcRoutes() {
  if (deps_.users == nullptr) return;  // sessions are what OIDC signs people into
  auto Secure = [this](const Request& r) {
    return deps_.secure_cookies || r.Header("x-forwarded-proto") == "https";
  };
  auto provider = std::make_shared<OidcProvider>(deps_.oidc);
  router_.Add({"GET", "/api/auth/oidc/config", true, [provider](const Call&) -> Response {
                 return Json(bj::object{{"enabled", provider->config().enabled()}});
               }});
  router_.Add(
      {"GET", "/api/auth/oidc/login", true, [this, provider, Secure](const Call& c) -> Response {
         if (!provider->config().enabled()) {
           return Error(NotFound("OIDC sign-in is not configured"));
         }
         auto metadata = provider->Metadata();
         if (!metadata.ok()) return Error(metadata.status());
         oidc::LoginState state =
             oidc::NewLoginState(SafeReturnTo(c.request.Query("return_to")), NowSeconds());
         Response r = Redirect(oidc::AuthorizationUrl(*metadata, provider->config(), state));
         r.headers.emplace_back("Set-Cookie",
                                std::string(kStateCookie) + "=" +
                                    oidc::SealLoginState(state, deps_.url_signing_key) +
                                    "; Path=/api/auth/oidc; HttpOnly; SameSite=Lax; Max-Age=600" +
                                    (Secure(c.request) ? "; Secure" : ""));
         return r;
       }});
  router_.Add(
      {"GET", "/api/auth/oidc/callback", true, [this, provider, Secure](const Call& c) -> Response {
         if (!provider->config().enabled()) {
           return Error(NotFound("OIDC sign-in is not configured"));
         }
         if (const std::string& err = c.request.Query("error"); !err.empty()) {
           return Error(Unauthenticated("the OIDC provider did not sign you in: " + err));
         }
         auto state = oidc::OpenLoginState(CookieValue(c.request, kStateCookie),
                                           deps_.url_signing_key, NowSeconds());
         if (!state.ok()) return Error(state.status());
         const std::string& code = c.request.Query("code");
         if (code.empty() || !ConstantTimeEquals(c.request.Query("state"), state->state)) {
           return Error(PermissionDenied("sign-in state does not match; start again"));
         }
         auto metadata = provider->Metadata();
         if (!metadata.ok()) return Error(metadata.status());
         auto id_token = ExchangeCode(*metadata, provider->config(), code, state->verifier);
         if (!id_token.ok()) return Error(id_token.status());
         auto identity = provider->Verify(*id_token, state->nonce);
         if (!identity.ok()) return Error(identity.status());
         if (identity->email.empty() || !identity->email_verified) {
           return Error(PermissionDenied("the OIDC provider did not vouch for an email"));
         }
         auto session = deps_.users->SignInVerifiedEmail(identity->email, "", NowMicros());
         if (!session.ok()) return Error(session.status());
         Response r = Redirect(state->return_to);
         r.headers.emplace_back(
             "Set-Cookie",
             SessionCookie(session->token, (session->expires_us - NowMicros()) / 1'000'000,
                           Secure(c.request)));
         r.headers.emplace_back("Set-Cookie", std::string(kStateCookie) +
                                                  "=; Path=/api/auth/oidc; HttpOnly; Max-Age=0");
         return r;
       }});
}

}  // namespace arbor::api
