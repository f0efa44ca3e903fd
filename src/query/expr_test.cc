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
