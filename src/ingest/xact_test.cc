#include "ingest/xact.h"

#include <gtest/gtest.h>

namespace arbor::ingest {
namespace {

TEST(Xact, IdsAreNineteenDigitsAndIncrease) {
  XactClock clock;
  std::uint64_t a = clock.Next(1'800'000'000);
  std::uint64_t b = clock.Next(1'800'000'000);  // same second: still increases
  std::uint64_t c = clock.Next(1'700'000'000);  // clock went backwards: still increases
  EXPECT_LT(a, b);
  EXPECT_LT(b, c);
  EXPECT_EQ(XactToString(a).size(), 19u);
  EXPECT_EQ(XactToString(c).size(), 19u);
  EXPECT_LT(XactToString(a), XactToString(b));  // SDKs compare as strings
}

TEST(Xact, ObserveMovesTheClockPastReplayedIds) {
  XactClock clock;
  std::uint64_t far = kXactTopBits | (4'000'000'000ull << 16);
  clock.Observe(far);
  EXPECT_GT(clock.Next(1'800'000'000), far);
}

TEST(Xact, PrettyFormRoundTrips) {
  std::uint64_t x = kXactTopBits | (1'800'000'000ull << 16) | 7;
  std::string pretty = XactToPretty(x);
  EXPECT_EQ(pretty.size(), 16u);
  EXPECT_EQ(ParseXact(pretty), x);
  EXPECT_EQ(ParseXact(XactToString(x)), x);
  EXPECT_FALSE(ParseXact("12ab").has_value());
  EXPECT_FALSE(ParseXact("").has_value());
}

}  // namespace
}  // namespace arbor::ingest
