#include "json/json.h"

#include <gtest/gtest.h>

namespace arbor::json {
namespace {

bj::object Obj(std::string_view text) { return Parse(text).value().as_object(); }

TEST(Merge, ObjectsMergeRecursively) {
  bj::object t = Obj(R"({"input":{"a":1,"b":{"c":2}},"output":"x"})");
  MergeInto(t, Obj(R"({"input":{"b":{"d":3}},"scores":{"s":1}})"), {});
  EXPECT_EQ(CanonicalString(t),
            R"({"input":{"a":1,"b":{"c":2,"d":3}},"output":"x","scores":{"s":1}})");
}

TEST(Merge, NonObjectsOverwriteIncludingNullAndArrays) {
  bj::object t = Obj(R"({"a":{"x":1},"b":[1,2],"c":5})");
  MergeInto(t, Obj(R"({"a":null,"b":[3],"c":{"k":1}})"), {});
  EXPECT_EQ(CanonicalString(t), R"({"a":null,"b":[3],"c":{"k":1}})");
}

TEST(Merge, TagsAreSetUnioned) {
  bj::object t = Obj(R"({"tags":["a","b"]})");
  MergeInto(t, Obj(R"({"tags":["b","c"]})"), {});
  EXPECT_EQ(CanonicalString(t), R"({"tags":["a","b","c"]})");
}

TEST(Merge, TagsReplacedWhenListedInMergePaths) {
  bj::object t = Obj(R"({"tags":["a","b"]})");
  MergeInto(t, Obj(R"({"tags":["c"]})"), {{"tags"}});
  EXPECT_EQ(CanonicalString(t), R"({"tags":["c"]})");
}

TEST(Merge, NestedTagsAreNotUnioned) {
  bj::object t = Obj(R"({"metadata":{"tags":["a"]}})");
  MergeInto(t, Obj(R"({"metadata":{"tags":["b"]}})"), {});
  EXPECT_EQ(CanonicalString(t), R"({"metadata":{"tags":["b"]}})");
}

TEST(Merge, MergePathsStopDescent) {
  bj::object t = Obj(R"({"input":{"a":{"x":1,"y":2},"b":1}})");
  MergeInto(t, Obj(R"({"input":{"a":{"z":3},"c":4}})"), {{"input", "a"}});
  EXPECT_EQ(CanonicalString(t), R"({"input":{"a":{"z":3},"b":1,"c":4}})");
}

TEST(Parse, RejectsMalformedWithPosition) {
  auto r = Parse(R"({"a": [1, 2)");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
}

TEST(Parse, RejectsNumbersBeyondDoubleRange) {
  EXPECT_EQ(Parse(R"({"a":[1e999]})").status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Parse(R"({"a":1e300})").ok());
}

TEST(Parse, RejectsDeepNesting) {
  std::string deep(500, '[');
  deep += std::string(500, ']');
  EXPECT_FALSE(Parse(deep).ok());
}

TEST(Path, FindsNestedAndArrayIndex) {
  bj::value v = Parse(R"({"a":{"b":[10,20,30]}})").value();
  ASSERT_NE(FindPath(v, {"a", "b", "1"}), nullptr);
  EXPECT_EQ(FindPath(v, {"a", "b", "1"})->as_int64(), 20);
  EXPECT_EQ(FindPath(v, {"a", "b", "-1"})->as_int64(), 30);
  EXPECT_EQ(FindPath(v, {"a", "c"}), nullptr);
}

TEST(Compare, NumbersAcrossRepresentations) {
  EXPECT_TRUE(Equals(bj::value(1), bj::value(1.0)));
  EXPECT_LT(Compare(bj::value(1), bj::value(2.5)), 0);
  EXPECT_LT(Compare(bj::value("a"), bj::value("b")), 0);
}

}  // namespace
}  // namespace arbor::json

namespace arbor::json {
namespace {

TEST(Serialize, EscapesAtEveryPositionOfAWord) {
  // Each special character at each offset of an 8-byte word, between plain runs.
  for (char special : {'"', '\\', '\n', '\x01', '\x1f'}) {
    for (int pos = 0; pos < 17; ++pos) {
      std::string s(17, 'a');
      s[pos] = special;
      bj::value v(s);
      auto back = Parse(Serialize(v));
      ASSERT_TRUE(back.ok()) << pos;
      EXPECT_EQ(back->as_string(), s) << pos;
    }
  }
  EXPECT_EQ(Serialize(bj::value("plain text with \u00e9 and spaces ~~")),
            "\"plain text with \u00e9 and spaces ~~\"");
}

TEST(Serialize, ShortestNumbersAndEscapes) {
  bj::value v = Parse(R"({"a":0.5,"b":-2.0,"c":"q\"\\\n\u0001é","d":[1,true,null]})").value();
  EXPECT_EQ(Serialize(v), R"({"a":0.5,"b":-2,"c":"q\"\\\n\u0001é","d":[1,true,null]})");
  EXPECT_TRUE(Equals(Parse(Serialize(v)).value(), v));
}

}  // namespace
}  // namespace arbor::json
