// Transaction ids (protocol §3.7): 19-digit decimal strings, increasing, one per write.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace arbor::ingest {

// The top bits real Braintrust ids carry; keeps every id at 19 decimal digits.
inline constexpr std::uint64_t kXactTopBits = 0x0DE1ull << 48;

std::string XactToString(std::uint64_t xact);
// The 16-hex-digit "pretty" form the UI shows: (xact * 205891132094649) mod 2^64.
std::string XactToPretty(std::uint64_t xact);
// Accepts the 19-digit decimal form and the 16-hex-digit pretty form.
std::optional<std::uint64_t> ParseXact(std::string_view text);

// The largest id the clock issues within `unix_seconds` (unless it ran ahead of the clock by
// issuing more than 2^16 ids in a second): ids at or below it were written at or before then.
std::uint64_t XactAtOrBefore(std::uint64_t unix_seconds);

// Issues increasing ids: max(last + 1, top bits | unix seconds << 16).
class XactClock {
 public:
  std::uint64_t Next(std::uint64_t now_unix_seconds);
  // Guarantees later ids exceed `xact` (after WAL replay).
  void Observe(std::uint64_t xact);

 private:
  std::mutex mu_;
  std::uint64_t last_ = 0;
};

}  // namespace arbor::ingest
