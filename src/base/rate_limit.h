// Token-bucket rate limiting: each key (an API key id) may make `rate_per_s` requests per
// second on average and `burst` at once. Time is passed in, so tests need no sleeping.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

namespace arbor {

class TokenBucket {
 public:
  TokenBucket(double rate_per_s, double burst, std::int64_t now_us)
      : rate_per_s_(rate_per_s), burst_(burst), tokens_(burst), updated_us_(now_us) {}

  // Takes one token: 0 when granted, else the seconds until a token will be there.
  double Take(std::int64_t now_us);
  // Whether the bucket is full at `now_us` (an idle key: safe to forget).
  bool Full(std::int64_t now_us) const;

 private:
  void Refill(std::int64_t now_us);

  double rate_per_s_;
  double burst_;
  double tokens_;
  std::int64_t updated_us_;
};

// One bucket per key, at most `keys_max` remembered (idle, full buckets are dropped first;
// a full bucket and a new one behave the same, so forgetting them changes nothing).
class RateLimiter {
 public:
  RateLimiter(double rate_per_s, double burst, std::size_t keys_max);

  // 0 when the request may go ahead, else the seconds to wait (for Retry-After).
  double Acquire(const std::string& key, std::int64_t now_us);
  bool enabled() const { return rate_per_s_ > 0; }

 private:
  const double rate_per_s_;
  const double burst_;
  const std::size_t keys_max_;
  std::mutex mu_;
  std::unordered_map<std::string, TokenBucket> buckets_;
};

}  // namespace arbor
