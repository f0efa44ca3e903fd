#include "ingest/xact.h"

#include <algorithm>
#include <charconv>
#include <cstdio>

namespace arbor::ingest {
namespace {

constexpr std::uint64_t kPrettyMultiplier = 205891132094649ull;

// Multiplicative inverse modulo 2^64 by Newton's iteration (the multiplier is odd).
constexpr std::uint64_t Inverse(std::uint64_t a) {
  std::uint64_t x = a;
  for (int i = 0; i < 6; ++i) x *= 2 - a * x;
  return x;
}

constexpr std::uint64_t kPrettyInverse = Inverse(kPrettyMultiplier);
static_assert(kPrettyMultiplier * kPrettyInverse == 1);

}  // namespace

std::string XactToString(std::uint64_t xact) { return std::to_string(xact); }

std::uint64_t XactAtOrBefore(std::uint64_t unix_seconds) {
  return kXactTopBits | (unix_seconds << 16) | 0xffffu;
}

std::string XactToPretty(std::uint64_t xact) {
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx",
                static_cast<unsigned long long>(xact * kPrettyMultiplier));
  return buf;
}

std::optional<std::uint64_t> ParseXact(std::string_view text) {
  std::uint64_t v = 0;
  if (text.size() == 16) {
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v, 16);
    if (ec == std::errc() && p == text.data() + text.size()) return v * kPrettyInverse;
  }
  if (text.empty() || text.size() > 20) return std::nullopt;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v, 10);
  if (ec != std::errc() || p != text.data() + text.size()) return std::nullopt;
  return v;
}

std::uint64_t XactClock::Next(std::uint64_t now_unix_seconds) {
  std::lock_guard<std::mutex> lock(mu_);
  last_ = std::max(last_ + 1, kXactTopBits | (now_unix_seconds << 16));
  return last_;
}

void XactClock::Observe(std::uint64_t xact) {
  std::lock_guard<std::mutex> lock(mu_);
  last_ = std::max(last_, xact);
}

}  // namespace arbor::ingest
