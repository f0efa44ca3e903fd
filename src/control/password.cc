#include "control/password.h"

#include <argon2.h>

#include <condition_variable>
#include <mutex>

#include "base/limits.h"
#include "base/util.h"

namespace arbor::control {
namespace {

constexpr std::size_t kSaltBytes = 16;
constexpr std::size_t kHashBytes = 32;

// Bounds the memory of concurrent hashes (each takes password_argon2_memory_kib).
class HashSlots {
 public:
  void Acquire() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return in_use_ < limits::password_hashes_concurrent_max; });
    ++in_use_;
  }
  void Release() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      --in_use_;
    }
    cv_.notify_one();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::size_t in_use_ = 0;
};

HashSlots& Slots() {
  static HashSlots slots;
  return slots;
}

class SlotGuard {
 public:
  SlotGuard() { Slots().Acquire(); }
  ~SlotGuard() { Slots().Release(); }
  SlotGuard(const SlotGuard&) = delete;
  SlotGuard& operator=(const SlotGuard&) = delete;
};

StatusOr<std::string> HashWithSalt(std::string_view password, const std::string& salt) {
  std::string out(
      argon2_encodedlen(limits::password_argon2_passes, limits::password_argon2_memory_kib,
                        limits::password_argon2_lanes, kSaltBytes, kHashBytes, Argon2_id),
      '\0');
  SlotGuard slot;
  int rc = argon2id_hash_encoded(limits::password_argon2_passes, limits::password_argon2_memory_kib,
                                 limits::password_argon2_lanes, password.data(), password.size(),
                                 salt.data(), salt.size(), kHashBytes, out.data(), out.size());
  if (rc != ARGON2_OK) return Internal(std::string("argon2id: ") + argon2_error_message(rc));
  out.resize(out.find('\0'));
  return out;
}

}  // namespace

Status CheckPasswordPolicy(std::string_view password) {
  if (password.size() < limits::password_bytes_min) {
    return InvalidArgument("password must be at least " +
                           std::to_string(limits::password_bytes_min) + " characters");
  }
  if (password.size() > limits::password_bytes_max) {
    return InvalidArgument("password must be at most " +
                           std::to_string(limits::password_bytes_max) + " bytes");
  }
  return Status::Ok();
}

StatusOr<std::string> HashPassword(std::string_view password) {
  RETURN_IF_ERROR(CheckPasswordPolicy(password));
  return HashWithSalt(password, RandomBytes(kSaltBytes));
}

bool VerifyPassword(const std::string& encoded, std::string_view password) {
  if (encoded.rfind("$argon2id$", 0) != 0 || password.size() > limits::password_bytes_max) {
    return false;
  }
  SlotGuard slot;
  return argon2id_verify(encoded.c_str(), password.data(), password.size()) == ARGON2_OK;
}

void VerifyDummyPassword(std::string_view password) {
  // Made once with the current parameters, so it costs what a real verification costs.
  static const std::string dummy = [] {
    auto h = HashWithSalt("arbor-dummy-password", RandomBytes(kSaltBytes));
    return h.ok() ? *h : std::string();
  }();
  if (password.size() > limits::password_bytes_max) password = password.substr(0, 1);
  (void)VerifyPassword(dummy, password);
}

}  // namespace arbor::control
