#include "query/ranges.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "json/json.h"
#include "query/test_env.h"
#include "query/test_random.h"

namespace arbor::query {
namespace {

namespace bj = boost::json;

constexpr double kInf = std::numeric_limits<double>::infinity();

std::vector<storage::ColumnRange> RangesOfText(std::string_view ast) {
  return RangesOf(ParseExpr(json::Parse(ast).value()).value());
}

// A row the filter matches meets every range built from it, over random rows and filters;
// and the ranges do rule rows out (the test is not vacuous).
TEST(Ranges, MatchingRowsMeetEveryRange) {
  int matched = 0;
  int ruled_out = 0;
  int ranges = 0;
  for (std::uint32_t seed = 1; seed <= 40; ++seed) {
    testing::RandomGen gen(seed);
    for (int i = 0; i < 250; ++i) {
      bj::object ast = gen.Filter();
      auto parsed = ParseExpr(ast);
      ASSERT_TRUE(parsed.ok()) << parsed.status().ToString() << " " << json::Serialize(ast);
      Expr filter = std::move(*parsed);
      std::vector<storage::ColumnRange> built = RangesOf(filter);
      ranges += static_cast<int>(built.size());
      for (int r = 0; r < 20; ++r) {
        bj::object row = gen.Row();
        const bool matches = Matches(filter, row);
        matched += matches;
        for (const storage::ColumnRange& range : built) {
          if (MeetsRange(row, range)) continue;
          ++ruled_out;
          ASSERT_FALSE(matches) << json::Serialize(ast) << "\nrow " << json::Serialize(row)
                                << "\nrange on " << range.path.front() << " [" << range.lo << ", "
                                << range.hi << "] " << range.equals.value_or("-");
        }
      }
    }
  }
  EXPECT_GT(matched, 1000);
  EXPECT_GT(ruled_out, 20000);
  EXPECT_GT(ranges, 10000);
}

TEST(Ranges, StrictBoundsAndOperandOrder) {
  auto lt = RangesOfText(R"({"op":"lt","left":{"op":"ident","name":["n"]},
                             "right":{"op":"literal","value":5}})");
  ASSERT_EQ(lt.size(), 1u);
  EXPECT_EQ(lt[0].lo, -kInf);
  EXPECT_EQ(lt[0].hi, std::nextafter(5.0, -kInf));
  auto mirrored = RangesOfText(R"({"op":"lt","left":{"op":"literal","value":5},
                                   "right":{"op":"ident","name":["metrics","tokens"]}})");
  ASSERT_EQ(mirrored.size(), 1u);
  EXPECT_EQ(mirrored[0].path, (storage::FieldPath{"metrics", "tokens"}));
  EXPECT_EQ(mirrored[0].lo, std::nextafter(5.0, kInf));
  EXPECT_EQ(mirrored[0].hi, kInf);
}

TEST(Ranges, NestedConjunctsAndStrings) {
  auto r = RangesOfText(R"({"op":"and","children":[
      {"op":"eq","left":{"op":"ident","name":["s"]},"right":{"op":"literal","value":"x"}},
      {"op":"and","children":[
        {"op":"ge","left":{"op":"ident","name":["n"]},"right":{"op":"literal","value":1}},
        {"op":"le","left":{"op":"ident","name":["n"]},"right":{"op":"literal","value":2}}]},
      {"op":"or","children":[
        {"op":"eq","left":{"op":"ident","name":["a"]},"right":{"op":"literal","value":1}},
        {"op":"eq","left":{"op":"ident","name":["b"]},"right":{"op":"literal","value":1}}]}]})");
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].equals, "x");
  EXPECT_EQ(r[1].lo, 1);
  EXPECT_EQ(r[2].hi, 2);
  // Timestamps compare as times: "...:00Z" equals "...:00.000Z", so no `equals` for them.
  auto ts = RangesOfText(R"({"op":"eq","left":{"op":"ident","name":["created"]},
                             "right":{"op":"literal","value":"2026-01-01T10:00:00Z"}})");
  ASSERT_EQ(ts.size(), 1u);
  EXPECT_FALSE(ts[0].equals);
}

TEST(Ranges, NoneForVirtualOrArrayPaths) {
  EXPECT_TRUE(RangesOfText(R"({"op":"eq","left":{"op":"ident","name":["is_root"]},
                               "right":{"op":"literal","value":true}})")
                  .empty());
  EXPECT_TRUE(RangesOfText(R"({"op":"eq","left":{"op":"ident","name":["tags","0"]},
                               "right":{"op":"literal","value":"a"}})")
                  .empty());
  EXPECT_TRUE(RangesOfText(R"({"op":"not","expr":{"op":"eq","left":{"op":"ident","name":["n"]},
                               "right":{"op":"literal","value":1}}})")
                  .empty());
}

}  // namespace
}  // namespace arbor::query
