// Envelope encryption for stored secrets (AES-256-GCM, OpenSSL libcrypto). Each secret gets
// a random data key (DEK) that seals its value; the DEK itself is sealed ("wrapped") under
// the master key (KEK). Rotating the master key re-wraps DEKs without touching values.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "base/status.h"

namespace arbor::control {

inline constexpr std::size_t kAesKeyBytes = 32;
inline constexpr std::size_t kGcmNonceBytes = 12;
inline constexpr std::size_t kGcmTagBytes = 16;

// AES-256-GCM with a fresh random nonce: returns nonce | ciphertext | tag.
StatusOr<std::string> AesGcmSeal(std::string_view key, std::string_view plaintext,
                                 std::string_view aad);
// Inverse of AesGcmSeal; PermissionDenied when the key, aad or bytes do not match.
StatusOr<std::string> AesGcmOpen(std::string_view key, std::string_view sealed,
                                 std::string_view aad);

// A master key as operators store it: base64 of 32 bytes (surrounding whitespace ignored).
StatusOr<std::string> ParseMasterKey(std::string_view base64_text);

// What the catalog stores for one secret, both hex.
struct SealedSecret {
  std::string sealed_value;  // the value under the DEK
  std::string wrapped_key;   // the DEK under the master key
};

class SecretBox {
 public:
  // `master_key` must be 32 raw bytes.
  static StatusOr<SecretBox> Create(std::string master_key);
  ~SecretBox();
  SecretBox(SecretBox&& other) noexcept;
  SecretBox& operator=(SecretBox&&) = delete;
  SecretBox(const SecretBox&) = delete;
  SecretBox& operator=(const SecretBox&) = delete;

  // `aad` binds the ciphertext to its owner (e.g. org and secret id): a sealed value moved to
  // another row does not open.
  StatusOr<SealedSecret> Seal(std::string_view plaintext, std::string_view aad) const;
  StatusOr<std::string> Open(const SealedSecret& sealed, std::string_view aad) const;
  // The same DEK wrapped under `to`'s master key; fails if this box cannot unwrap it.
  StatusOr<std::string> Rewrap(std::string_view wrapped_key, std::string_view aad,
                               const SecretBox& to) const;

 private:
  explicit SecretBox(std::string kek) : kek_(std::move(kek)) {}
  StatusOr<std::string> Unwrap(std::string_view wrapped_key, std::string_view aad) const;
  StatusOr<std::string> Wrap(std::string_view dek, std::string_view aad) const;

  std::string kek_;
};

}  // namespace arbor::control
