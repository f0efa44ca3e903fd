#include "query/expr.h"

#include <gtest/gtest.h>

#include "json/json.h"

namespace arbor::query {
namespace {

namespace bj = boost::json;

bool Eval(std::string_view ast, std::string_view row) {
  auto e = ParseExpr(json::Parse(ast).value());
  EXPECT_TRUE(e.ok()) << e.status().ToString();
  return Matches(*e, json::Parse(row)->as_object());
}

constexpr const char* kRow =
    R"({"id":"a","root_span_id":"r","scores":{"s":0.5},"tags":["x","y"],
        "metadata":{"model":"gpt","n":3},"span_attributes":{"purpose":"scorer"},
        "input":"Hello World"})";

TEST(Expr, EqNeOnPaths) {
  EXPECT_TRUE(Eval(R"({"op":"eq","left":{"op":"ident","name":["root_span_id"]},
                        "right":{"op":"literal","value":"r"}})",
                   kRow));
  EXPECT_FALSE(Eval(R"({"op":"ne","left":{"op":"ident","name":["metadata","model"]},
                         "right":{"op":"literal","value":"gpt"}})",
                    kRow));
  // Comparisons with a missing field are unknown, never true.
  EXPECT_FALSE(Eval(R"({"op":"ne","left":{"op":"ident","name":["nope"]},
                         "right":{"op":"literal","value":"gpt"}})",
                    kRow));
}

TEST(Expr, AndOrNullChecks) {
  // The scorer-span exclusion filter the JS SDK sends.
  const char* f = R"({"op":"and","children":[
      {"op":"eq","left":{"op":"ident","name":["root_span_id"]},"right":{"op":"literal","value":"r"}},
      {"op":"or","children":[
        {"op":"isnull","expr":{"op":"ident","name":["span_attributes","purpose"]}},
        {"op":"ne","left":{"op":"ident","name":["span_attributes","purpose"]},
         "right":{"op":"literal","value":"scorer"}}]}]})";
  EXPECT_FALSE(Eval(f, kRow));
  EXPECT_TRUE(Eval(f, R"({"root_span_id":"r"})"));
  EXPECT_TRUE(Eval(R"({"op":"isnotnull","expr":{"op":"ident","name":["scores","s"]}})", kRow));
}

TEST(Expr, InComparisonsLikeMatchIncludes) {
  EXPECT_TRUE(Eval(R"({"op":"in","left":{"op":"ident","name":["id"]},
                        "right":{"op":"literal","value":["b","a"]}})",
                   kRow));
  EXPECT_TRUE(Eval(R"({"op":"lt","left":{"op":"ident","name":["scores","s"]},
                        "right":{"op":"literal","value":0.6}})",
                   kRow));
  EXPECT_FALSE(Eval(R"({"op":"gt","left":{"op":"ident","name":["metadata","n"]},
                         "right":{"op":"literal","value":3}})",
                    kRow));
  EXPECT_TRUE(Eval(R"({"op":"ilike","left":{"op":"ident","name":["input"]},
                        "right":{"op":"literal","value":"hello%"}})",
                   kRow));
  EXPECT_FALSE(Eval(R"({"op":"like","left":{"op":"ident","name":["input"]},
                         "right":{"op":"literal","value":"hello%"}})",
                    kRow));
  EXPECT_TRUE(Eval(R"({"op":"match","left":{"op":"ident","name":["input"]},
                        "right":{"op":"literal","value":"world"}})",
                   kRow));
  EXPECT_TRUE(Eval(R"({"op":"includes","left":{"op":"ident","name":["tags"]},
                        "right":{"op":"literal","value":"y"}})",
                   kRow));
}

TEST(Expr, IsRootIsVirtual) {
  const char* f = R"({"op":"eq","left":{"op":"ident","name":["is_root"]},
                      "right":{"op":"literal","value":true}})";
  EXPECT_TRUE(Eval(f, R"({"span_parents":null})"));
  EXPECT_TRUE(Eval(f, R"({})"));
  EXPECT_FALSE(Eval(f, R"({"span_parents":["p"]})"));
}

TEST(Expr, HostileInputIsRejected) {
  EXPECT_FALSE(ParseExpr(json::Parse(R"({"op":"drop_table"})").value()).ok());
  EXPECT_FALSE(ParseExpr(json::Parse(R"({"op":"eq","left":{"op":"literal"}})").value()).ok());
  EXPECT_FALSE(ParseExpr(json::Parse(R"("eq")").value()).ok());
  EXPECT_FALSE(ParseExpr(json::Parse(R"({"op":"ident","name":[{}]})").value()).ok());
  std::string deep = R"({"op":"literal","value":1})";
  for (int i = 0; i < 40; ++i) deep = R"({"op":"not","expr":)" + deep + "}";
  EXPECT_FALSE(ParseExpr(json::Parse(deep).value()).ok());
}

}  // namespace
}  // namespace arbor::query

namespace arbor::query {
namespace {

bj::value Eval1(std::string_view ast, std::string_view row = "{}") {
  auto e = ParseExpr(json::Parse(ast).value());
  EXPECT_TRUE(e.ok()) << e.status().ToString();
  return Evaluate(*e, json::Parse(row)->as_object());
}

std::string Fn(const std::string& name, const std::string& args) {
  return R"({"op":"function","name":{"op":"ident","name":[")" + name + R"("]},"args":[)" + args +
         "]}";
}

std::string Lit(const std::string& json_value) {
  return R"({"op":"literal","value":)" + json_value + "}";
}

TEST(Functions, ScalarsAndArithmetic) {
  EXPECT_EQ(Eval1(Fn("lower", Lit(R"("AbC")"))), bj::value("abc"));
  EXPECT_EQ(Eval1(Fn("upper", Lit(R"("AbC")"))), bj::value("ABC"));
  EXPECT_EQ(Eval1(Fn("concat", Lit(R"("a")") + "," + Lit("1") + "," + Lit("null"))),
            bj::value("a1"));
  EXPECT_EQ(Eval1(Fn("coalesce", Lit("null") + "," + Lit("2"))).as_int64(), 2);
  EXPECT_TRUE(Eval1(Fn("nullif", Lit("3") + "," + Lit("3"))).is_null());
  EXPECT_EQ(Eval1(Fn("greatest", Lit("3") + "," + Lit("7") + "," + Lit("null"))).as_int64(), 7);
  EXPECT_EQ(Eval1(Fn("least", Lit("3") + "," + Lit("7"))).as_int64(), 3);
  EXPECT_EQ(Eval1(Fn("len", Lit(R"([1,2,3])"))).as_int64(), 3);
  EXPECT_DOUBLE_EQ(Eval1(Fn("round", Lit("2.345") + "," + Lit("2"))).as_double(), 2.35);
  EXPECT_DOUBLE_EQ(Eval1(Fn("to_number", Lit(R"("1.5")"))).as_double(), 1.5);
  EXPECT_TRUE(Eval1(Fn("to_number", Lit(R"("x")"))).is_null());
  EXPECT_EQ(Eval1(Fn("date_trunc", Lit(R"("hour")") + "," + Lit(R"("2026-03-04T05:06:07.5Z")"))),
            bj::value("2026-03-04T05:00:00.000Z"));
  EXPECT_EQ(
      Eval1(Fn("date_trunc", Lit(R"("15 minutes")") + "," + Lit(R"("2026-03-04T05:36:07Z")"))),
      bj::value("2026-03-04T05:30:00.000Z"));
  EXPECT_EQ(
      Eval1(Fn("date_trunc", Lit(R"("month")") + "," + Lit(R"("2026-03-04T05:36:07+02:00")"))),
      bj::value("2026-03-01T00:00:00.000Z"));
  const char* dur = R"({"op":"sub","left":{"op":"ident","name":["metrics","end"]},
                        "right":{"op":"ident","name":["metrics","start"]}})";
  EXPECT_DOUBLE_EQ(Eval1(dur, R"({"metrics":{"start":1.5,"end":4}})").as_double(), 2.5);
  EXPECT_TRUE(Eval1(R"({"op":"div","left":{"op":"literal","value":1},
                        "right":{"op":"literal","value":0}})")
                  .is_null());
  EXPECT_EQ(Eval1(Fn("json_extract", Lit(R"("{\"a\":{\"b\":[5,6]}}")") + "," + Lit(R"("a.b.1")")))
                .as_int64(),
            6);
  EXPECT_EQ(
      Eval1(Fn("json_extract", R"({"op":"ident","name":["m"]})" + std::string(",") + Lit(R"("k")")),
            R"({"m":{"k":"v"}})"),
      bj::value("v"));
  EXPECT_TRUE(Eval1(Fn("json_extract", Lit(R"("not json")") + "," + Lit(R"("a")"))).is_null());
  EXPECT_EQ(Eval1(Fn("now", "")).as_string().size(), 24u);  // 2026-11-27T21:07:32.892Z
  EXPECT_FALSE(ParseExpr(json::Parse(Fn("exec_shell", Lit("1"))).value()).ok());
  EXPECT_TRUE(Eval1(Fn("count", "")).is_null());  // aggregates mean nothing on one row
}

}  // namespace
}  // namespace arbor::query
