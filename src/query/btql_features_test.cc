// Intervals and time arithmetic, the ternary / CASE conditional, any_span() and HAVING: the
// text parser (good and bad input, with positions), the JSON AST, evaluation (nulls and type
// mismatches) and the engine over real rows.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "base/util.h"
#include "json/json.h"
#include "query/btql.h"
#include "query/btql_text.h"
#include "query/engine.h"
#include "query/functions.h"
#include "query/test_env.h"

namespace arbor::query {
namespace {

namespace bj = boost::json;

// ---- timestamps and intervals ----------------------------------------------------------------

std::string Shift(std::string_view t, std::int64_t months, std::int64_t micros) {
  bj::value out = ShiftTime(bj::value(t), months, micros);
  return out.is_string() ? std::string(out.get_string()) : json::Serialize(out);
}

constexpr std::int64_t kDay = 86'400'000'000LL;

TEST(TimeArithmetic, ParsesIsoForms) {
  EXPECT_EQ(ParseTimestampMicros("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(ParseTimestampMicros("1970-01-01"), 0);
  EXPECT_EQ(ParseTimestampMicros("1970-01-01 00:00:01.5"), 1'500'000);
  EXPECT_EQ(ParseTimestampMicros("1970-01-01T02:00:00+02:00"), 0);
  EXPECT_EQ(ParseTimestampMicros("1970-01-01T00:00:00-0130"), 5'400'000'000LL);
  EXPECT_EQ(ParseTimestampMicros("1969-12-31T23:59:59.999999Z"), -1);
  EXPECT_EQ(ParseTimestampMicros("1970-01-01T00:00:00.1234567Z"), 123'456);  // beyond micros
  EXPECT_EQ(ParseTimestampMicros("2024-02-29T00:00:00Z"), 19'782 * kDay);
  for (const char* bad :
       {"", "2024", "2023-02-29", "2024-13-01", "2024-00-10", "2024-01-32", "2024-01-01T24:00",
        "2024-01-01T10", "2024-01-01T10:00:61", "2024-01-01T10:00Zjunk", "0000-01-01",
        "2024-01-01T10:00:00.Z", "2024-1-01", "not a time", "2024-01-01T10:00+2"}) {
    EXPECT_FALSE(ParseTimestampMicros(bad).has_value()) << bad;
  }
}

TEST(TimeArithmetic, FormatsMillisOrMicros) {
  EXPECT_EQ(FormatTimestampMicros(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatTimestampMicros(-1), "1969-12-31T23:59:59.999999Z");
  EXPECT_EQ(FormatTimestampMicros(1'234'000), "1970-01-01T00:00:01.234Z");
  EXPECT_FALSE(FormatTimestampMicros(*ParseTimestampMicros("9999-12-31T23:59:59Z") + 1'000'000));
  EXPECT_FALSE(FormatTimestampMicros(*ParseTimestampMicros("0001-01-01T00:00:00Z") - 1));
}

TEST(TimeArithmetic, MonthsClampToTheEndOfTheMonth) {
  EXPECT_EQ(Shift("2026-01-31T10:00:00Z", 1, 0), "2026-02-28T10:00:00.000Z");
  EXPECT_EQ(Shift("2024-01-31T10:00:00Z", 1, 0), "2024-02-29T10:00:00.000Z");  // leap year
  EXPECT_EQ(Shift("2024-02-29T00:00:00Z", 12, 0), "2025-02-28T00:00:00.000Z");
  EXPECT_EQ(Shift("2024-02-29T00:00:00Z", 48, 0), "2028-02-29T00:00:00.000Z");
  EXPECT_EQ(Shift("2026-03-31T00:00:00Z", -1, 0), "2026-02-28T00:00:00.000Z");
  EXPECT_EQ(Shift("2026-12-31T23:59:59.5Z", 1, 0), "2027-01-31T23:59:59.500Z");
  EXPECT_EQ(Shift("2026-01-15T00:00:00Z", -13, 0), "2024-12-15T00:00:00.000Z");
  EXPECT_EQ(Shift("2100-02-28T00:00:00Z", 0, kDay), "2100-03-01T00:00:00.000Z");  // not leap
  EXPECT_EQ(Shift("2000-02-28T00:00:00Z", 0, kDay), "2000-02-29T00:00:00.000Z");  // leap
  // Offsets are folded into UTC; microseconds survive.
  EXPECT_EQ(Shift("2026-01-01T01:00:00+02:00", 0, 1), "2025-12-31T23:00:00.000001Z");
  // Out of range and non-times are null.
  EXPECT_EQ(Shift("9999-12-31T00:00:00Z", 1, 0), "null");
  EXPECT_EQ(Shift("hello", 0, kDay), "null");
  EXPECT_TRUE(ShiftTime(bj::value(true), 0, kDay).is_null());
  // Numbers are epoch seconds.
  EXPECT_EQ(json::Serialize(ShiftTime(bj::value(100), 0, 60'000'000)), "160");
  EXPECT_EQ(json::Serialize(ShiftTime(bj::value(0.25), 0, 500'000)), "0.75");
  EXPECT_EQ(json::Serialize(ShiftTime(bj::value(0), 1, 0)), "2678400");  // Jan has 31 days
}

// ---- JSON AST: parsing and evaluation ---------------------------------------------------------

bj::value EvalAst(std::string_view ast, std::string_view row = "{}") {
  auto e = ParseExpr(json::Parse(ast).value());
  EXPECT_TRUE(e.ok()) << ast << ": " << e.status().ToString();
  if (!e.ok()) return nullptr;
  return Evaluate(*e, json::Parse(row)->as_object());
}

std::string AstError(std::string_view ast) {
  auto e = ParseExpr(json::Parse(ast).value());
  EXPECT_FALSE(e.ok()) << ast;
  return e.ok() ? "" : e.status().message();
}

constexpr const char* kCreated = R"({"op":"ident","name":["created"]})";

std::string Interval(int n, const char* unit) {
  return R"({"op":"interval","value":)" + std::to_string(n) + R"(,"unit":")" + unit + "\"}";
}

std::string Bin(const char* op, const std::string& l, const std::string& r) {
  return std::string(R"({"op":")") + op + R"(","left":)" + l + R"(,"right":)" + r + "}";
}

std::string Lit(const std::string& json_value) {
  return R"({"op":"literal","value":)" + json_value + "}";
}

TEST(AstInterval, ArithmeticOnTimesAndNumbers) {
  const char* row = R"({"created":"2026-03-31T12:00:00Z","n":10,"s":"x"})";
  EXPECT_EQ(json::Serialize(EvalAst(Bin("sub", kCreated, Interval(1, "month")), row)),
            R"("2026-02-28T12:00:00.000Z")");
  EXPECT_EQ(json::Serialize(EvalAst(Bin("add", Interval(2, "hours"), kCreated), row)),
            R"("2026-03-31T14:00:00.000Z")");
  EXPECT_EQ(json::Serialize(EvalAst(Bin("add", kCreated, Interval(1, "week")), row)),
            R"("2026-04-07T12:00:00.000Z")");
  EXPECT_EQ(json::Serialize(EvalAst(Bin("sub", kCreated, Interval(-1, "year")), row)),
            R"("2027-03-31T12:00:00.000Z")");
  EXPECT_EQ(json::Serialize(EvalAst(
                Bin("add", R"({"op":"ident","name":["n"]})", Interval(1500, "millisecond")), row)),
            "11.5");
  // Type mismatches and missing values are null, never an error.
  EXPECT_TRUE(
      EvalAst(Bin("add", R"({"op":"ident","name":["s"]})", Interval(1, "day")), row).is_null());
  EXPECT_TRUE(
      EvalAst(Bin("add", R"({"op":"ident","name":["nope"]})", Interval(1, "day")), row).is_null());
  EXPECT_TRUE(EvalAst(Bin("sub", Interval(1, "day"), kCreated), row).is_null());
  EXPECT_TRUE(EvalAst(Bin("add", Interval(1, "day"), Interval(1, "day")), row).is_null());
  EXPECT_TRUE(EvalAst(Bin("mul", kCreated, Interval(1, "day")), row).is_null());
  EXPECT_TRUE(EvalAst(Interval(1, "day"), row).is_null());
}

TEST(AstInterval, RejectsBadNodes) {
  EXPECT_NE(AstError(R"({"op":"interval","value":1,"unit":"fortnight"})").find("needs a 'unit'"),
            std::string::npos);
  EXPECT_NE(AstError(R"({"op":"interval","value":1})").find("needs a 'unit'"), std::string::npos);
  EXPECT_NE(AstError(R"({"op":"interval","value":1.5,"unit":"day"})").find("whole-number"),
            std::string::npos);
  EXPECT_NE(AstError(R"({"op":"interval","value":"1","unit":"day"})").find("whole-number"),
            std::string::npos);
  EXPECT_NE(AstError(R"({"op":"interval","value":20000,"unit":"year"})").find("out of range"),
            std::string::npos);
  EXPECT_NE(AstError(R"({"op":"interval","value":1e300,"unit":"second"})").find("out of range"),
            std::string::npos);
  // The largest accepted values still compute without overflow.
  EXPECT_TRUE(EvalAst(Bin("add", kCreated, R"({"op":"interval","value":119988,"unit":"month"})"),
                      R"({"created":"2026-01-01T00:00:00Z"})")
                  .is_null());
}

TEST(AstCompare, TimestampsCompareAsTimes) {
  const char* row = R"({"created":"2026-01-01T10:00:00Z"})";
  EXPECT_TRUE(EvalAst(Bin("eq", kCreated, Lit(R"("2026-01-01T10:00:00.000Z")")), row).as_bool());
  EXPECT_TRUE(EvalAst(Bin("eq", kCreated, Lit(R"("2026-01-01T12:00:00+02:00")")), row).as_bool());
  EXPECT_TRUE(EvalAst(Bin("gt", kCreated, Lit(R"("2026-01-01T09:59:59.999Z")")), row).as_bool());
  EXPECT_TRUE(EvalAst(Bin("lt", kCreated, Lit(R"("2026-01-02")")), row).as_bool());
  // A time and a string that is not one do not compare; two other strings keep string order.
  EXPECT_TRUE(EvalAst(Bin("lt", kCreated, Lit(R"("a")")), row).is_null());
  EXPECT_TRUE(EvalAst(Bin("ne", kCreated, Lit(R"("a")")), row).is_null());
  EXPECT_TRUE(EvalAst(Bin("lt", Lit(R"("2026-13-01")"), Lit(R"("a")")), row).as_bool());
  EXPECT_TRUE(EvalAst(Bin("gt", kCreated, Lit("null")), row).is_null());
}

std::string If(const std::string& cond, const std::string& then, const std::string& otherwise) {
  return R"({"op":"if","conds":[{"cond":)" + cond + R"(,"then":)" + then + R"(}],"else":)" +
         otherwise + "}";
}

TEST(AstIf, FirstTrueConditionWinsAndNullIsNotTrue) {
  const std::string flag = R"({"op":"ident","name":["f"]})";
  const std::string t = If(flag, Lit("1"), Lit("2"));
  EXPECT_EQ(json::Serialize(EvalAst(t, R"({"f":true})")), "1");
  EXPECT_EQ(json::Serialize(EvalAst(t, R"({"f":false})")), "2");
  EXPECT_EQ(json::Serialize(EvalAst(t, R"({})")), "2");           // null condition
  EXPECT_EQ(json::Serialize(EvalAst(t, R"({"f":"yes"})")), "2");  // not a boolean
  EXPECT_EQ(json::Serialize(EvalAst(R"({"op":"if","conds":[
      {"cond":{"op":"literal","value":false},"then":{"op":"literal","value":"a"}},
      {"cond":{"op":"literal","value":true},"then":{"op":"literal","value":"b"}},
      {"cond":{"op":"literal","value":true},"then":{"op":"literal","value":"c"}}]})")),
            R"("b")");
  // No else: null.
  EXPECT_TRUE(EvalAst(R"({"op":"if","conds":[{"cond":{"op":"literal","value":false},
                                              "then":{"op":"literal","value":1}}]})")
                  .is_null());
  // Only the chosen branch matters: the other may be anything.
  EXPECT_EQ(json::Serialize(EvalAst(If(Lit("true"), Lit("1"), Bin("div", Lit("1"), Lit("0"))))),
            "1");
  EXPECT_NE(AstError(R"({"op":"if","conds":[],"else":{"op":"literal","value":1}})")
                .find("non-empty 'conds'"),
            std::string::npos);
  EXPECT_NE(
      AstError(R"({"op":"if","conds":[{"cond":{"op":"literal","value":1}}]})").find("needs 'then'"),
      std::string::npos);
  EXPECT_EQ(
      json::Serialize(EvalAst(R"({"op":"neg","expr":{"op":"ident","name":["n"]}})", R"({"n":3})")),
      "-3");
  EXPECT_TRUE(EvalAst(R"({"op":"neg","expr":{"op":"literal","value":"x"}})").is_null());
  // `includes` as the SDK AST spells it.
  EXPECT_TRUE(EvalAst(R"({"op":"includes","haystack":{"op":"ident","name":["tags"]},
                          "needle":{"op":"literal","value":"b"}})",
                      R"({"tags":["a","b"]})")
                  .as_bool());
}

TEST(AstAnySpan, ParsesAndResolves) {
  const char* ast = R"({"op":"function","name":{"op":"ident","name":["any_span"]},
      "args":[{"op":"eq","left":{"op":"ident","name":["m"]},"right":{"op":"literal","value":1}}]})";
  auto e = ParseExpr(json::Parse(ast).value());
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->op, ExprOp::kAnySpan);
  // Unresolved, a span is its own trace.
  EXPECT_TRUE(Matches(*e, json::Parse(R"({"m":1})")->as_object()));
  EXPECT_FALSE(Matches(*e, json::Parse(R"({"m":2})")->as_object()));
  Expr resolved = ResolveAnySpan(*e, [](const Expr&) {
    return std::make_shared<const std::unordered_set<std::string>>(
        std::unordered_set<std::string>{"x/t1"});
  });
  EXPECT_TRUE(Matches(resolved, json::Parse(R"({"experiment_id":"x","root_span_id":"t1",
                                                "m":2})")
                                    ->as_object()));
  EXPECT_FALSE(Matches(resolved, json::Parse(R"({"experiment_id":"y","root_span_id":"t1",
                                                 "m":1})")
                                     ->as_object()));
  EXPECT_NE(AstError(R"({"op":"function","name":{"op":"ident","name":["any_span"]},"args":[]})")
                .find("takes one argument"),
            std::string::npos);
  EXPECT_NE(AstError(R"({"op":"function","name":{"op":"ident","name":["any_span"]},"args":[
                {"op":"function","name":{"op":"ident","name":["any_span"]},
                 "args":[{"op":"literal","value":true}]}]})")
                .find("cannot be nested"),
            std::string::npos);
  EXPECT_EQ(TraceScopeKey(json::Parse(R"({"dataset_id":"d","id":"r"})")->as_object()), "d/r");
}

// ---- text syntax ----------------------------------------------------------------------------

std::string FilterOf(std::string_view text) {
  auto ast = ParseBtqlText(text);
  EXPECT_TRUE(ast.ok()) << text << "\n" << ast.status().ToString();
  if (!ast.ok()) return "";
  auto q = ParseQueryAst(*ast);
  EXPECT_TRUE(q.ok()) << text << "\n" << q.status().ToString();
  const bj::value* f = ast->if_contains("filter");
  return f ? json::CanonicalString(*f) : "";
}

std::string PipeFilter(std::string_view expr) {
  return FilterOf("from: experiment('e')\nfilter: " + std::string(expr));
}

std::string SqlFilter(std::string_view expr) {
  return FilterOf("SELECT * FROM experiment('e') WHERE " + std::string(expr));
}

std::string Canon(std::string_view text) {
  return json::CanonicalString(json::Parse(text).value());
}

std::string TextError(std::string_view text) {
  auto ast = ParseBtqlText(text);
  if (ast.ok()) {
    auto q = ParseQueryAst(*ast);
    EXPECT_FALSE(q.ok()) << text << " parsed as " << json::Serialize(*ast);
    return q.ok() ? "" : "ast: " + q.status().message();
  }
  EXPECT_EQ(ast.status().code(), StatusCode::kInvalidArgument);
  return ast.status().message();
}

void ExpectErrors(const std::vector<std::pair<std::string, std::string>>& cases) {
  for (const auto& [text, want] : cases) {
    std::string got = TextError(text);
    EXPECT_EQ(got.rfind(want, 0), 0u)
        << "query: " << text << "\n got: " << got << "\nwant prefix: " << want;
  }
}

TEST(TextInterval, FormsInBothSyntaxes) {
  const std::string want = Canon(R"({"op":"gt","left":{"op":"ident","name":["created"]},
      "right":{"op":"sub","left":{"op":"function","name":{"op":"ident","name":["now"]},"args":[]},
               "right":{"op":"interval","value":1,"unit":"day"}}})");
  EXPECT_EQ(PipeFilter("created > now() - interval 1 day"), want);
  EXPECT_EQ(SqlFilter("created > NOW() - INTERVAL 1 DAY"), want);
  EXPECT_EQ(SqlFilter("created > now() - interval 1 days"), want);
  EXPECT_EQ(SqlFilter("created > now() - INTERVAL '1 day'"), want);
  EXPECT_EQ(SqlFilter("created > now() - INTERVAL '1' DAY"), want);
  EXPECT_EQ(SqlFilter("created > now() - (interval 1 Day)"), want);
  EXPECT_EQ(PipeFilter("created > now() - interval 2 weeks"),
            Canon(R"({"op":"gt","left":{"op":"ident","name":["created"]},
      "right":{"op":"sub","left":{"op":"function","name":{"op":"ident","name":["now"]},"args":[]},
               "right":{"op":"interval","value":14,"unit":"day"}}})"));
  EXPECT_EQ(PipeFilter("created < created + interval -3 hours"),
            Canon(R"({"op":"lt","left":{"op":"ident","name":["created"]},
      "right":{"op":"add","left":{"op":"ident","name":["created"]},
               "right":{"op":"interval","value":-3,"unit":"hour"}}})"));
  for (const char* unit : {"second", "minutes", "HOUR", "month", "years", "millisecond"}) {
    EXPECT_NE(PipeFilter(std::string("created > created - interval 5 ") + unit), "") << unit;
  }
  EXPECT_EQ(PipeFilter("interval - 1 > 0"),
            Canon(R"({"op":"gt","left":{"op":"sub","left":{"op":"ident","name":["interval"]},
                      "right":{"op":"literal","value":1}},"right":{"op":"literal","value":0}})"));
  EXPECT_EQ(PipeFilter("created > created + interval - 1 day"),
            Canon(R"({"op":"gt","left":{"op":"ident","name":["created"]},
      "right":{"op":"add","left":{"op":"ident","name":["created"]},
               "right":{"op":"interval","value":-1,"unit":"day"}}})"));
  // `interval` not followed by an amount is still a field name.
  EXPECT_EQ(PipeFilter("interval = 5"),
            Canon(R"({"op":"eq","left":{"op":"ident","name":["interval"]},
                      "right":{"op":"literal","value":5}})"));
}

TEST(TextInterval, ErrorsSayWhere) {
  ExpectErrors({
      {"from: experiment('e')\nfilter: created > now() - interval 1 fortnight",
       "line 2, column 38: unknown interval unit 'fortnight'"},
      {"from: experiment('e')\nfilter: created > now() - interval 1",
       "line 2, column 37: expected an interval unit"},
      {"from: experiment('e')\nfilter: created > now() - interval 1.5 day",
       "line 2, column 36: an interval needs a whole number"},
      {"SELECT * FROM experiment('e') WHERE created > now() - INTERVAL 'soon'",
       "line 1, column 64: an interval needs a whole number"},
      {"SELECT * FROM experiment('e') WHERE created > now() - INTERVAL '1 eon'",
       "line 1, column 64: unknown interval unit 'eon'"},
      {"SELECT * FROM experiment('e') WHERE created > now() - INTERVAL 99999999999999999999 day",
       "line 1, column 64: an interval needs a whole number"},
      {"from: experiment('e')\nfilter: created > now() - interval 20000 years",
       "ast: 'interval' value is out of range"},
  });
}

TEST(TextTernary, PrecedenceAndFlattening) {
  // The loosest operator: comparison and OR bind tighter.
  EXPECT_EQ(PipeFilter("a = 1 OR b ? x > 1 : y < 2"),
            Canon(R"({"op":"if","conds":[{"cond":{"op":"or","children":[
      {"op":"eq","left":{"op":"ident","name":["a"]},"right":{"op":"literal","value":1}},
      {"op":"ident","name":["b"]}]},
      "then":{"op":"gt","left":{"op":"ident","name":["x"]},"right":{"op":"literal","value":1}}}],
      "else":{"op":"lt","left":{"op":"ident","name":["y"]},"right":{"op":"literal","value":2}}})"));
  // Right-associative, flattened into one node.
  EXPECT_EQ(PipeFilter("a ? 1 : b ? 2 : 3"), Canon(R"({"op":"if","conds":[
      {"cond":{"op":"ident","name":["a"]},"then":{"op":"literal","value":1}},
      {"cond":{"op":"ident","name":["b"]},"then":{"op":"literal","value":2}}],
      "else":{"op":"literal","value":3}})"));
  // Nested in the then branch; parenthesized inside a comparison (the docs' example).
  EXPECT_EQ(PipeFilter("a ? b ? 1 : 2 : 3"),
            Canon(R"({"op":"if","conds":[{"cond":{"op":"ident","name":["a"]},
      "then":{"op":"if","conds":[{"cond":{"op":"ident","name":["b"]},
              "then":{"op":"literal","value":1}}],"else":{"op":"literal","value":2}}}],
      "else":{"op":"literal","value":3}})"));
  EXPECT_EQ(
      SqlFilter("metrics.tokens > (metadata.model = 'gpt-4' ? 1000 : 500)"),
      Canon(R"({"op":"gt","left":{"op":"ident","name":["metrics","tokens"]},"right":{"op":"if",
      "conds":[{"cond":{"op":"eq","left":{"op":"ident","name":["metadata","model"]},
                "right":{"op":"literal","value":"gpt-4"}},"then":{"op":"literal","value":1000}}],
      "else":{"op":"literal","value":500}}})"));
  // In a select list, with an alias.
  auto ast =
      ParseBtqlText("select: id, is_root ? 'root' : 'child' AS kind | from: experiment('e')");
  ASSERT_TRUE(ast.ok()) << ast.status().ToString();
  EXPECT_EQ(ast->at("select").as_array()[1].as_object().at("alias").as_string(), "kind");
}

TEST(TextCase, SearchedAndSimpleForms) {
  EXPECT_EQ(SqlFilter("CASE WHEN a > 1 THEN true WHEN b THEN false ELSE c END"),
            Canon(R"({"op":"if","conds":[
      {"cond":{"op":"gt","left":{"op":"ident","name":["a"]},"right":{"op":"literal","value":1}},
       "then":{"op":"literal","value":true}},
      {"cond":{"op":"ident","name":["b"]},"then":{"op":"literal","value":false}}],
      "else":{"op":"ident","name":["c"]}})"));
  EXPECT_EQ(SqlFilter("(case metadata.model when 'a' then 1 when 'b' then 2 end) = 1"),
            Canon(R"({"op":"eq","left":{"op":"if","conds":[
      {"cond":{"op":"eq","left":{"op":"ident","name":["metadata","model"]},
               "right":{"op":"literal","value":"a"}},"then":{"op":"literal","value":1}},
      {"cond":{"op":"eq","left":{"op":"ident","name":["metadata","model"]},
               "right":{"op":"literal","value":"b"}},"then":{"op":"literal","value":2}}],
      "else":{"op":"literal","value":null}},"right":{"op":"literal","value":1}})"));
  // `case` alone is still a field name; so are `end` and `when` after a dot.
  EXPECT_EQ(SqlFilter("case = 1"), Canon(R"({"op":"eq","left":{"op":"ident","name":["case"]},
                                            "right":{"op":"literal","value":1}})"));
  EXPECT_NE(SqlFilter("CASE WHEN metrics.end > 1 THEN metrics.when ELSE 0 END = 1"), "");
}

TEST(TextConditional, ErrorsSayWhere) {
  ExpectErrors({
      {"from: experiment('e')\nfilter: a ? 1", "line 2, column 14: expected ':' and the value"},
      {"from: experiment('e')\nfilter: a ? 1 2",
       "line 2, column 15: expected ':' and the value for false after the '?' at line 2, "
       "column 11"},
      {"from: experiment('e')\nfilter: ? 1 : 2", "line 2, column 9: expected an expression"},
      {"SELECT * FROM experiment('e') WHERE CASE WHEN a THEN 1",
       "line 1, column 55: expected END to close the CASE at line 1, column 37"},
      {"SELECT * FROM experiment('e') WHERE CASE WHEN a 1 END",
       "line 1, column 49: expected THEN after the WHEN condition"},
      {"SELECT * FROM experiment('e') WHERE CASE a ELSE 1 END",
       "line 1, column 44: expected WHEN after CASE"},
      {"SELECT * FROM experiment('e') WHERE CASE WHEN THEN 1 END",
       "line 1, column 47: expected an expression after 'WHEN', found the keyword 'THEN'"},
  });
}

TEST(TextAnySpan, FiltersOnly) {
  EXPECT_EQ(PipeFilter("any_span(metadata.model = 'gpt-4') AND NOT any_span(error IS NOT NULL)"),
            Canon(R"({"op":"and","children":[
      {"op":"function","name":{"op":"ident","name":["any_span"]},"args":[{"op":"eq",
        "left":{"op":"ident","name":["metadata","model"]},"right":{"op":"literal","value":"gpt-4"}}]},
      {"op":"not","expr":{"op":"function","name":{"op":"ident","name":["any_span"]},"args":[
        {"op":"isnotnull","expr":{"op":"ident","name":["error"]}}]}}]})"));
  EXPECT_NE(SqlFilter("ANY_SPAN(a = 1) OR b = 2"), "");
  ExpectErrors({
      {"select: any_span(a = 1) AS x | from: experiment('e')",
       "line 1, column 9: any_span() can only be used in a filter"},
      {"from: experiment('e')\nsort: any_span(a = 1)",
       "line 2, column 7: any_span() can only be used in a filter"},
      {"from: experiment('e')\nfilter: any_span(any_span(a = 1))",
       "line 2, column 18: any_span() cannot be nested"},
      {"from: experiment('e')\nfilter: any_span(a = 1, b = 2)",
       "line 2, column 23: any_span() takes one argument"},
      {"from: experiment('e')\nfilter: any_span(a = 1",
       "line 2, column 23: expected ')' to close the any_span( at line 2, column 17"},
      {"SELECT count(*) FROM experiment('e') GROUP BY 1 HAVING any_span(a = 1)",
       "line 1, column 56: any_span() can only be used in a filter"},
  });
  // The JSON AST refuses it outside filters too.
  auto q = ParseQueryAst(json::Parse(R"({"from":{"op":"function","name":{"op":"ident",
      "name":["experiment"]},"args":[{"op":"literal","value":"e"}]},
      "select":[{"expr":{"op":"function","name":{"op":"ident","name":["any_span"]},
                 "args":[{"op":"literal","value":true}]},"alias":"x"}]})")
                             ->as_object());
  ASSERT_FALSE(q.ok());
  EXPECT_NE(q.status().message().find("belongs in 'filter'"), std::string::npos);
}

TEST(TextHaving, SqlAndPipeForms) {
  auto sql = ParseBtqlText(
      "SELECT metadata.model AS model, count(*) AS n FROM experiment('e') "
      "WHERE is_root GROUP BY 1 HAVING count(*) > 2 AND model <> 'x' ORDER BY n DESC");
  ASSERT_TRUE(sql.ok()) << sql.status().ToString();
  EXPECT_EQ(json::CanonicalString(sql->at("having")),
            Canon(R"({"op":"and","children":[{"op":"gt","left":{"op":"function",
      "name":{"op":"ident","name":["count"]},"args":[]},"right":{"op":"literal","value":2}},
      {"op":"ne","left":{"op":"ident","name":["model"]},"right":{"op":"literal","value":"x"}}]})"));
  auto q = ParseQueryAst(*sql);
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_EQ(q->hidden_measures, 0u);  // count(*) is the measure n
  ASSERT_TRUE(q->having.has_value());
  EXPECT_EQ(q->having->children[0].children[0].path, std::vector<std::string>{"n"});
  // An aggregate that is not selected is computed on the side.
  auto hidden = ParseQueryAst(
      *ParseBtqlText("SELECT metadata.model FROM experiment('e') GROUP BY metadata.model HAVING "
                     "avg(scores.s) >= 0.5 AND metadata.model IS NOT NULL"));
  ASSERT_TRUE(hidden.ok()) << hidden.status().ToString();
  EXPECT_EQ(hidden->hidden_measures, 1u);
  EXPECT_EQ(hidden->measures.back().alias, "_having_0");
  EXPECT_EQ(hidden->having->children[1].children[0].path, std::vector<std::string>{"model"});
  // Pipe: a having: clause, and filter: terms that name measures.
  auto pipe = ParseBtqlText(
      "from: experiment('e')\ndimensions: metadata.model AS model\nmeasures: count(1) AS n\n"
      "filter: is_root AND n > 1 AND (n < 9 OR model = 'm')\nhaving: sum(x) > 0");
  ASSERT_TRUE(pipe.ok()) << pipe.status().ToString();
  EXPECT_EQ(json::CanonicalString(pipe->at("filter")),
            Canon(R"({"op":"ident","name":["is_root"]})"));
  EXPECT_EQ(pipe->at("having").at("children").as_array().size(), 3u);
  EXPECT_TRUE(ParseQueryAst(*pipe).ok());
  // A dimension-only term moves too; an any_span() term stays with the spans.
  auto dims = ParseBtqlText(
      "from: experiment('e') | dimensions: metadata.model AS model | measures: count(1) AS n | "
      "filter: model = 'm' AND any_span(model = 'x')");
  ASSERT_TRUE(dims.ok()) << dims.status().ToString();
  EXPECT_EQ(json::CanonicalString(dims->at("having")),
            Canon(R"({"op":"eq","left":{"op":"ident","name":["model"]},
                      "right":{"op":"literal","value":"m"}})"));
  EXPECT_EQ(dims->at("filter").at("op").as_string(), "function");
  ExpectErrors({
      {"from: experiment('e')\nhaving: n > 1", "line 2, column 1: 'having:' filters aggregated"},
      {"from: experiment('e')\nmeasures: count(1) AS n\nfilter: n > 1 AND input = 'x' OR n = 0",
       "line 3, column 1: a filter condition that uses a measure may use only dimensions"},
      {"SELECT a, count(*) AS n FROM experiment('e') GROUP BY a HAVING b > 1",
       "ast: 'having' can use only dimensions, measures and aggregates; 'b' is none"},
      {"SELECT a, count(*) AS n FROM experiment('e') GROUP BY a HAVING n >",
       "line 1, column 67: expected an expression after '>'"},
      {"SELECT a, count(*) AS n FROM experiment('e') GROUP BY a HAVING n > 1 LIMIT x",
       "line 1, column 76: expected a non-negative integer after LIMIT"},
  });
}

// ---- engine over real rows ------------------------------------------------------------------

class FeaturesEngineTest : public ::testing::Test {
 protected:
  void Write(const std::string& rows) {
    bj::array arr = json::Parse(rows)->as_array();
    for (auto& r : arr) r.as_object()["experiment_id"] = env_.exp;
    auto w = env_.writer->Write(env_.org, ingest::ParseRows(arr).value());
    ASSERT_TRUE(w.ok()) << w.status().ToString();
  }

  // Runs a text query over the test experiment ('E' in the text) and returns the rows.
  StatusOr<QueryResult> Run(std::string text) {
    for (std::size_t at; (at = text.find("'E'")) != std::string::npos;) {
      text.replace(at, 3, "'" + env_.exp + "'");
    }
    ASSIGN_OR_RETURN(bj::object ast, ParseBtqlText(text));
    ASSIGN_OR_RETURN(Query q, ParseQueryAst(ast));
    return env_.engine->Run(env_.org, q, std::nullopt);
  }

  std::vector<std::string> Ids(const std::string& text, const char* field = "id") {
    auto r = Run(text);
    EXPECT_TRUE(r.ok()) << text << "\n" << r.status().ToString();
    std::vector<std::string> out;
    if (!r.ok()) return out;
    for (const auto& row : r->data) {
      const bj::value* v = row.as_object().if_contains(field);
      out.push_back(v ? (v->is_string() ? std::string(v->get_string()) : json::Serialize(*v))
                      : "?");
    }
    return out;
  }

  std::string Rows(const std::string& text) {
    auto r = Run(text);
    EXPECT_TRUE(r.ok()) << text << "\n" << r.status().ToString();
    std::string out;
    if (r.ok()) {
      for (const auto& row : r->data) out += json::CanonicalString(row) + "\n";
    }
    return out;
  }

  TestEnv env_;
};

TEST_F(FeaturesEngineTest, IntervalFiltersOverCreated) {
  const std::int64_t now = NowMicros();
  auto ago = [&](std::int64_t micros) { return FormatIsoTime(now - micros); };
  const std::int64_t hour = 3'600'000'000LL;
  Write(R"([{"id":"h2","created":")" + ago(2 * hour) + R"("},
            {"id":"d3","created":")" +
        ago(72 * hour) + R"("},
            {"id":"w2","created":")" +
        ago(14 * 24 * hour) + R"("},
            {"id":"zone","created":")" +
        *FormatTimestampMicros(now - 30 * 60'000'000LL) + R"("},
            {"id":"bad","created":"yesterday"}])");
  EXPECT_EQ(Ids("SELECT id FROM experiment('E') WHERE created > now() - interval 1 day"),
            (std::vector<std::string>{"h2", "zone"}));
  EXPECT_EQ(Ids("from: experiment('E') | filter: created >= now() - interval 1 week"),
            (std::vector<std::string>{"h2", "d3", "zone"}));
  EXPECT_EQ(Ids("from: experiment('E') | filter: created < now() - interval '7 days' AND "
                "created > now() - interval 1 month"),
            (std::vector<std::string>{"w2"}));
  EXPECT_EQ(Ids("SELECT id FROM experiment('E') WHERE created + interval 1 hour > now()"),
            (std::vector<std::string>{"zone"}));
  // The shifted value itself, in a select.
  Write(R"([{"id":"jan","created":"2026-01-31T08:00:00Z"}])");
  EXPECT_EQ(Ids("SELECT created + interval 1 month AS next FROM experiment('E') WHERE id = 'jan'",
                "next"),
            std::vector<std::string>{"2026-02-28T08:00:00.000Z"});
}

TEST_F(FeaturesEngineTest, TernaryAndCaseOverRows) {
  Write(R"([{"id":"a","metadata":{"model":"big"},"metrics":{"tokens":1500}},
            {"id":"b","metadata":{"model":"big"},"metrics":{"tokens":800}},
            {"id":"c","metadata":{"model":"small"},"metrics":{"tokens":800}},
            {"id":"d","metrics":{"tokens":600}}])");
  EXPECT_EQ(Ids("from: experiment('E') | filter: metrics.tokens > "
                "(metadata.model = 'big' ? 1000 : 500)"),
            (std::vector<std::string>{"a", "c", "d"}));  // d: null model takes the else branch
  EXPECT_EQ(Ids("SELECT CASE WHEN metrics.tokens >= 1000 THEN 'high' WHEN metadata.model IS NULL "
                "THEN 'unknown' ELSE 'low' END AS tier FROM experiment('E')",
                "tier"),
            (std::vector<std::string>{"high", "low", "low", "unknown"}));
  EXPECT_EQ(Rows("SELECT (metadata.model = 'big' ? 'B' : 'S') AS size, count(*) AS n "
                 "FROM experiment('E') GROUP BY 1 ORDER BY size"),
            "{\"n\":2,\"size\":\"B\"}\n{\"n\":2,\"size\":\"S\"}\n");
}

// Two traces; in t1 one span has the model and another the error, in t2 one span has both.
constexpr const char* kTraces = R"([
  {"id":"r1","span_id":"r1","root_span_id":"t1","input":"one"},
  {"id":"l1","span_id":"l1","root_span_id":"t1","span_parents":["r1"],
   "metadata":{"model":"gpt-4"}},
  {"id":"e1","span_id":"e1","root_span_id":"t1","span_parents":["r1"],"error":"boom"},
  {"id":"r2","span_id":"r2","root_span_id":"t2","input":"two"},
  {"id":"x2","span_id":"x2","root_span_id":"t2","span_parents":["r2"],
   "metadata":{"model":"gpt-4"},"error":"bad"},
  {"id":"r3","span_id":"r3","root_span_id":"t3","input":"three","metadata":{"model":"gpt-3"}}])";

TEST_F(FeaturesEngineTest, AnySpanMatchesAcrossSpansOfATrace) {
  Write(kTraces);
  const std::string from = "from: experiment('E') ";
  // One span must satisfy a plain filter as a whole...
  EXPECT_EQ(Ids(from + "traces | filter: metadata.model = 'gpt-4' AND error IS NOT NULL"),
            (std::vector<std::string>{"r2", "x2"}));
  EXPECT_EQ(Ids(from + "traces | filter: any_span(metadata.model = 'gpt-4' AND error IS NOT "
                       "NULL)"),
            (std::vector<std::string>{"r2", "x2"}));
  // ...while separate any_span() calls may match different spans.
  EXPECT_EQ(Ids(from + "traces | filter: any_span(metadata.model = 'gpt-4') AND "
                       "any_span(error IS NOT NULL)"),
            (std::vector<std::string>{"r1", "l1", "e1", "r2", "x2"}));
  EXPECT_EQ(Ids(from + "summary | filter: any_span(metadata.model = 'gpt-4') AND "
                       "any_span(error = 'boom')"),
            std::vector<std::string>{"r1"});
  // NOT any_span: traces with no such span. is_root picks one span per trace.
  EXPECT_EQ(Ids(from + "summary | filter: NOT any_span(error IS NOT NULL)"),
            std::vector<std::string>{"r3"});
  // In the spans shape, each span is judged with its trace's any_span() values.
  EXPECT_EQ(Ids(from + "| filter: is_root AND any_span(error = 'boom')"),
            std::vector<std::string>{"r1"});
  EXPECT_EQ(Ids("SELECT id FROM experiment('E') WHERE any_span(input = 'two') AND NOT is_root"),
            std::vector<std::string>{"x2"});
  // Aggregations too: spans per trace among traces that used gpt-4.
  EXPECT_EQ(Rows("SELECT root_span_id AS t, count(*) AS n FROM experiment('E') "
                 "WHERE any_span(metadata.model = 'gpt-4') GROUP BY 1 ORDER BY t"),
            "{\"n\":3,\"t\":\"t1\"}\n{\"n\":2,\"t\":\"t2\"}\n");
  // The same answers once the rows live in segments, and after a restart.
  const std::string both = from +
                           "traces | filter: any_span(metadata.model = 'gpt-4') AND "
                           "any_span(error IS NOT NULL)";
  const std::vector<std::string> before = Ids(both);
  env_.Flush();
  EXPECT_EQ(Ids(both), before);
  env_.Reopen();
  EXPECT_EQ(Ids(both), before);
  // Paging by trace keeps the snapshot's answer while writes continue.
  auto q = ParseQueryAst(*ParseBtqlText("from: experiment('" + env_.exp +
                                        "') summary | filter: any_span(input IS NOT NULL) | "
                                        "limit: 1"))
               .value();
  std::set<std::string> seen;
  for (int page = 0; page < 10; ++page) {
    auto r = env_.engine->Run(env_.org, q, std::nullopt);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    for (const auto& row : r->data) {
      EXPECT_TRUE(seen.insert(std::string(row.as_object().at("id").as_string())).second);
    }
    Write(R"([{"id":"late)" + std::to_string(page) + R"(","input":"late"}])");
    if (r->cursor.empty()) break;
    q.cursor = r->cursor;
  }
  EXPECT_EQ(seen, (std::set<std::string>{"r1", "r2", "r3"}));
}

TEST_F(FeaturesEngineTest, HavingFiltersGroups) {
  Write(R"([{"id":"a","metadata":{"model":"m1"},"scores":{"s":1}},
            {"id":"b","metadata":{"model":"m1"},"scores":{"s":0}},
            {"id":"c","metadata":{"model":"m1"},"scores":{"s":1}},
            {"id":"d","metadata":{"model":"m2"},"scores":{"s":1}},
            {"id":"e","metadata":{"model":"m3"}}])");
  EXPECT_EQ(Rows("SELECT metadata.model AS model, count(*) AS n FROM experiment('E') "
                 "GROUP BY 1 HAVING count(*) > 2"),
            "{\"model\":\"m1\",\"n\":3}\n");
  // A hidden aggregate filters without showing up; null averages fail the comparison.
  EXPECT_EQ(Rows("SELECT metadata.model AS model FROM experiment('E') GROUP BY metadata.model "
                 "HAVING avg(scores.s) >= 0.6 ORDER BY model"),
            "{\"model\":\"m1\"}\n{\"model\":\"m2\"}\n");
  EXPECT_EQ(Rows("from: experiment('E') | dimensions: metadata.model AS model | "
                 "measures: count(1) AS n | filter: n = 1 AND model <> 'm3'"),
            "{\"model\":\"m2\",\"n\":1}\n");
  EXPECT_EQ(Rows("from: experiment('E') | measures: count(1) AS n | having: n > 100"), "");
  // Type mismatch in HAVING: nothing passes, nothing fails.
  EXPECT_EQ(Rows("SELECT metadata.model AS model, count(*) AS n FROM experiment('E') "
                 "GROUP BY 1 HAVING n > 'many'"),
            "");
}

}  // namespace
}  // namespace arbor::query
