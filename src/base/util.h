// Small leaf helpers: randomness, ids, hashing, time, files.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"

namespace arbor {

// Cryptographically random bytes (libsodium).
std::string RandomBytes(std::size_t n);
// A random UUIDv4 in canonical lower-case form.
std::string NewUuid();
bool LooksLikeUuid(std::string_view s);

std::string HexEncode(std::string_view bytes);
std::string Base64Encode(std::string_view bytes);
// Standard or URL-safe base64, padding optional; nothing on any other character.
std::optional<std::string> Base64Decode(std::string_view text);
// SHA-256 of `data`, hex encoded.
std::string Sha256Hex(std::string_view data);
// HMAC-SHA256 of `data` under `key` (any length), hex encoded.
std::string HmacSha256Hex(std::string_view key, std::string_view data);
// Compares in time independent of where the strings differ.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

// CRC-32C (Castagnoli), used for WAL record checksums.
std::uint32_t Crc32c(std::string_view data, std::uint32_t seed = 0);

// Microseconds since the Unix epoch.
std::int64_t NowMicros();
// "2026-11-27T21:07:32.892Z" for the given microseconds since the epoch.
std::string FormatIsoTime(std::int64_t micros);

StatusOr<std::string> ReadFile(const std::string& path);
// Writes to path.tmp, fsyncs, renames over path, fsyncs the directory.
Status WriteFileAtomic(const std::string& path, std::string_view data);
Status FsyncDirectory(const std::string& dir);

}  // namespace arbor
