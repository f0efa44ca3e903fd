#include "base/rate_limit.h"

#include <algorithm>

namespace arbor {

void TokenBucket::Refill(std::int64_t now_us) {
  if (now_us <= updated_us_) return;  // clocks that step back never mint tokens
  tokens_ =
      std::min(burst_, tokens_ + static_cast<double>(now_us - updated_us_) / 1e6 * rate_per_s_);
  updated_us_ = now_us;
}

double TokenBucket::Take(std::int64_t now_us) {
  Refill(now_us);
  if (tokens_ >= 1) {
    tokens_ -= 1;
    return 0;
  }
  return (1 - tokens_) / rate_per_s_;
}

bool TokenBucket::Full(std::int64_t now_us) const {
  double elapsed_s = static_cast<double>(std::max<std::int64_t>(0, now_us - updated_us_)) / 1e6;
  return tokens_ + elapsed_s * rate_per_s_ >= burst_;
}

RateLimiter::RateLimiter(double rate_per_s, double burst, std::size_t keys_max)
    : rate_per_s_(rate_per_s), burst_(std::max(1.0, burst)), keys_max_(keys_max) {}

double RateLimiter::Acquire(const std::string& key, std::int64_t now_us) {
  if (rate_per_s_ <= 0) return 0;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = buckets_.find(key);
  if (it == buckets_.end()) {
    if (buckets_.size() >= keys_max_) {
      std::erase_if(buckets_, [now_us](const auto& kv) { return kv.second.Full(now_us); });
    }
    // Still full of busy keys: let the request through rather than grow without bound.
    if (buckets_.size() >= keys_max_) return 0;
    it = buckets_.emplace(key, TokenBucket(rate_per_s_, burst_, now_us)).first;
  }
  return it->second.Take(now_us);
}

}  // namespace arbor
