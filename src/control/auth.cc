#include "control/auth.h"

#include <algorithm>
#include <optional>

#include "base/util.h"

namespace arbor::control {

inline constexpr std::size_t api_key_secret_bytes = 24;
inline constexpr std::size_t api_key_length_max = 512;

namespace {

// A user's key acts with the user's current role in the org, read on every use so role
// changes and removals apply at once; Unauthenticated once the user is no longer a member.
Status ApplyMemberRole(catalog::Catalog& catalog, Principal& p) {
  if (p.user_id.empty()) return Status::Ok();
  ASSIGN_OR_RETURN(auto members, catalog.ListOrgMembers(p.org_id));
  auto it = std::find_if(members.begin(), members.end(),
                         [&](const catalog::OrgMember& m) { return m.user_id == p.user_id; });
  if (it == members.end()) return Unauthenticated("invalid API key");
  p.role = it->role;
  return Status::Ok();
}

}  // namespace

StatusOr<Principal> Auth::Authenticate(std::string_view secret) {
  if (secret.empty()) return Unauthenticated("missing API key: send 'Authorization: Bearer <key>'");
  if (secret.size() > api_key_length_max) return Unauthenticated("invalid API key");
  std::string hash = Sha256Hex(secret);
  std::optional<Principal> cached;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = cache_.find(hash);
    if (it != cache_.end()) cached = it->second;
  }
  if (cached) {
    RETURN_IF_ERROR(ApplyMemberRole(catalog_, *cached));
    return *cached;
  }
  auto key = catalog_.FindApiKeyByHash(hash);
  if (!key.ok() || key->revoked || !ConstantTimeEquals(key->key_hash, hash)) {
    return Unauthenticated("invalid API key");
  }
  ASSIGN_OR_RETURN(catalog::Org org, catalog_.GetOrg(key->org_id));
  Principal p{.org_id = org.id, .org_name = org.name, .key_id = key->id, .user_id = key->user_id};
  if (!key->role.empty()) p.role = key->role;
  RETURN_IF_ERROR(ApplyMemberRole(catalog_, p));
  std::lock_guard<std::mutex> lock(mu_);
  cache_[hash] = p;
  return p;
}

StatusOr<CreatedKey> Auth::CreateKey(const std::string& org_id, const std::string& name,
                                     std::string secret) {
  return CreateKey(KeySpec{.org_id = org_id, .name = name, .secret = std::move(secret)});
}

StatusOr<CreatedKey> Auth::CreateKey(const KeySpec& spec) {
  std::string secret = spec.secret;
  if (secret.empty()) secret = "arb_" + HexEncode(RandomBytes(api_key_secret_bytes));
  if (secret.size() > api_key_length_max) return InvalidArgument("API key is too long");
  catalog::ApiKey key{.id = NewUuid(),
                      .org_id = spec.org_id,
                      .name = spec.name,
                      .key_hash = Sha256Hex(secret),
                      .created = FormatIsoTime(NowMicros()),
                      .user_id = spec.user_id,
                      .role = spec.role};
  RETURN_IF_ERROR(catalog_.CreateApiKey(key));
  return CreatedKey{.id = key.id, .secret = secret};
}

Status Auth::RevokeKey(const std::string& org_id, const std::string& key_id) {
  ASSIGN_OR_RETURN(auto keys, catalog_.ListApiKeys());
  bool mine = false;
  for (const auto& k : keys) mine = mine || (k.id == key_id && k.org_id == org_id && !k.revoked);
  if (!mine) return NotFound("no API key with id " + key_id);
  RETURN_IF_ERROR(catalog_.RevokeApiKey(key_id));
  std::lock_guard<std::mutex> lock(mu_);
  std::erase_if(cache_, [&](const auto& entry) { return entry.second.key_id == key_id; });
  return Status::Ok();
}

void Auth::ForgetOrg(const std::string& org_id) {
  std::lock_guard<std::mutex> lock(mu_);
  std::erase_if(cache_, [&](const auto& entry) { return entry.second.org_id == org_id; });
}

Status Auth::RenameOrg(const std::string& org_id, const std::string& name) {
  if (name.empty()) return InvalidArgument("'name' must be a non-empty string");
  RETURN_IF_ERROR(catalog_.RenameOrg(org_id, name));
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [hash, principal] : cache_) {
    if (principal.org_id == org_id) principal.org_name = name;
  }
  return Status::Ok();
}

}  // namespace arbor::control
