#include "control/secret_box.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <memory>

#include "base/util.h"

namespace arbor::control {

namespace {

// Bound into every wrapped DEK so a wrapped key cannot be mistaken for anything else.
constexpr std::string_view kDekLabel = "arbor-ai-secret-dek-v1\n";

using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}
unsigned char* Bytes(std::string& s) { return reinterpret_cast<unsigned char*>(s.data()); }

Status Failed(const char* what) { return Internal(std::string("AES-GCM ") + what + " failed"); }

Status OpenFailed() {
  return PermissionDenied("cannot decrypt: wrong master key or damaged ciphertext");
}

StatusOr<std::string> HexDecode(std::string_view hex) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  if (hex.size() % 2 != 0) return InvalidArgument("odd-length hex");
  std::string out(hex.size() / 2, '\0');
  for (std::size_t i = 0; i < out.size(); ++i) {
    int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return InvalidArgument("bad hex digit");
    out[i] = static_cast<char>(hi << 4 | lo);
  }
  return out;
}

}  // namespace

StatusOr<std::string> AesGcmSeal(std::string_view key, std::string_view plaintext,
                                 std::string_view aad) {
  if (key.size() != kAesKeyBytes) return InvalidArgument("AES-256 keys are 32 bytes");
  std::string out(kGcmNonceBytes + plaintext.size() + kGcmTagBytes, '\0');
  if (RAND_bytes(Bytes(out), static_cast<int>(kGcmNonceBytes)) != 1) return Failed("nonce");
  CipherCtx ctx(EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free);
  int len = 0;
  unsigned char* body = Bytes(out) + kGcmNonceBytes;
  if (!ctx ||
      EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, Bytes(key), Bytes(out)) != 1 ||
      EVP_EncryptUpdate(ctx.get(), nullptr, &len, Bytes(aad), static_cast<int>(aad.size())) != 1 ||
      EVP_EncryptUpdate(ctx.get(), body, &len, Bytes(plaintext),
                        static_cast<int>(plaintext.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), body + len, &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kGcmTagBytes),
                          body + plaintext.size()) != 1) {
    return Failed("seal");
  }
  return out;
}

StatusOr<std::string> AesGcmOpen(std::string_view key, std::string_view sealed,
                                 std::string_view aad) {
  if (key.size() != kAesKeyBytes) return InvalidArgument("AES-256 keys are 32 bytes");
  if (sealed.size() < kGcmNonceBytes + kGcmTagBytes) return OpenFailed();
  std::string_view nonce = sealed.substr(0, kGcmNonceBytes);
  std::string_view body =
      sealed.substr(kGcmNonceBytes, sealed.size() - kGcmNonceBytes - kGcmTagBytes);
  std::string tag(sealed.substr(sealed.size() - kGcmTagBytes));
  std::string out(body.size(), '\0');
  CipherCtx ctx(EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free);
  int len = 0;
  if (!ctx ||
      EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, Bytes(key), Bytes(nonce)) != 1 ||
      EVP_DecryptUpdate(ctx.get(), nullptr, &len, Bytes(aad), static_cast<int>(aad.size())) != 1 ||
      EVP_DecryptUpdate(ctx.get(), Bytes(out), &len, Bytes(body), static_cast<int>(body.size())) !=
          1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kGcmTagBytes),
                          Bytes(tag)) != 1) {
    return Failed("open");
  }
  if (EVP_DecryptFinal_ex(ctx.get(), Bytes(out) + len, &len) != 1) {
    OPENSSL_cleanse(out.data(), out.size());
    return OpenFailed();
  }
  return out;
}

StatusOr<std::string> ParseMasterKey(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
    text.remove_prefix(1);
  }
  auto key = Base64Decode(text);
  if (!key || key->size() != kAesKeyBytes) {
    return InvalidArgument("a master key must be the base64 of 32 bytes (openssl rand -base64 32)");
  }
  return *key;
}

StatusOr<SecretBox> SecretBox::Create(std::string master_key) {
  if (master_key.size() != kAesKeyBytes) return InvalidArgument("the master key must be 32 bytes");
  return SecretBox(std::move(master_key));
}

SecretBox::~SecretBox() { OPENSSL_cleanse(kek_.data(), kek_.size()); }

SecretBox::SecretBox(SecretBox&& other) noexcept : kek_(std::move(other.kek_)) {
  OPENSSL_cleanse(other.kek_.data(), other.kek_.size());
}

StatusOr<std::string> SecretBox::Wrap(std::string_view dek, std::string_view aad) const {
  ASSIGN_OR_RETURN(std::string wrapped, AesGcmSeal(kek_, dek, std::string(kDekLabel) += aad));
  return HexEncode(wrapped);
}

StatusOr<std::string> SecretBox::Unwrap(std::string_view wrapped_key, std::string_view aad) const {
  ASSIGN_OR_RETURN(std::string raw, HexDecode(wrapped_key));
  ASSIGN_OR_RETURN(std::string dek, AesGcmOpen(kek_, raw, std::string(kDekLabel) += aad));
  if (dek.size() != kAesKeyBytes) return OpenFailed();
  return dek;
}

StatusOr<SealedSecret> SecretBox::Seal(std::string_view plaintext, std::string_view aad) const {
  std::string dek = RandomBytes(kAesKeyBytes);
  auto value = AesGcmSeal(dek, plaintext, aad);
  auto wrapped = Wrap(dek, aad);
  OPENSSL_cleanse(dek.data(), dek.size());
  if (!value.ok()) return value.status();
  if (!wrapped.ok()) return wrapped.status();
  return SealedSecret{.sealed_value = HexEncode(*value), .wrapped_key = *std::move(wrapped)};
}

StatusOr<std::string> SecretBox::Open(const SealedSecret& sealed, std::string_view aad) const {
  ASSIGN_OR_RETURN(std::string dek, Unwrap(sealed.wrapped_key, aad));
  auto raw = HexDecode(sealed.sealed_value);
  StatusOr<std::string> out = raw.ok() ? AesGcmOpen(dek, *raw, aad) : raw.status();
  OPENSSL_cleanse(dek.data(), dek.size());
  return out;
}

StatusOr<std::string> SecretBox::Rewrap(std::string_view wrapped_key, std::string_view aad,
                                        const SecretBox& to) const {
  ASSIGN_OR_RETURN(std::string dek, Unwrap(wrapped_key, aad));
  auto out = to.Wrap(dek, aad);
  OPENSSL_cleanse(dek.data(), dek.size());
  return out;
}

}  // namespace arbor::control
