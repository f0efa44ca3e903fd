// Token buckets and the per-key limiter, with explicit time.
#include "base/rate_limit.h"

#include <gtest/gtest.h>

namespace arbor {
namespace {

constexpr std::int64_t kSecond = 1'000'000;

TEST(TokenBucket, BurstThenRate) {
  TokenBucket b(2, 3, 0);  // 2/s, burst 3
  EXPECT_EQ(b.Take(0), 0);
  EXPECT_EQ(b.Take(0), 0);
  EXPECT_EQ(b.Take(0), 0);
  double wait = b.Take(0);
  EXPECT_DOUBLE_EQ(wait, 0.5);  // one token takes half a second at 2/s
  EXPECT_EQ(b.Take(kSecond / 2), 0);
  EXPECT_GT(b.Take(kSecond / 2), 0);
  EXPECT_FALSE(b.Full(kSecond));
  EXPECT_TRUE(b.Full(10 * kSecond));
  EXPECT_EQ(b.Take(10 * kSecond), 0);
}

TEST(TokenBucket, ClockSteppingBackMintsNothing) {
  TokenBucket b(1, 1, 5 * kSecond);
  EXPECT_EQ(b.Take(5 * kSecond), 0);
  EXPECT_GT(b.Take(kSecond), 0);
}

TEST(RateLimiter, PerKeyAndBounded) {
  RateLimiter off(0, 0, 10);
  EXPECT_FALSE(off.enabled());
  for (int i = 0; i < 100; ++i) EXPECT_EQ(off.Acquire("k", 0), 0);

  RateLimiter r(1, 2, 2);
  EXPECT_EQ(r.Acquire("a", 0), 0);
  EXPECT_EQ(r.Acquire("a", 0), 0);
  EXPECT_GT(r.Acquire("a", 0), 0);
  EXPECT_EQ(r.Acquire("b", 0), 0);  // another key has its own bucket
  EXPECT_EQ(r.Acquire("a", 2 * kSecond), 0);
  // Table full (a, b): at 10 s both are idle and full, so they are forgotten for c.
  EXPECT_EQ(r.Acquire("c", 10 * kSecond), 0);
  EXPECT_EQ(r.Acquire("c", 10 * kSecond), 0);
  EXPECT_GT(r.Acquire("c", 10 * kSecond), 0);
}

}  // namespace
}  // namespace arbor
