// AI provider secrets (`/v1/ai_secret`): org- or project-level, stored only sealed under
// envelope encryption (secret_box). Nothing here returns a value in plaintext except
// VerifyAll's count of what decrypts.
#pragma once

#include <boost/json.hpp>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "catalog/catalog.h"
#include "control/secret_box.h"

namespace arbor::control {

using catalog::AiSecretRecord;

// The client's fields; absent ones are left alone (PATCH, PUT without `secret`).
struct SecretInput {
  std::optional<std::string> name;
  std::optional<std::string> project_id;  // empty string: org-level
  std::optional<boost::json::value> type;
  std::optional<boost::json::value> metadata;
  std::optional<std::string> secret;
};

struct PutResult {
  AiSecretRecord record;
  bool existed = false;  // POST found one of that name: the x-bt-found-existing header
};

class AiSecrets {
 public:
  AiSecrets(catalog::Catalog& catalog, const SecretBox& box) : catalog_(catalog), box_(box) {}

  // POST: create, or return the existing secret of that name unmodified.
  StatusOr<PutResult> Create(const std::string& org_id, const SecretInput& in);
  // PUT: create, or replace the fields given on the existing secret of that name.
  StatusOr<PutResult> Replace(const std::string& org_id, const SecretInput& in);
  StatusOr<AiSecretRecord> Patch(const std::string& org_id, const std::string& id,
                                 const SecretInput& in);
  StatusOr<AiSecretRecord> Get(const std::string& org_id, const std::string& id);
  StatusOr<std::vector<AiSecretRecord>> List(const std::string& org_id);
  StatusOr<AiSecretRecord> Delete(const std::string& org_id, const std::string& id);
  // The secret of that name (org-level when `project_id` is empty), if any.
  StatusOr<std::optional<AiSecretRecord>> FindByName(const std::string& org_id,
                                                     const std::string& project_id,
                                                     const std::string& name);

 private:
  Status Apply(AiSecretRecord& r, const SecretInput& in) const;

  catalog::Catalog& catalog_;
  const SecretBox& box_;
  std::mutex mu_;  // makes find-then-create atomic
};

// What the API returns: metadata and the masked preview, never the value.
boost::json::object SecretToJson(const AiSecretRecord& r);
// "********" plus the last 4 characters of values of 12 or more characters.
std::string MaskSecret(std::string_view value);

struct VerifyCounts {
  std::size_t total = 0;
  std::size_t ok = 0;
};
// Decrypts every secret of every org (discarding the values) and counts what opens.
StatusOr<VerifyCounts> VerifyAll(catalog::Catalog& catalog, const SecretBox& box);
// Fails when secrets exist and `box` cannot unwrap their data keys: a server started with
// the wrong master key refuses to run instead of failing later.
Status CheckMasterKey(catalog::Catalog& catalog, const SecretBox& box);
// Re-wraps every data key from `from` to `to` in one catalog transaction; values untouched.
StatusOr<std::size_t> RotateMasterKey(catalog::Catalog& catalog, const SecretBox& from,
                                      const SecretBox& to);

// The master key: `file` if given, else $ARBOR_MASTER_KEY, else DATA_DIR/master.key (created
// with mode 0600 when `may_generate`; `generated` tells the caller to say so).
StatusOr<std::string> LoadMasterKey(const std::string& file, const std::string& data_dir,
                                    bool may_generate, bool& generated);

}  // namespace arbor::control
