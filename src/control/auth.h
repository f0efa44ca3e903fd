// API-key authentication. Keys are random secrets shown once; only their SHA-256 is stored
// (a fast hash is enough for 192-bit random secrets; there is nothing to brute-force).
#pragma once

#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "base/status.h"
#include "catalog/catalog.h"

namespace arbor::control {

struct Principal {
  std::string org_id;
  std::string org_name;
  std::string key_id;
  std::string user_id;         // set for session sign-ins; keys owned by a user carry it too
  std::string role = "owner";  // "owner"|"admin"|"editor"|"viewer" (keys before roles: owner)
};

// A key to make. A user's key acts with the user's current org role; a service token (no user)
// with `role`; neither set: an owner key, as every key made before roles existed.
struct KeySpec {
  std::string org_id;
  std::string name;
  std::string user_id;
  std::string role;
  std::string secret;  // empty: a random one
};

struct CreatedKey {
  std::string id;
  std::string secret;  // shown to the operator once, never stored
};

class Auth {
 public:
  explicit Auth(catalog::Catalog& catalog) : catalog_(catalog) {}

  // Resolves a bearer secret to its org. Unauthenticated for unknown or revoked keys.
  StatusOr<Principal> Authenticate(std::string_view secret);

  // Creates a key for the org. With `secret` empty a random one is generated.
  StatusOr<CreatedKey> CreateKey(const std::string& org_id, const std::string& name,
                                 std::string secret = "");
  StatusOr<CreatedKey> CreateKey(const KeySpec& spec);
  // Drops the org's cached principals, so role and membership changes apply at once.
  void ForgetOrg(const std::string& org_id);

  // Revokes a key of `org_id` at once, cached or not. NotFound for another org's key.
  Status RevokeKey(const std::string& org_id, const std::string& key_id);
  // Renames an org; cached principals pick up the new name.
  Status RenameOrg(const std::string& org_id, const std::string& name);

 private:
  catalog::Catalog& catalog_;
  std::mutex mu_;
  std::unordered_map<std::string, Principal> cache_;  // key hash -> principal (valid keys only)
};

}  // namespace arbor::control
