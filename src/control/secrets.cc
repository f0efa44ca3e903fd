#include "control/secrets.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>

#include "base/limits.h"
#include "base/util.h"

namespace arbor::control {

namespace bj = boost::json;

namespace {

// Binds a sealed value and its data key to the row: copying them to another org or secret
// does not decrypt.
std::string Aad(const AiSecretRecord& r) { return r.org_id + "/" + r.id; }

Status CheckName(const std::string& name) {
  if (name.empty()) return InvalidArgument("'name' must be a non-empty string");
  if (name.size() > limits::ai_secret_name_bytes_max) {
    return InvalidArgument("'name' is longer than " +
                           std::to_string(limits::ai_secret_name_bytes_max) + " bytes");
  }
  return Status::Ok();
}

// Writes a new key file readable by its owner only; fails if one appeared meanwhile.
Status CreateKeyFile(const std::string& path, const std::string& text) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return Internal("cannot create master key file " + path);
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
            ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) return Internal("cannot write master key file " + path);
  return Status::Ok();
}

}  // namespace

std::string MaskSecret(std::string_view value) {
  constexpr std::size_t kShownTail = 4;
  constexpr std::size_t kMinLengthToShowTail = 12;
  std::string out = "********";
  if (value.size() >= kMinLengthToShowTail) out += value.substr(value.size() - kShownTail);
  return out;
}

bj::object SecretToJson(const AiSecretRecord& r) {
  bj::object o;
  o["id"] = r.id;
  o["org_id"] = r.org_id;
  o["project_id"] = r.project_id.empty() ? bj::value(nullptr) : bj::value(r.project_id);
  o["name"] = r.name;
  o["type"] = r.type;
  o["metadata"] = r.metadata;
  o["preview_secret"] = r.preview;
  o["created"] = r.created;
  o["updated_at"] = r.updated_at;
  return o;
}

Status AiSecrets::Apply(AiSecretRecord& r, const SecretInput& in) const {
  if (in.name) {
    RETURN_IF_ERROR(CheckName(*in.name));
    r.name = *in.name;
  }
  if (in.type) r.type = *in.type;
  if (in.metadata) r.metadata = *in.metadata;
  if (in.secret) {
    if (in.secret->size() > limits::ai_secret_value_bytes_max) {
      return InvalidArgument("'secret' is longer than " +
                             std::to_string(limits::ai_secret_value_bytes_max) + " bytes");
    }
    ASSIGN_OR_RETURN(SealedSecret sealed, box_.Seal(*in.secret, Aad(r)));
    r.sealed_value = std::move(sealed.sealed_value);
    r.wrapped_key = std::move(sealed.wrapped_key);
    r.preview = MaskSecret(*in.secret);
  }
  r.updated_at = FormatIsoTime(NowMicros());
  return Status::Ok();
}

StatusOr<std::optional<AiSecretRecord>> AiSecrets::FindByName(const std::string& org_id,
                                                              const std::string& project_id,
                                                              const std::string& name) {
  ASSIGN_OR_RETURN(auto all, catalog_.ListAiSecrets(org_id));
  for (auto& r : all) {
    if (r.name == name && r.project_id == project_id) return std::optional(std::move(r));
  }
  return std::optional<AiSecretRecord>();
}

StatusOr<PutResult> AiSecrets::Create(const std::string& org_id, const SecretInput& in) {
  if (!in.name) return InvalidArgument("'name' is required");
  RETURN_IF_ERROR(CheckName(*in.name));
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(auto found, FindByName(org_id, in.project_id.value_or(""), *in.name));
  if (found) return PutResult{.record = *std::move(found), .existed = true};
  AiSecretRecord r{.id = NewUuid(),
                   .org_id = org_id,
                   .project_id = in.project_id.value_or(""),
                   .type = nullptr,
                   .metadata = nullptr,
                   .preview = "",
                   .created = FormatIsoTime(NowMicros())};
  // A secret created without a value has nothing to decrypt: seal the empty string so
  // every row verifies the same way.
  SecretInput first = in;
  if (!first.secret) first.secret = "";
  RETURN_IF_ERROR(Apply(r, first));
  if (!in.secret) r.preview = "";
  RETURN_IF_ERROR(catalog_.CreateAiSecret(r));
  return PutResult{.record = std::move(r)};
}

StatusOr<PutResult> AiSecrets::Replace(const std::string& org_id, const SecretInput& in) {
  if (!in.name) return InvalidArgument("'name' is required");
  RETURN_IF_ERROR(CheckName(*in.name));
  {
    std::lock_guard<std::mutex> lock(mu_);
    ASSIGN_OR_RETURN(auto found, FindByName(org_id, in.project_id.value_or(""), *in.name));
    if (found) {
      // Replace: fields not given become null, except the value (OpenAPI CreateAISecret).
      SecretInput all = in;
      if (!all.type) all.type = nullptr;
      if (!all.metadata) all.metadata = nullptr;
      RETURN_IF_ERROR(Apply(*found, all));
      RETURN_IF_ERROR(catalog_.UpdateAiSecret(*found));
      return PutResult{.record = *std::move(found), .existed = true};
    }
  }
  return Create(org_id, in);
}

StatusOr<AiSecretRecord> AiSecrets::Patch(const std::string& org_id, const std::string& id,
                                          const SecretInput& in) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(AiSecretRecord r, catalog_.GetAiSecret(org_id, id));
  if (in.name && *in.name != r.name) {
    ASSIGN_OR_RETURN(auto clash, FindByName(org_id, r.project_id, *in.name));
    if (clash) return AlreadyExists("an AI secret named '" + *in.name + "' exists");
  }
  RETURN_IF_ERROR(Apply(r, in));
  RETURN_IF_ERROR(catalog_.UpdateAiSecret(r));
  return r;
}

StatusOr<AiSecretRecord> AiSecrets::Get(const std::string& org_id, const std::string& id) {
  return catalog_.GetAiSecret(org_id, id);
}

StatusOr<std::vector<AiSecretRecord>> AiSecrets::List(const std::string& org_id) {
  if (org_id.empty()) return InvalidArgument("no org");  // empty would mean every org
  return catalog_.ListAiSecrets(org_id);
}

StatusOr<AiSecretRecord> AiSecrets::Delete(const std::string& org_id, const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(AiSecretRecord r, catalog_.GetAiSecret(org_id, id));
  RETURN_IF_ERROR(catalog_.DeleteAiSecret(org_id, id));
  return r;
}

StatusOr<VerifyCounts> VerifyAll(catalog::Catalog& catalog, const SecretBox& box) {
  ASSIGN_OR_RETURN(auto all, catalog.ListAiSecrets(""));
  VerifyCounts counts;
  for (const auto& r : all) {
    ++counts.total;
    if (box.Open({r.sealed_value, r.wrapped_key}, Aad(r)).ok()) ++counts.ok;
  }
  return counts;
}

Status CheckMasterKey(catalog::Catalog& catalog, const SecretBox& box) {
  ASSIGN_OR_RETURN(auto all, catalog.ListAiSecrets(""));
  if (all.empty()) return Status::Ok();
  const AiSecretRecord& r = all.front();
  if (!box.Open({r.sealed_value, r.wrapped_key}, Aad(r)).ok()) {
    return FailedPrecondition(
        "the master key does not decrypt the AI secrets in this data dir (wrong key, or a "
        "rotation that was not followed by a restart with the new key?)");
  }
  return Status::Ok();
}

StatusOr<std::size_t> RotateMasterKey(catalog::Catalog& catalog, const SecretBox& from,
                                      const SecretBox& to) {
  ASSIGN_OR_RETURN(auto all, catalog.ListAiSecrets(""));
  std::vector<std::pair<std::string, std::string>> rewrapped;
  for (const auto& r : all) {
    auto key = from.Rewrap(r.wrapped_key, Aad(r), to);
    if (!key.ok()) {
      return FailedPrecondition("the old master key does not open AI secret " + r.id +
                                "; nothing was changed");
    }
    rewrapped.emplace_back(r.id, *std::move(key));
  }
  RETURN_IF_ERROR(catalog.RewrapAiSecrets(rewrapped));
  return rewrapped.size();
}

StatusOr<std::string> LoadMasterKey(const std::string& file, const std::string& data_dir,
                                    bool may_generate, bool& generated) {
  generated = false;
  if (!file.empty()) {
    ASSIGN_OR_RETURN(std::string text, ReadFile(file));
    auto key = ParseMasterKey(text);
    if (!key.ok()) return InvalidArgument(file + ": " + key.status().message());
    return key;
  }
  if (const char* env = std::getenv("ARBOR_MASTER_KEY"); env != nullptr && *env != '\0') {
    auto key = ParseMasterKey(env);
    if (!key.ok()) return InvalidArgument("ARBOR_MASTER_KEY: " + key.status().message());
    return key;
  }
  std::string path = data_dir + "/master.key";
  if (auto text = ReadFile(path); text.ok()) {
    auto key = ParseMasterKey(*text);
    if (!key.ok()) return InvalidArgument(path + ": " + key.status().message());
    return key;
  }
  if (!may_generate) {
    return NotFound("no master key: give --master-key-file, set ARBOR_MASTER_KEY, or create " +
                    path);
  }
  std::string key = RandomBytes(kAesKeyBytes);
  RETURN_IF_ERROR(CreateKeyFile(path, Base64Encode(key) + "\n"));
  RETURN_IF_ERROR(FsyncDirectory(data_dir));
  generated = true;
  return key;
}

}  // namespace arbor::control
