#include "control/oidc.h"

#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <boost/json.hpp>

#include "json/json.h"

namespace arbor::control::oidc {
namespace {

namespace bj = boost::json;

std::string Bn(EVP_PKEY* key, const char* name) {
  BIGNUM* bn = nullptr;
  EXPECT_EQ(EVP_PKEY_get_bn_param(key, name, &bn), 1);
  std::string out(static_cast<std::size_t>(BN_num_bytes(bn)), '\0');
  BN_bn2bin(bn, reinterpret_cast<unsigned char*>(out.data()));
  BN_free(bn);
  return out;
}

std::string SignSha256(EVP_PKEY* key, std::string_view data) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  std::size_t len = 0;
  EXPECT_EQ(EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key), 1);
  EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(data.data()),
                 data.size());
  std::string sig(len, '\0');
  EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                 reinterpret_cast<const unsigned char*>(data.data()), data.size());
  sig.resize(len);
  EVP_MD_CTX_free(ctx);
  return sig;
}

// A provider in miniature: one RSA and one P-256 key, and a way to mint ID tokens.
class OidcTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    rsa_ = EVP_RSA_gen(2048);
    ec_ = EVP_EC_gen("P-256");
  }
  static void TearDownTestSuite() {
    EVP_PKEY_free(rsa_);
    EVP_PKEY_free(ec_);
  }

  std::string Jwks() const {
    std::string pub(65, '\0');
    std::size_t len = 0;
    EVP_PKEY_get_octet_string_param(ec_, OSSL_PKEY_PARAM_PUB_KEY,
                                    reinterpret_cast<unsigned char*>(pub.data()), pub.size(), &len);
    bj::array keys;
    keys.push_back(bj::object{{"kty", "RSA"},
                              {"kid", "rsa1"},
                              {"use", "sig"},
                              {"alg", "RS256"},
                              {"n", Base64Url(Bn(rsa_, OSSL_PKEY_PARAM_RSA_N))},
                              {"e", Base64Url(Bn(rsa_, OSSL_PKEY_PARAM_RSA_E))}});
    keys.push_back(bj::object{{"kty", "EC"},
                              {"kid", "ec1"},
                              {"crv", "P-256"},
                              {"x", Base64Url(pub.substr(1, 32))},
                              {"y", Base64Url(pub.substr(33, 32))}});
    keys.push_back(bj::object{{"kty", "oct"}, {"kid", "hmac"}, {"k", "c2VjcmV0"}});
    return json::Serialize(bj::object{{"keys", keys}});
  }

  bj::object Claims() const {
    return bj::object{{"iss", "https://idp.test"},  {"aud", "arbor"},         {"sub", "u-1"},
                      {"email", "ada@example.com"}, {"email_verified", true}, {"nonce", "n-1"},
                      {"iat", kNow - 10},           {"exp", kNow + 300}};
  }

  std::string Mint(const bj::object& claims, const std::string& alg = "RS256",
                   const std::string& kid = "rsa1") const {
    std::string signing_input = Base64Url(json::Serialize(bj::object{{"alg", alg}, {"kid", kid}})) +
                                "." + Base64Url(json::Serialize(claims));
    std::string sig;
    if (alg == "RS256") {
      sig = SignSha256(rsa_, signing_input);
    } else {
      // DER from OpenSSL -> JWS raw r || s.
      std::string der = SignSha256(ec_, signing_input);
      const auto* p = reinterpret_cast<const unsigned char*>(der.data());
      ECDSA_SIG* s = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size()));
      std::string raw(64, '\0');
      BN_bn2binpad(ECDSA_SIG_get0_r(s), reinterpret_cast<unsigned char*>(raw.data()), 32);
      BN_bn2binpad(ECDSA_SIG_get0_s(s), reinterpret_cast<unsigned char*>(raw.data()) + 32, 32);
      ECDSA_SIG_free(s);
      sig = raw;
    }
    return signing_input + "." + Base64Url(sig);
  }

  IdTokenCheck Check() const {
    return {.issuer = "https://idp.test", .client_id = "arbor", .nonce = "n-1", .now_s = kNow};
  }

  static constexpr std::int64_t kNow = 1'800'000'000;
  static EVP_PKEY* rsa_;
  static EVP_PKEY* ec_;
};

EVP_PKEY* OidcTest::rsa_ = nullptr;
EVP_PKEY* OidcTest::ec_ = nullptr;

TEST_F(OidcTest, JwksKeepsSigningKeysOnly) {
  auto keys = KeySet::Parse(Jwks());
  ASSERT_TRUE(keys.ok()) << keys.status().ToString();
  EXPECT_EQ(keys->size(), 2u);  // the symmetric key is never a verification key
  EXPECT_NE(keys->Find("rsa1", "RS256"), nullptr);
  EXPECT_EQ(keys->Find("rsa1", "ES256"), nullptr);
  EXPECT_EQ(KeySet::Parse("{}").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(KeySet::Parse("not json").status().code(), StatusCode::kInvalidArgument);
}

TEST_F(OidcTest, VerifiesRs256AndEs256Tokens) {
  auto keys = KeySet::Parse(Jwks());
  ASSERT_TRUE(keys.ok());
  auto id = VerifyIdToken(Mint(Claims()), *keys, Check());
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(id->subject, "u-1");
  EXPECT_EQ(id->email, "ada@example.com");
  EXPECT_TRUE(id->email_verified);
  auto ec = VerifyIdToken(Mint(Claims(), "ES256", "ec1"), *keys, Check());
  ASSERT_TRUE(ec.ok()) << ec.status().ToString();
}

TEST_F(OidcTest, RefusesEveryWrongClaimOrSignature) {
  auto keys = KeySet::Parse(Jwks());
  ASSERT_TRUE(keys.ok());
  auto refused = [&](const std::string& jwt) {
    auto r = VerifyIdToken(jwt, *keys, Check());
    return !r.ok() && r.status().code() == StatusCode::kUnauthenticated;
  };
  auto with = [&](const char* key, bj::value v) {
    bj::object c = Claims();
    c[key] = std::move(v);
    return Mint(c);
  };
  EXPECT_TRUE(refused(with("iss", "https://evil.test")));
  EXPECT_TRUE(refused(with("aud", "someone-else")));
  EXPECT_TRUE(refused(with("aud", bj::array{"arbor", "other"})));  // several audiences, no azp
  EXPECT_TRUE(refused(with("exp", kNow - 3600)));
  EXPECT_TRUE(refused(with("iat", kNow + 3600)));
  EXPECT_TRUE(refused(with("nonce", "replayed")));
  EXPECT_TRUE(refused(Mint(Claims(), "RS256", "unknown-kid")));
  EXPECT_TRUE(refused(Mint(Claims(), "HS256", "hmac")));
  EXPECT_TRUE(refused("a.b"));
  EXPECT_TRUE(refused("###.###.###"));
  // A flipped payload bit breaks the signature.
  std::string jwt = Mint(Claims());
  std::size_t dot = jwt.find('.');
  jwt[dot + 5] = jwt[dot + 5] == 'A' ? 'B' : 'A';
  EXPECT_TRUE(refused(jwt));
  // alg "none" never verifies.
  std::string none =
      Base64Url(R"({"alg":"none"})") + "." + Base64Url(json::Serialize(Claims())) + ".";
  EXPECT_TRUE(refused(none));
}

TEST(Oidc, PkceChallengeMatchesRfc7636Example) {
  EXPECT_EQ(PkceChallenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
}

TEST(Oidc, LoginStateIsSealed) {
  LoginState s = NewLoginState("/app/projects", 1000);
  std::string sealed = SealLoginState(s, "key");
  auto back = OpenLoginState(sealed, "key", 1001);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->state, s.state);
  EXPECT_EQ(back->verifier, s.verifier);
  EXPECT_EQ(back->return_to, "/app/projects");
  EXPECT_EQ(OpenLoginState(sealed, "other-key", 1001).status().code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(OpenLoginState(sealed, "key", 1000 + 3600).status().code(),
            StatusCode::kPermissionDenied);
  std::string altered = sealed;
  altered[3] = altered[3] == 'a' ? 'b' : 'a';
  EXPECT_FALSE(OpenLoginState(altered, "key", 1001).ok());
  EXPECT_NE(NewLoginState("/", 0).state, s.state);
}

TEST(Oidc, DiscoveryMustNameTheConfiguredIssuer) {
  std::string doc =
      R"({"issuer":"https://idp.test","authorization_endpoint":"https://idp.test/auth",)"
      R"("token_endpoint":"https://idp.test/token","jwks_uri":"https://idp.test/jwks"})";
  auto m = ParseDiscovery(doc, "https://idp.test");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->token_endpoint, "https://idp.test/token");
  EXPECT_FALSE(ParseDiscovery(doc, "https://other.test").ok());
  EXPECT_FALSE(ParseDiscovery(R"({"issuer":"https://idp.test"})", "https://idp.test").ok());
}

TEST(Oidc, AuthorizationUrlCarriesPkceAndState) {
  ProviderMetadata p{.authorization_endpoint = "https://idp.test/auth"};
  Config c{.issuer = "https://idp.test",
           .client_id = "arbor app",
           .redirect_uri = "http://127.0.0.1:8000/api/auth/oidc/callback"};
  LoginState s = NewLoginState("/", 0);
  std::string url = AuthorizationUrl(p, c, s);
  EXPECT_EQ(url.rfind("https://idp.test/auth?response_type=code&client_id=arbor%20app", 0), 0u);
  EXPECT_NE(url.find("code_challenge=" + PkceChallenge(s.verifier)), std::string::npos);
  EXPECT_NE(url.find("code_challenge_method=S256"), std::string::npos);
  EXPECT_NE(url.find("state=" + s.state), std::string::npos);
  EXPECT_NE(url.find("redirect_uri=http%3A%2F%2F127.0.0.1%3A8000%2Fapi"), std::string::npos);
  EXPECT_NE(TokenRequestBody(c, "abc", "v").find("client_id=arbor%20app"), std::string::npos);
  c.client_secret = "s";
  EXPECT_EQ(TokenRequestBody(c, "abc", "v").find("client_id="), std::string::npos);
}

}  // namespace
}  // namespace arbor::control::oidc
