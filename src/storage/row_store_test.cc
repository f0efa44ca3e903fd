#include "storage/row_store.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace arbor::storage
