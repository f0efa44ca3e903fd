#include "control/auth.h"

#include "base/util.h"

namespace arbor::control {

inline constexpr std::size_t api_key_secret_bytes = 24;
inline constexpr std::size_t api_key_length_max = 512;

StatusOr<Principal> Auth::Authenticate(std::string_view secret) {
  if (secret.empty()) return Unauthenticated("missing API key: send 'Authorization: Bearer <key>'");
  if (secret.size() > api_key_length_max) return Unauthenticated("invalid API key");
  std::string hash = Sha256Hex(secret);
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = cache_.find(hash);
    if (it != cache_.end()) return it->second;
  }
  auto key = catalog_.FindApiKeyByHash(hash);
  if (!key.ok() || key->revoked || !ConstantTimeEquals(key->key_hash, hash)) {
    return Unauthenticated("invalid API key");
  }
  ASSIGN_OR_RETURN(catalog::Org org, catalog_.GetOrg(key->org_id));
  Principal p{.org_id = org.id, .org_name = org.name, .key_id = key->id};
  std::lock_guard<std::mutex> lock(mu_);
  cache_[hash] = p;
  return p;
}

StatusOr<CreatedKey> Auth::CreateKey(const std::string& org_id, const std::string& name,
                                     std::string secret) {
  if (secret.empty()) secret = "arb_" + HexEncode(RandomBytes(api_key_secret_bytes));
  if (secret.size() > api_key_length_max) return InvalidArgument("API key is too long");
  catalog::ApiKey key{.id = NewUuid(),
                      .org_id = org_id,
                      .name = name,
                      .key_hash = Sha256Hex(secret),
                      .created = FormatIsoTime(NowMicros())};
  RETURN_IF_ERROR(catalog_.CreateApiKey(key));
  return CreatedKey{.id = key.id, .secret = secret};
}

}  // namespace arbor::control
