#include "storage/segments.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "storage/wal.h"

namespace arbor::storage {
namespace {

std::string FreshDir(const std::string& name) {
  std::string dir = ::testing::TempDir() + "/segments_test/" + name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

RowPtr Row(const std::string& id, const std::string& input, const std::string& root = "") {
  boost::json::object o;
  o["id"] = id;
  o["input"] = input;
  if (!root.empty()) o["root_span_id"] = root;
  return std::make_shared<const boost::json::object>(std::move(o));
}

std::vector<std::string> Inputs(const ObjectRows& rows, std::uint64_t snapshot) {
  std::vector<std::string> out;
  auto scan = rows.ScanAll(snapshot);
  EXPECT_TRUE(scan.ok()) << scan.status().message();
  for (const auto& v : *scan) out.emplace_back(v.row->at("input").as_string());
  return out;
}

TEST(Segments, FlushedRowsReadBackFromDiskWithHistory) {
  std::string dir = FreshDir("flush");
  auto segs = Segments::Open({.dir = dir});
  ASSERT_TRUE(segs.ok());
  RowStore store(segs->get());
  store.Apply({{"dataset:d", "a", Row("a", "a1", "a")}, {"dataset:d", "b", Row("b", "b1", "a")}},
              10);
  store.Apply({{"dataset:d", "a", Row("a", "a2", "a")}}, 20);
  store.Apply({{"dataset:d", "b", nullptr}}, 30);
  store.Apply({{"dataset:d", "c", Row("c", "c1")}}, 40);  // stays in the memtable
  ASSERT_TRUE((*segs)->Flush(store, 30).ok());
  EXPECT_EQ((*segs)->flushed_xact(), 30u);
  ASSERT_EQ((*segs)->List().size(), 1u);

  const ObjectRows& rows = *store.Find("dataset:d");
  EXPECT_TRUE(rows.CollectUnflushed(30).empty());   // bodies moved to the segment
  EXPECT_EQ(rows.CollectUnflushed(40).size(), 1u);  // c is still in memory
  EXPECT_EQ(Inputs(rows, 10), (std::vector<std::string>{"a1", "b1"}));
  EXPECT_EQ(Inputs(rows, 20), (std::vector<std::string>{"a2", "b1"}));
  EXPECT_EQ(Inputs(rows, 40), (std::vector<std::string>{"a2", "c1"}));
  auto latest = rows.Latest("a");
  ASSERT_TRUE(latest.ok());
  EXPECT_EQ((*latest)->at("input").as_string(), "a2");
  EXPECT_EQ(rows.IdsOfTrace("a").size(), 2u);
  EXPECT_GT((*segs)->cache_stats().misses, 0u);
}

TEST(Segments, RestartRebuildsTheIndexAndKeepsSequenceOrder) {
  std::string dir = FreshDir("restart");
  {
    auto segs = Segments::Open({.dir = dir});
    ASSERT_TRUE(segs.ok());
    RowStore store(segs->get());
    for (int i = 0; i < 50; ++i) {
      std::string id = "r" + std::to_string(i);
      store.Apply({{"project_logs:p", id, Row(id, "v1", "root")}}, 100 + i);
    }
    ASSERT_TRUE((*segs)->Flush(store, 120).ok());
    store.Apply({{"project_logs:p", "r3", Row("r3", "v2", "root")}}, 200);
    ASSERT_TRUE((*segs)->Flush(store, 200).ok());
    EXPECT_EQ((*segs)->List().size(), 2u);
  }
  auto segs = Segments::Open({.dir = dir});
  ASSERT_TRUE(segs.ok()) << segs.status().message();
  EXPECT_EQ((*segs)->flushed_xact(), 200u);
  RowStore store(segs->get());
  ASSERT_TRUE((*segs)->LoadInto(store).ok());
  const ObjectRows& rows = *store.Find("project_logs:p");
  auto all = rows.ScanAll(1000);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 50u);
  for (std::size_t i = 0; i < all->size(); ++i) {
    EXPECT_EQ((*all)[i].row->at("id").as_string(), "r" + std::to_string(i));  // seq order
  }
  EXPECT_EQ((*all)[3].row->at("input").as_string(), "v2");
  EXPECT_EQ(Inputs(rows, 150)[3], "v1");
  EXPECT_EQ(rows.MaxXact(), 200u);
  EXPECT_EQ(rows.IdsOfTrace("root").size(), 50u);
  // A new id continues the sequence after the flushed ones.
  store.Apply({{"project_logs:p", "new", Row("new", "n")}}, 300);
  auto page = rows.Scan(300, (*all)[49].seq, 10);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->size(), 1u);
  EXPECT_EQ((*page)[0].row->at("id").as_string(), "new");
}

TEST(Segments, LeftoversOfAnInterruptedFlushAreDeletedAtOpen) {
  std::string dir = FreshDir("orphans");
  {
    auto segs = Segments::Open({.dir = dir});
    ASSERT_TRUE(segs.ok());
    RowStore store(segs->get());
    store.Apply({{"dataset:d", "a", Row("a", "x")}}, 10);
    ASSERT_TRUE((*segs)->Flush(store, 10).ok());
  }
  std::ofstream(dir + "/seg-0000000099.arbseg") << "half a segment";
  std::ofstream(dir + "/MANIFEST.json.tmp") << "{";
  auto segs = Segments::Open({.dir = dir});
  ASSERT_TRUE(segs.ok()) << segs.status().message();
  EXPECT_FALSE(std::filesystem::exists(dir + "/seg-0000000099.arbseg"));
  EXPECT_FALSE(std::filesystem::exists(dir + "/MANIFEST.json.tmp"));
  RowStore store(segs->get());
  ASSERT_TRUE((*segs)->LoadInto(store).ok());
  EXPECT_EQ(Inputs(*store.Find("dataset:d"), 10), std::vector<std::string>{"x"});
}

TEST(Segments, DamagedManifestIsRefused) {
  std::string dir = FreshDir("bad-manifest");
  std::ofstream(dir + "/MANIFEST.json") << R"({"format_version": 7})";
  auto segs = Segments::Open({.dir = dir});
  ASSERT_FALSE(segs.ok());
  EXPECT_EQ(segs.status().code(), StatusCode::kDataLoss);
}

TEST(Segments, BlockCacheStaysWithinItsBudget) {
  std::string dir = FreshDir("cache");
  auto segs = Segments::Open(
      {.dir = dir, .block_cache_bytes_max = 64u << 10, .writer = {.block_raw_bytes_target = 4096}});
  ASSERT_TRUE(segs.ok());
  RowStore store(segs->get());
  std::string text(200, 'x');
  for (int i = 0; i < 2000; ++i) {
    std::string id = std::to_string(i);
    store.Apply({{"dataset:d", id, Row(id, text + id)}}, 1 + i);
  }
  ASSERT_TRUE((*segs)->Flush(store, 2000).ok());
  EXPECT_EQ(Inputs(*store.Find("dataset:d"), 2000).size(), 2000u);
  BlockCacheStats stats = (*segs)->cache_stats();
  EXPECT_LE(stats.bytes, 64u << 10);
  EXPECT_GT(stats.misses, 50u);
}

TEST(Segments, WalRotationLetsFlushedFilesGo) {
  std::string dir = FreshDir("wal");
  auto wal = Wal::Open({.dir = dir}, [](std::string_view) { return Status::Ok(); });
  ASSERT_TRUE(wal.ok());
  for (std::uint64_t tag = 1; tag <= 3; ++tag) {
    (*wal)->Enqueue("record", tag);
    ASSERT_TRUE((*wal)->WaitDurable(tag).ok());
  }
  EXPECT_GT((*wal)->bytes_since_rotation(), 0u);
  auto cut = (*wal)->Rotate();
  ASSERT_TRUE(cut.ok());
  EXPECT_EQ(cut->tag, 3u);
  EXPECT_EQ((*wal)->bytes_since_rotation(), 0u);
  (*wal)->Enqueue("after", 4);
  ASSERT_TRUE((*wal)->WaitDurable(4).ok());
  ASSERT_TRUE((*wal)->DropFilesBefore(cut->first_file).ok());
  (*wal)->Close();
  std::vector<std::string> replayed;
  auto again = Wal::Open({.dir = dir}, [&](std::string_view p) {
    replayed.emplace_back(p);
    return Status::Ok();
  });
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(replayed, std::vector<std::string>{"after"});
  EXPECT_EQ((*again)->bytes_since_rotation(), EncodeWalRecord(kWalRecordBatch, "after").size());
}

}  // namespace
}  // namespace arbor::storage

namespace arbor::storage {
namespace {

TEST(Segments, CompactionMergesAdjacentSegmentsAndKeepsHistory) {
  std::string dir = FreshDir("compact");
  std::vector<std::uint32_t> numbers;
  {
    auto segs = Segments::Open({.dir = dir, .writer = {.block_raw_bytes_target = 256}});
    ASSERT_TRUE(segs.ok());
    RowStore store(segs->get());
    std::uint64_t xact = 0;
    for (int round = 0; round < 5; ++round) {
      for (int i = 0; i < 30; ++i) {
        std::string id = "r" + std::to_string((i * 7 + round) % 40);
        store.Apply({{"dataset:d", id, Row(id, "v" + std::to_string(round), "t")}}, ++xact);
      }
      if (round == 2) store.Apply({{"dataset:d", "r5", nullptr}}, ++xact);
      ASSERT_TRUE((*segs)->Flush(store, xact).ok());
    }
    for (const SegmentMeta& m : (*segs)->List()) numbers.push_back(m.number);
    ASSERT_EQ(numbers.size(), 5u);
    const ObjectRows& rows = *store.Find("dataset:d");
    std::vector<std::vector<std::string>> before;
    for (std::uint64_t at = 0; at <= xact; at += 7) before.push_back(Inputs(rows, at));
    before.push_back(Inputs(rows, xact));

    // Not adjacent, or not live: refused.
    EXPECT_FALSE((*segs)->Compact(store, {numbers[0], numbers[2]}).ok());
    EXPECT_FALSE((*segs)->Compact(store, {999, 1000}).ok());
    ASSERT_TRUE((*segs)->Compact(store, {numbers[1], numbers[2], numbers[3]}).ok());
    auto after_list = (*segs)->List();
    ASSERT_EQ(after_list.size(), 3u);
    EXPECT_EQ(after_list[0].number, numbers[0]);
    EXPECT_EQ(after_list[2].number, numbers[4]);
    EXPECT_FALSE(std::filesystem::exists(dir + "/seg-" + std::string(10 - 1, '0') + "2.arbseg"));
    std::vector<std::vector<std::string>> after;
    for (std::uint64_t at = 0; at <= xact; at += 7) after.push_back(Inputs(rows, at));
    after.push_back(Inputs(rows, xact));
    EXPECT_EQ(after, before);

    // A restart reads the merged segment and sees the same history.
    segs->reset();
    auto again = Segments::Open({.dir = dir});
    ASSERT_TRUE(again.ok()) << again.status().message();
    RowStore fresh(again->get());
    ASSERT_TRUE((*again)->LoadInto(fresh).ok());
    std::vector<std::vector<std::string>> reopened;
    for (std::uint64_t at = 0; at <= xact; at += 7) {
      reopened.push_back(Inputs(*fresh.Find("dataset:d"), at));
    }
    reopened.push_back(Inputs(*fresh.Find("dataset:d"), xact));
    EXPECT_EQ(reopened, before);
  }
}

// Light scans (segment format 2): flushed rows are read in light form (no input) unless the
// scan asks for bodies; compaction writes light blocks too; a version 1 segment, which has
// none, gives its bodies instead.
std::vector<std::string> LightScan(const ObjectRows& rows, const ScanFilter& filter) {
  std::vector<std::string> out;
  auto scan = rows.ScanIf(1000, 0, SIZE_MAX, filter);
  EXPECT_TRUE(scan.ok()) << scan.status().message();
  for (const auto& v : *scan) {
    const boost::json::value* input = v.row->if_contains("input");
    auto full = rows.FullBody(v);
    EXPECT_TRUE(full.ok());
    out.push_back(std::string(v.light ? "light " : "body ") +
                  (input ? std::string(input->as_string()) : "-") + " " +
                  std::string((*full)->at("input").as_string()));
  }
  return out;
}

TEST(Segments, LightScansSkipHeavyFieldsAfterFlushAndCompaction) {
  std::string dir = FreshDir("light");
  auto segs = Segments::Open({.dir = dir});
  ASSERT_TRUE(segs.ok());
  RowStore store(segs->get());
  store.Apply({{"dataset:d", "a", Row("a", "a1")}}, 1);
  ASSERT_TRUE((*segs)->Flush(store, 1).ok());
  store.Apply({{"dataset:d", "b", Row("b", "b1")}}, 2);
  ASSERT_TRUE((*segs)->Flush(store, 2).ok());
  store.Apply({{"dataset:d", "c", Row("c", "c1")}}, 3);  // stays in the memtable
  const ObjectRows& rows = *store.Find("dataset:d");
  auto all = [](const boost::json::object&) { return true; };
  auto not_b = [](const boost::json::object& r) { return r.at("id").as_string() != "b"; };
  for (int round = 0; round < 2; ++round) {
    SCOPED_TRACE(round == 0 ? "flushed" : "compacted");
    EXPECT_EQ(LightScan(rows, ScanFilter{.light = not_b}),
              (std::vector<std::string>{"light - a1", "body c1 c1"}));
    EXPECT_EQ(LightScan(rows, ScanFilter{.light = not_b, .full = all}),
              (std::vector<std::string>{"body a1 a1", "body c1 c1"}));
    EXPECT_EQ(LightScan(rows, ScanFilter{.full = not_b}),
              (std::vector<std::string>{"body a1 a1", "body c1 c1"}));
    std::vector<std::uint32_t> numbers;
    for (const SegmentMeta& m : (*segs)->List()) numbers.push_back(m.number);
    if (round == 0) {
      ASSERT_TRUE((*segs)->Compact(store, numbers).ok());
    }
  }
  ASSERT_EQ((*segs)->List().size(), 1u);

  // A version 1 segment (the checked-in fixture) under a manifest: light reads give bodies.
  std::string v1_dir = FreshDir("light-v1");
  std::filesystem::copy_file(
      std::string(ARBOR_SOURCE_DIR) + "/src/storage/testdata/segment_v1.arbseg",
      v1_dir + "/seg-0000000001.arbseg");
  std::ofstream(v1_dir + "/MANIFEST.json")
      << R"({"format_version":1,"flushed_xact":"103","next_segment":2,"segments":[)"
      << R"({"number":1,"min_xact":"100","max_xact":"103","bytes":"393","versions":"4"}]})";
  auto v1 = Segments::Open({.dir = v1_dir});
  ASSERT_TRUE(v1.ok()) << v1.status().message();
  RowStore v1_store(v1->get());
  ASSERT_TRUE((*v1)->LoadInto(v1_store).ok());
  EXPECT_EQ(LightScan(*v1_store.Find("dataset:d"), ScanFilter{.light = all}),
            (std::vector<std::string>{"light second second"}));
}

}  // namespace
}  // namespace arbor::storage
