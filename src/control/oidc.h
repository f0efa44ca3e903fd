// OpenID Connect sign-in (authorization code flow with PKCE), the parts that need no network:
// provider metadata, PKCE, the login state carried between the redirect and the callback, and
// ID token verification (JWS RS256/ES256 against the provider's JWKS). The HTTP calls to the
// provider live in the api layer.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace arbor::control::oidc {

// What an operator configures (serve flags --oidc-*).
struct Config {
  std::string issuer;         // e.g. https://login.example.com; must equal the token's iss
  std::string client_id;      //
  std::string client_secret;  // empty: a public client (PKCE only)
  std::string redirect_uri;   // this server's /api/auth/oidc/callback as the provider sees it
  std::string scopes = "openid email profile";
  bool enabled() const { return !issuer.empty() && !client_id.empty(); }
};

// From <issuer>/.well-known/openid-configuration.
struct ProviderMetadata {
  std::string issuer;
  std::string authorization_endpoint;
  std::string token_endpoint;
  std::string jwks_uri;
};

// InvalidArgument unless every endpoint is present and the issuer is `expected_issuer`
// (OIDC Discovery §4.3: a provider may not speak for another issuer).
StatusOr<ProviderMetadata> ParseDiscovery(std::string_view json, std::string_view expected_issuer);

// URL-safe base64 without padding (RFC 7515 §2).
std::string Base64Url(std::string_view bytes);
// PKCE S256 (RFC 7636 §4.2): BASE64URL(SHA256(verifier)).
std::string PkceChallenge(std::string_view verifier);

// Kept between the redirect to the provider and its callback, in a cookie sealed with HMAC.
struct LoginState {
  std::string state;     // echoed by the provider; must match the callback's
  std::string nonce;     // must come back inside the ID token
  std::string verifier;  // PKCE code verifier
  std::string return_to;
  std::int64_t expires_s = 0;
};
LoginState NewLoginState(std::string return_to, std::int64_t now_s);
std::string SealLoginState(const LoginState& s, std::string_view key);
// PermissionDenied when the cookie was altered or has expired.
StatusOr<LoginState> OpenLoginState(std::string_view sealed, std::string_view key,
                                    std::int64_t now_s);

std::string AuthorizationUrl(const ProviderMetadata& provider, const Config& config,
                             const LoginState& s);
// application/x-www-form-urlencoded body of the token request.
std::string TokenRequestBody(const Config& config, std::string_view code,
                             std::string_view verifier);
std::string FormEncode(std::string_view text);

// The id_token of a token endpoint response; InvalidArgument when absent.
StatusOr<std::string> IdTokenOf(std::string_view token_response_json);

// Public keys of a JWKS document, by kid.
class KeySet {
 public:
  struct Key;
  KeySet();
  ~KeySet();
  KeySet(KeySet&&) noexcept;
  KeySet& operator=(KeySet&&) noexcept;
  // RSA (n, e) and EC P-256 (x, y) signing keys; other keys are skipped.
  static StatusOr<KeySet> Parse(std::string_view jwks_json);
  std::size_t size() const { return keys_.size(); }
  const Key* Find(std::string_view kid, std::string_view alg) const;

 private:
  std::vector<std::unique_ptr<Key>> keys_;
};

struct IdTokenCheck {
  std::string issuer;
  std::string client_id;
  std::string nonce;
  std::int64_t now_s = 0;
  std::int64_t leeway_s = 60;  // clock skew tolerated on exp / iat
};

struct Identity {
  std::string subject;  // sub
  std::string email;
  bool email_verified = false;  // only when the provider asserts it
  std::string name;
};

// Verifies signature (RS256 or ES256, key chosen by kid), iss, aud (and azp when several
// audiences), exp, iat and nonce. Unauthenticated with the reason otherwise.
StatusOr<Identity> VerifyIdToken(std::string_view jwt, const KeySet& keys,
                                 const IdTokenCheck& check);

}  // namespace arbor::control::oidc
