#include "storage/row_store.h"

#include <gtest/gtest.h>

#include "base/tokenize.h"

namespace arbor::storage {
namespace {

RowPtr Row(const char* name) {
  boost::json::object o;
  o["name"] = name;
  return std::make_shared<const boost::json::object>(std::move(o));
}

TEST(RowStore, SnapshotsSeeOnlyOlderVersions) {
  RowStore store;
  store.Apply({{"experiment:e", "a", Row("v1")}}, 10);
  store.Apply({{"experiment:e", "a", Row("v2")}, {"experiment:e", "b", Row("b1")}}, 20);
  store.Apply({{"experiment:e", "a", nullptr}}, 30);
  const ObjectRows* rows = store.Find("experiment:e");
  ASSERT_NE(rows, nullptr);
  EXPECT_EQ(rows->ScanAll(5)->size(), 0u);
  auto at10 = *rows->ScanAll(10);
  ASSERT_EQ(at10.size(), 1u);
  EXPECT_EQ(at10[0].row->at("name").as_string(), "v1");
  auto at20 = *rows->ScanAll(20);
  ASSERT_EQ(at20.size(), 2u);
  EXPECT_EQ(at20[0].row->at("name").as_string(), "v2");
  auto at30 = *rows->ScanAll(30);
  ASSERT_EQ(at30.size(), 1u);
  EXPECT_EQ(at30[0].row->at("name").as_string(), "b1");
  EXPECT_EQ(rows->MaxXact(), 30u);
}

TEST(RowStore, ScanPagesInFirstWriteOrder) {
  RowStore store;
  for (int i = 0; i < 5; ++i) store.Apply({{"dataset:d", std::to_string(i), Row("x")}}, 1 + i);
  store.Apply({{"dataset:d", "0", Row("updated")}}, 100);  // keeps its position
  const ObjectRows* rows = store.Find("dataset:d");
  auto page1 = *rows->Scan(100, 0, 2);
  ASSERT_EQ(page1.size(), 2u);
  EXPECT_EQ(page1[0].row->at("name").as_string(), "updated");
  auto page2 = *rows->Scan(100, page1.back().seq, 10);
  EXPECT_EQ(page2.size(), 3u);
  EXPECT_EQ((*rows->Latest("0"))->at("name").as_string(), "updated");
  EXPECT_EQ(*rows->Latest("missing"), nullptr);
}

TEST(RowStore, UnknownObjectIsNull) {
  RowStore store;
  EXPECT_EQ(store.Find("experiment:none"), nullptr);
}

}  // namespace
}  // namespace arbor::storage

namespace arbor::storage {
namespace {

RowPtr Span(const char* root, bool comment = false) {
  boost::json::object o;
  o["root_span_id"] = root;
  if (comment) o["comment"] = boost::json::object{{"text", "x"}};
  return std::make_shared<const boost::json::object>(std::move(o));
}

TEST(RowStore, IndexesTracesAndComments) {
  RowStore store;
  store.Apply({{"k", "a", Span("t1")}, {"k", "b", Span("t2")}, {"k", "c", Span("t1", true)}}, 1);
  store.Apply({{"k", "a", Span("t1")}}, 2);  // a second version: still one member of t1
  const ObjectRows* rows = store.Find("k");
  auto t1 = rows->IdsOfTrace("t1");
  std::sort(t1.begin(), t1.end());
  t1.erase(std::unique(t1.begin(), t1.end()), t1.end());
  EXPECT_EQ(t1, (std::vector<std::string>{"a", "c"}));
  EXPECT_EQ(rows->CommentIds(), std::vector<std::string>{"c"});
  auto all = [](const boost::json::object&) { return true; };
  auto got = *rows->ScanIds(2, 0, 10, {"c", "a", "a", "zzz"}, all);
  ASSERT_EQ(got.size(), 2u);  // first-write order, no duplicates, unknown ids ignored
  EXPECT_LT(got[0].seq, got[1].seq);
  EXPECT_EQ(rows->ScanIds(2, got[0].seq, 10, {"c", "a"}, all)->size(), 1u);
}

// Memtable rows answer text searches from token sets kept per row: a row lacking a required
// token is skipped even when the scan's own filter would keep it, and a row's newer version
// is judged on its own text.
TEST(RowStore, MemtableTextSearchSkipsRowsWithoutTheTokens) {
  RowStore store;
  store.Apply({{"k", "a", Row("the needle is here")}, {"k", "b", Row("nothing to see")}}, 1);
  const ObjectRows* rows = store.Find("k");
  ASSERT_NE(rows, nullptr);
  auto keep_all = [](const boost::json::object&) { return true; };
  const std::vector<std::uint64_t> needle{TokenHash("needle")};
  for (int round = 0; round < 2; ++round) {  // the second round answers from the kept sets
    auto found = rows->ScanIf(1, 0, SIZE_MAX, keep_all, needle);
    ASSERT_TRUE(found.ok());
    ASSERT_EQ(found->size(), 1u);
    EXPECT_EQ((*found)[0].row->at("name").as_string(), "the needle is here");
  }
  store.Apply({{"k", "a", Row("moved on")}, {"k", "b", Row("a NEEDLE now")}}, 2);
  auto now = rows->ScanIf(2, 0, SIZE_MAX, keep_all, needle);
  ASSERT_TRUE(now.ok());
  ASSERT_EQ(now->size(), 1u);
  EXPECT_EQ((*now)[0].row->at("name").as_string(), "a NEEDLE now");
  auto before = rows->ScanIf(1, 0, SIZE_MAX, keep_all, needle);  // older snapshot, older text
  ASSERT_TRUE(before.ok());
  ASSERT_EQ(before->size(), 1u);
  EXPECT_EQ((*before)[0].row->at("name").as_string(), "the needle is here");
  auto both = rows->ScanIf(2, 0, SIZE_MAX, keep_all, {TokenHash("needle"), TokenHash("now")});
  ASSERT_TRUE(both.ok());
  EXPECT_EQ(both->size(), 1u);
  auto none = rows->ScanIf(2, 0, SIZE_MAX, keep_all, {TokenHash("needle"), TokenHash("moved")});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

// A text term names its field: a memtable row holding the token in another field, or lacking
// the field, is skipped.
TEST(RowStore, MemtableTextTermsLookInTheirField) {
  RowStore store;
  auto row = [](const char* input, const char* output) {
    boost::json::object o;
    if (input != nullptr) o["input"] = boost::json::object{{"q", input}};
    o["output"] = output;
    return std::make_shared<const boost::json::object>(std::move(o));
  };
  store.Apply({{"k", "a", row("find the needle", "x")},
               {"k", "b", row("nothing", "needle in output")},
               {"k", "c", row(nullptr, "needle")}},
              1);
  const ObjectRows* rows = store.Find("k");
  ASSERT_NE(rows, nullptr);
  ScanFilter filter{.full = [](const boost::json::object&) { return true; },
                    .required_tokens = {TokenHash("needle")},
                    .required_terms = {{.field = {"input"}, .tokens = {TokenHash("needle")}}}};
  for (int round = 0; round < 2; ++round) {
    auto found = rows->ScanIf(1, 0, SIZE_MAX, filter);
    ASSERT_TRUE(found.ok());
    ASSERT_EQ(found->size(), 1u);
    EXPECT_EQ((*found)[0].row->at("output").as_string(), "x");
  }
  filter.required_terms[0].field = {"output"};
  auto in_output = rows->ScanIf(1, 0, SIZE_MAX, filter);
  ASSERT_TRUE(in_output.ok());
  EXPECT_EQ(in_output->size(), 2u);
}

}  // namespace
}  // namespace arbor::storage
