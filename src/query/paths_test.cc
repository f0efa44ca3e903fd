#include "query/paths.h"

#include <gtest/gtest.h>

#include "json/json.h"
#include "query/test_random.h"

namespace arbor::query {
namespace {

namespace bj = boost::json;

Expr Parse(std::string_view ast) { return ParseExpr(json::Parse(ast).value()).value(); }

// any_span() resolved against the traces of a few random rows, as the engine resolves it.
Expr Resolve(const Expr& e, testing::RandomGen& gen) {
  auto keys = std::make_shared<std::unordered_set<std::string>>();
  for (int i = 0; i < 3; ++i) keys->insert(TraceScopeKey(gen.Row()));
  return ResolveAnySpan(e, [&](const Expr&) { return keys; });
}

// The property a scan reading column projections relies on, over random rows and
// expressions: an expression evaluates on the projection onto its paths exactly as on the
// row (same JSON text, so key order too).
TEST(Paths, ProjectionEvaluatesAsTheRow) {
  int projectable = 0;
  int whole = 0;
  for (std::uint32_t seed = 1; seed <= 40; ++seed) {
    testing::RandomGen gen(seed);
    for (int i = 0; i < 250; ++i) {
      bj::object ast = gen.Coin(2) ? gen.Expression(3) : gen.Filter();
      auto parsed = ParseExpr(ast);
      ASSERT_TRUE(parsed.ok()) << parsed.status().ToString() << " " << json::Serialize(ast);
      Expr e = std::move(*parsed);
      if (gen.Coin(2)) e = Resolve(e, gen);
      std::optional<std::vector<storage::FieldPath>> paths = PathsOf(e);
      if (!paths) {
        ++whole;
        continue;
      }
      ++projectable;
      for (int r = 0; r < 4; ++r) {
        bj::object row = gen.Row();
        bj::object projected = storage::ProjectRow(row, *paths);
        ASSERT_EQ(json::Serialize(Evaluate(e, row)), json::Serialize(Evaluate(e, projected)))
            << json::Serialize(ast) << "\nrow " << json::Serialize(row) << "\nprojected "
            << json::Serialize(projected);
      }
    }
  }
  EXPECT_GT(projectable, 5000);
  EXPECT_GT(whole, 100);
}

TEST(Paths, VirtualAndHeavyFields) {
  auto is_root = PathsOf(Parse(R"({"op":"ident","name":["is_root"]})"));
  ASSERT_TRUE(is_root);
  EXPECT_EQ(*is_root, (std::vector<storage::FieldPath>{{"span_parents"}}));
  // A longer path starting at is_root is a stored field like any other.
  EXPECT_EQ(*PathsOf(Parse(R"({"op":"ident","name":["is_root","x"]})")),
            (std::vector<storage::FieldPath>{{"is_root", "x"}}));
  for (const char* field : {"input", "output", "expected", "comments"}) {
    std::string ast =
        R"({"op":"isnull","expr":{"op":"ident","name":[")" + std::string(field) + R"(","a"]}})";
    EXPECT_FALSE(PathsOf(Parse(ast))) << field;
  }
}

TEST(Paths, CoveredPathsAreDropped) {
  ReadPaths reads;
  reads.AddField({"metadata", "a", "b"});
  reads.AddField({"metadata", "a"});
  reads.AddField({"metadata", "ab"});
  reads.AddField({"id"});
  reads.AddField({"metadata", "a"});
  EXPECT_EQ(*reads.Paths(),
            (std::vector<storage::FieldPath>{{"id"}, {"metadata", "a"}, {"metadata", "ab"}}));
  reads.AddWholeRow();
  EXPECT_FALSE(reads.Paths());
}

TEST(Paths, ResolvedAnySpanReadsTheTraceKey) {
  Expr e = ResolveAnySpan(
      Parse(R"({"op":"function","name":{"op":"ident","name":["any_span"]},
                                     "args":[{"op":"ident","name":["input"]}]})"),
      [](const Expr&) { return std::make_shared<const std::unordered_set<std::string>>(); });
  // The predicate (reading a heavy field) was resolved away; the trace key fields remain.
  EXPECT_EQ(*PathsOf(e), (std::vector<storage::FieldPath>{{"dataset_id"},
                                                          {"experiment_id"},
                                                          {"id"},
                                                          {"project_id"},
                                                          {"prompt_session_id"},
                                                          {"root_span_id"}}));
}

}  // namespace
}  // namespace arbor::query
