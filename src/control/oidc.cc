#include "control/oidc.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/sha.h>

#include <boost/json.hpp>

#include "base/util.h"
#include "json/json.h"

namespace arbor::control::oidc {

namespace bj = boost::json;

namespace {

constexpr std::int64_t kLoginStateTtlS = 600;  // the user has 10 minutes at the provider

StatusOr<bj::object> ParseObject(std::string_view text, const char* what) {
  boost::system::error_code ec;
  bj::value v = bj::parse(text, ec);
  if (ec || !v.is_object()) return InvalidArgument(std::string(what) + " is not a JSON object");
  return std::move(v.get_object());
}

std::string StringField(const bj::object& o, std::string_view key) {
  const bj::value* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}

std::optional<std::int64_t> IntField(const bj::object& o, std::string_view key) {
  const bj::value* v = o.if_contains(key);
  if (v == nullptr) return std::nullopt;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64()) return static_cast<std::int64_t>(v->get_uint64());
  if (v->is_double()) return static_cast<std::int64_t>(v->get_double());
  return std::nullopt;
}

std::optional<std::string> Base64UrlDecode(std::string_view text) {
  for (char c : text) {
    if (c == '+' || c == '/' || c == '=') return std::nullopt;  // not the URL alphabet
  }
  return Base64Decode(text);
}

std::string RandomToken() { return Base64Url(RandomBytes(32)); }

using PkeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;

PkeyPtr RsaKey(const std::string& n, const std::string& e) {
  PkeyPtr none(nullptr, &EVP_PKEY_free);
  BIGNUM* bn_n = BN_bin2bn(reinterpret_cast<const unsigned char*>(n.data()),
                           static_cast<int>(n.size()), nullptr);
  BIGNUM* bn_e = BN_bin2bn(reinterpret_cast<const unsigned char*>(e.data()),
                           static_cast<int>(e.size()), nullptr);
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  OSSL_PARAM* params = nullptr;
  EVP_PKEY* pkey = nullptr;
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr);
  if (bn_n != nullptr && bn_e != nullptr && bld != nullptr && ctx != nullptr &&
      OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) == 1 &&
      OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e) == 1 &&
      (params = OSSL_PARAM_BLD_to_param(bld)) != nullptr && EVP_PKEY_fromdata_init(ctx) == 1) {
    if (EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1) pkey = nullptr;
  }
  EVP_PKEY_CTX_free(ctx);
  OSSL_PARAM_free(params);
  OSSL_PARAM_BLD_free(bld);
  BN_free(bn_n);
  BN_free(bn_e);
  return PkeyPtr(pkey, &EVP_PKEY_free);
}

PkeyPtr P256Key(const std::string& x, const std::string& y) {
  if (x.size() != 32 || y.size() != 32) return PkeyPtr(nullptr, &EVP_PKEY_free);
  std::string point = "\x04" + x + y;  // uncompressed SEC1 point
  char group[] = "prime256v1";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, 0),
      OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()),
      OSSL_PARAM_construct_end()};
  EVP_PKEY* pkey = nullptr;
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr);
  if (ctx == nullptr || EVP_PKEY_fromdata_init(ctx) != 1 ||
      EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1) {
    pkey = nullptr;
  }
  EVP_PKEY_CTX_free(ctx);
  return PkeyPtr(pkey, &EVP_PKEY_free);
}

// JWS ES256 signatures are r || s (32 bytes each); OpenSSL verifies DER.
std::optional<std::string> EcdsaRawToDer(std::string_view raw) {
  if (raw.size() != 64) return std::nullopt;
  ECDSA_SIG* sig = ECDSA_SIG_new();
  BIGNUM* r = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()), 32, nullptr);
  BIGNUM* s = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()) + 32, 32, nullptr);
  if (sig == nullptr || r == nullptr || s == nullptr || ECDSA_SIG_set0(sig, r, s) != 1) {
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(sig);
    return std::nullopt;
  }
  unsigned char* der = nullptr;
  int len = i2d_ECDSA_SIG(sig, &der);
  ECDSA_SIG_free(sig);
  if (len <= 0) return std::nullopt;
  std::string out(reinterpret_cast<char*>(der), static_cast<std::size_t>(len));
  OPENSSL_free(der);
  return out;
}

bool VerifySha256(EVP_PKEY* key, std::string_view data, std::string_view sig) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok = ctx != nullptr && EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, key) == 1 &&
            EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                             reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1;
  EVP_MD_CTX_free(ctx);
  return ok;
}

bool AudienceHas(const bj::value* aud, std::string_view client_id, std::size_t& count) {
  count = 0;
  if (aud == nullptr) return false;
  if (aud->is_string()) {
    count = 1;
    return aud->get_string() == client_id;
  }
  if (!aud->is_array()) return false;
  bool found = false;
  for (const bj::value& a : aud->get_array()) {
    ++count;
    if (a.is_string() && a.get_string() == client_id) found = true;
  }
  return found;
}

}  // namespace

struct KeySet::Key {
  std::string kid;
  std::string alg;  // "RS256" or "ES256"
  PkeyPtr pkey{nullptr, &EVP_PKEY_free};
};

KeySet::KeySet() = default;
KeySet::~KeySet() = default;
KeySet::KeySet(KeySet&&) noexcept = default;
KeySet& KeySet::operator=(KeySet&&) noexcept = default;

StatusOr<KeySet> KeySet::Parse(std::string_view jwks_json) {
  ASSIGN_OR_RETURN(bj::object doc, ParseObject(jwks_json, "JWKS"));
  const bj::value* keys = doc.if_contains("keys");
  if (keys == nullptr || !keys->is_array()) return InvalidArgument("JWKS has no keys array");
  KeySet set;
  for (const bj::value& k : keys->get_array()) {
    if (!k.is_object()) continue;
    const bj::object& o = k.get_object();
    if (std::string use = StringField(o, "use"); !use.empty() && use != "sig") continue;
    auto key = std::make_unique<Key>();
    key->kid = StringField(o, "kid");
    std::string kty = StringField(o, "kty");
    if (kty == "RSA") {
      auto n = Base64UrlDecode(StringField(o, "n"));
      auto e = Base64UrlDecode(StringField(o, "e"));
      if (!n || !e || n->empty() || e->empty()) continue;
      key->alg = "RS256";
      key->pkey = RsaKey(*n, *e);
    } else if (kty == "EC" && StringField(o, "crv") == "P-256") {
      auto x = Base64UrlDecode(StringField(o, "x"));
      auto y = Base64UrlDecode(StringField(o, "y"));
      if (!x || !y) continue;
      key->alg = "ES256";
      key->pkey = P256Key(*x, *y);
    }
    if (std::string alg = StringField(o, "alg"); !alg.empty() && alg != key->alg) continue;
    if (key->pkey != nullptr) set.keys_.push_back(std::move(key));
  }
  return set;
}

const KeySet::Key* KeySet::Find(std::string_view kid, std::string_view alg) const {
  const Key* only = nullptr;
  int candidates = 0;
  for (const auto& k : keys_) {
    if (k->alg != alg) continue;
    if (!kid.empty() && k->kid == kid) return k.get();
    ++candidates;
    only = k.get();
  }
  // Without a kid a token is only accepted when a single key could have signed it.
  return kid.empty() && candidates == 1 ? only : nullptr;
}

StatusOr<ProviderMetadata> ParseDiscovery(std::string_view json, std::string_view expected_issuer) {
  ASSIGN_OR_RETURN(bj::object doc, ParseObject(json, "OIDC discovery document"));
  ProviderMetadata m{.issuer = StringField(doc, "issuer"),
                     .authorization_endpoint = StringField(doc, "authorization_endpoint"),
                     .token_endpoint = StringField(doc, "token_endpoint"),
                     .jwks_uri = StringField(doc, "jwks_uri")};
  if (m.issuer != expected_issuer) {
    return InvalidArgument("OIDC discovery names issuer '" + m.issuer + "', configured '" +
                           std::string(expected_issuer) + "'");
  }
  if (m.authorization_endpoint.empty() || m.token_endpoint.empty() || m.jwks_uri.empty()) {
    return InvalidArgument("OIDC discovery lacks an authorization, token or jwks endpoint");
  }
  return m;
}

std::string Base64Url(std::string_view bytes) {
  std::string s = Base64Encode(bytes);
  while (!s.empty() && s.back() == '=') s.pop_back();
  for (char& c : s) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  return s;
}

std::string PkceChallenge(std::string_view verifier) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(verifier.data()), verifier.size(), digest);
  return Base64Url(std::string_view(reinterpret_cast<char*>(digest), sizeof(digest)));
}

LoginState NewLoginState(std::string return_to, std::int64_t now_s) {
  return LoginState{.state = RandomToken(),
                    .nonce = RandomToken(),
                    .verifier = RandomToken(),
                    .return_to = std::move(return_to),
                    .expires_s = now_s + kLoginStateTtlS};
}

std::string SealLoginState(const LoginState& s, std::string_view key) {
  bj::object o{{"state", s.state},
               {"nonce", s.nonce},
               {"verifier", s.verifier},
               {"return_to", s.return_to},
               {"exp", s.expires_s}};
  std::string body = Base64Url(json::Serialize(o));
  return body + "." + HmacSha256Hex(key, "oidc-login\n" + body);
}

StatusOr<LoginState> OpenLoginState(std::string_view sealed, std::string_view key,
                                    std::int64_t now_s) {
  std::size_t dot = sealed.rfind('.');
  if (dot == std::string_view::npos) return PermissionDenied("sign-in state is malformed");
  std::string body(sealed.substr(0, dot));
  if (!ConstantTimeEquals(sealed.substr(dot + 1), HmacSha256Hex(key, "oidc-login\n" + body))) {
    return PermissionDenied("sign-in state was altered");
  }
  auto text = Base64UrlDecode(body);
  if (!text) return PermissionDenied("sign-in state is malformed");
  ASSIGN_OR_RETURN(bj::object o, ParseObject(*text, "sign-in state"));
  LoginState s{.state = StringField(o, "state"),
               .nonce = StringField(o, "nonce"),
               .verifier = StringField(o, "verifier"),
               .return_to = StringField(o, "return_to"),
               .expires_s = IntField(o, "exp").value_or(0)};
  if (s.expires_s < now_s) return PermissionDenied("sign-in took too long; start again");
  return s;
}

std::string FormEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::string AuthorizationUrl(const ProviderMetadata& provider, const Config& config,
                             const LoginState& s) {
  std::string url = provider.authorization_endpoint;
  url += url.find('?') == std::string::npos ? '?' : '&';
  url += "response_type=code&client_id=" + FormEncode(config.client_id) +
         "&redirect_uri=" + FormEncode(config.redirect_uri) +
         "&scope=" + FormEncode(config.scopes) + "&state=" + FormEncode(s.state) +
         "&nonce=" + FormEncode(s.nonce) + "&code_challenge=" + PkceChallenge(s.verifier) +
         "&code_challenge_method=S256";
  return url;
}

std::string TokenRequestBody(const Config& config, std::string_view code,
                             std::string_view verifier) {
  std::string body = "grant_type=authorization_code&code=" + FormEncode(code) +
                     "&redirect_uri=" + FormEncode(config.redirect_uri) +
                     "&code_verifier=" + FormEncode(verifier);
  if (config.client_secret.empty()) body += "&client_id=" + FormEncode(config.client_id);
  return body;
}

StatusOr<std::string> IdTokenOf(std::string_view token_response_json) {
  ASSIGN_OR_RETURN(bj::object doc, ParseObject(token_response_json, "token response"));
  std::string id_token = StringField(doc, "id_token");
  if (id_token.empty()) return InvalidArgument("token response carries no id_token");
  return id_token;
}

StatusOr<Identity> VerifyIdToken(std::string_view jwt, const KeySet& keys,
                                 const IdTokenCheck& check) {
  std::size_t dot1 = jwt.find('.');
  std::size_t dot2 = dot1 == std::string_view::npos ? dot1 : jwt.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || jwt.find('.', dot2 + 1) != std::string_view::npos) {
    return Unauthenticated("ID token is not a compact JWS");
  }
  auto header_text = Base64UrlDecode(jwt.substr(0, dot1));
  auto payload_text = Base64UrlDecode(jwt.substr(dot1 + 1, dot2 - dot1 - 1));
  auto signature = Base64UrlDecode(jwt.substr(dot2 + 1));
  if (!header_text || !payload_text || !signature) {
    return Unauthenticated("ID token is not base64url");
  }
  auto header = ParseObject(*header_text, "ID token header");
  auto claims = ParseObject(*payload_text, "ID token payload");
  if (!header.ok() || !claims.ok()) return Unauthenticated("ID token is not JSON");

  std::string alg = StringField(*header, "alg");
  if (alg != "RS256" && alg != "ES256") {
    return Unauthenticated("ID token algorithm '" + alg + "' is not accepted");
  }
  const KeySet::Key* key = keys.Find(StringField(*header, "kid"), alg);
  if (key == nullptr) return Unauthenticated("ID token was signed with an unknown key");
  std::string sig = *signature;
  if (alg == "ES256") {
    auto der = EcdsaRawToDer(sig);
    if (!der) return Unauthenticated("ID token signature is malformed");
    sig = *der;
  }
  if (!VerifySha256(key->pkey.get(), jwt.substr(0, dot2), sig)) {
    return Unauthenticated("ID token signature does not verify");
  }

  const bj::object& c = *claims;
  if (StringField(c, "iss") != check.issuer) return Unauthenticated("ID token issuer mismatch");
  std::size_t audiences = 0;
  if (!AudienceHas(c.if_contains("aud"), check.client_id, audiences)) {
    return Unauthenticated("ID token is for another client");
  }
  if (audiences > 1 && StringField(c, "azp") != check.client_id) {
    return Unauthenticated("ID token azp does not name this client");
  }
  auto exp = IntField(c, "exp");
  if (!exp || *exp + check.leeway_s < check.now_s) return Unauthenticated("ID token has expired");
  if (auto iat = IntField(c, "iat"); iat && *iat > check.now_s + check.leeway_s) {
    return Unauthenticated("ID token is issued in the future");
  }
  if (check.nonce.empty() || StringField(c, "nonce") != check.nonce) {
    return Unauthenticated("ID token nonce does not match this sign-in");
  }
  Identity id{.subject = StringField(c, "sub"),
              .email = StringField(c, "email"),
              .email_verified = false,
              .name = StringField(c, "name")};
  if (const bj::value* v = c.if_contains("email_verified"); v != nullptr && v->is_bool()) {
    id.email_verified = v->get_bool();
  }
  if (id.subject.empty()) return Unauthenticated("ID token has no subject");
  return id;
}

}  // namespace arbor::control::oidc
