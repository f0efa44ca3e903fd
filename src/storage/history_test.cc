// Compaction with a history horizon (Segments::Compact): versions shadowed at or below the
// horizon and bottommost tombstones leave the segment files and the in-memory index, while
// every snapshot at or after the horizon reads exactly what it read before, also after a
// restart from disk.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <random>
#include <tuple>

#include "base/tokenize.h"
#include "storage/segments.h"

namespace arbor::storage {
namespace {

constexpr char kObject[] = "dataset:d";

std::string FreshDir(const std::string& name) {
  std::string dir = ::testing::TempDir() + "/history_test/" + name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

RowPtr Row(const std::string& id, const std::string& input, const std::string& root) {
  boost::json::object o;
  o["id"] = id;
  o["input"] = input;
  o["root_span_id"] = root;
  return std::make_shared<const boost::json::object>(std::move(o));
}

RowPtr Comment(const std::string& id, const std::string& text) {
  boost::json::object o;
  o["id"] = id;
  o["comment"] = boost::json::object{{"text", text}};
  return std::make_shared<const boost::json::object>(std::move(o));
}

// id -> input (or comment text) of every row visible at `snapshot`.
using View = std::map<std::string, std::string>;

View Read(const RowStore& store, std::uint64_t snapshot) {
  View out;
  const ObjectRows* rows = store.Find(kObject);
  if (rows == nullptr) return out;
  auto scan = rows->ScanAll(snapshot);
  EXPECT_TRUE(scan.ok()) << scan.status().message();
  if (!scan.ok()) return out;
  for (const VisibleRow& v : *scan) {
    const boost::json::object& row = *v.row;
    std::string text = row.contains("input")
                           ? std::string(row.at("input").as_string())
                           : std::string(row.at("comment").at("text").as_string());
    out[std::string(row.at("id").as_string())] = text;
  }
  return out;
}

// (id, xact, deleted) of every version in the live segment files, read from disk.
struct OnDisk {
  std::string id;
  std::uint64_t xact;
  bool deleted;
  bool operator<(const OnDisk& o) const { return std::tie(id, xact) < std::tie(o.id, o.xact); }
  bool operator==(const OnDisk& o) const = default;
};

std::vector<OnDisk> VersionsOnDisk(const Segments& segs, const std::string& dir) {
  std::vector<OnDisk> out;
  for (const SegmentMeta& m : segs.List()) {
    char name[32];
    std::snprintf(name, sizeof(name), "seg-%010u.arbseg", m.number);
    auto reader = SegmentReader::Open(dir + "/" + name);
    EXPECT_TRUE(reader.ok()) << reader.status().message();
    if (!reader.ok()) continue;
    auto versions = (*reader)->ReadVersions();
    EXPECT_TRUE(versions.ok());
    if (!versions.ok()) continue;
    for (const SegmentVersion& v : *versions) out.push_back({v.id, v.xact, v.deleted});
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::uint32_t> Numbers(const Segments& segs, std::size_t from, std::size_t count) {
  std::vector<std::uint32_t> out;
  std::vector<SegmentMeta> list = segs.List();
  for (std::size_t i = from; i < from + count; ++i) out.push_back(list.at(i).number);
  return out;
}

// Writes the history below into four segments (flushes at 20, 40, 60, 80) plus a memtable:
//   a: a1@10 a2@20 | a3@30 | a4@50 | a5@70      (overwritten, last version past the horizon)
//   b: b1@10 | b2@30 del@40                     (deleted at or below the horizon)
//   c: c1@10 | del@30 | c2@55                   (deleted, then written again)
//   d: d1@20 | | | del@75                       (deleted past the horizon)
//   e: e1@10, comment row of trace t, | del@35  (a deleted comment)
//   f: f1@45 f2@50 | | f3@90 (memtable)
// The horizon used below is 50.
class HistoryTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(true); }

  void Open(bool fresh) {
    store_.reset();
    segs_.reset();
    if (fresh) dir_ = FreshDir(::testing::UnitTest::GetInstance()->current_test_info()->name());
    auto segs = Segments::Open({.dir = dir_});
    ASSERT_TRUE(segs.ok()) << segs.status().message();
    segs_ = std::move(*segs);
    store_ = std::make_unique<RowStore>(segs_.get());
    ASSERT_TRUE(segs_->LoadInto(*store_).ok());
  }

  void Write(const std::string& id, RowPtr row, std::uint64_t xact) {
    store_->Apply({{kObject, id, std::move(row)}}, xact);
  }

  void WriteHistory() {
    Write("a", Row("a", "a1", "t"), 10);
    Write("b", Row("b", "b1", "t"), 10);
    Write("c", Row("c", "c1", "u"), 10);
    Write("e", Comment("e", "e1"), 10);
    Write("a", Row("a", "a2", "t"), 20);
    Write("d", Row("d", "d1", "u"), 20);
    ASSERT_TRUE(segs_->Flush(*store_, 20).ok());
    Write("a", Row("a", "a3", "t"), 30);
    Write("b", Row("b", "b2", "t"), 30);
    Write("c", nullptr, 30);
    Write("e", nullptr, 35);
    Write("b", nullptr, 40);
    ASSERT_TRUE(segs_->Flush(*store_, 40).ok());
    Write("f", Row("f", "f1", "v"), 45);
    Write("a", Row("a", "a4", "t"), 50);
    Write("f", Row("f", "f2", "v"), 50);
    Write("c", Row("c", "c2", "u"), 55);
    ASSERT_TRUE(segs_->Flush(*store_, 60).ok());
    Write("a", Row("a", "a5", "t"), 70);
    Write("d", nullptr, 75);
    ASSERT_TRUE(segs_->Flush(*store_, 80).ok());
    Write("f", Row("f", "f3", "v"), 90);
    ASSERT_EQ(segs_->List().size(), 4u);
  }

  std::map<std::uint64_t, View> Snapshots() {
    std::map<std::uint64_t, View> out;
    for (std::uint64_t s : {50, 54, 55, 60, 70, 74, 75, 80, 90, 1000}) out[s] = Read(*store_, s);
    return out;
  }

  std::string dir_;
  std::unique_ptr<Segments> segs_;
  std::unique_ptr<RowStore> store_;
};

TEST_F(HistoryTest, BottommostCompactionDropsHistoryBelowTheHorizonAndDeletedRows) {
  WriteHistory();
  const std::map<std::uint64_t, View> before = Snapshots();
  ASSERT_EQ(before.at(50), (View{{"a", "a4"}, {"d", "d1"}, {"f", "f2"}}));
  ASSERT_EQ(VersionsOnDisk(*segs_, dir_).size(), 17u);

  ASSERT_TRUE(segs_->Compact(*store_, Numbers(*segs_, 0, 4), 50).ok());

  EXPECT_EQ(Snapshots(), before);
  // Left on disk: per row, the newest version at or below 50 and every version above it.
  // b and e (deleted at or below 50) are gone entirely, tombstones included.
  const std::vector<OnDisk> want = {{"a", 50, false}, {"a", 70, false}, {"c", 55, false},
                                    {"d", 20, false}, {"d", 75, true},  {"f", 50, false}};
  EXPECT_EQ(VersionsOnDisk(*segs_, dir_), want);
  ASSERT_EQ(segs_->List().size(), 1u);
  EXPECT_EQ(segs_->List()[0].info.versions, 6u);
  // The in-memory index forgot them too: b and e left the trace and comment indexes.
  const ObjectRows& rows = *store_->Find(kObject);
  auto trace = rows.IdsOfTrace("t");
  std::sort(trace.begin(), trace.end());
  EXPECT_EQ(trace, (std::vector<std::string>{"a"}));
  EXPECT_TRUE(rows.CommentIds().empty());
  EXPECT_EQ(rows.CollectUnflushed(1000).size(), 1u);  // the memtable version f3 is untouched
  auto b = rows.Latest("b");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(*b, nullptr);
  // The id can be written again, as a new row.
  Write("b", Row("b", "b3", "t"), 95);
  EXPECT_EQ(Read(*store_, 1000).at("b"), "b3");

  // A restart reads the same from disk (the memtable is gone: it lived in no WAL here).
  Open(false);
  EXPECT_EQ(Read(*store_, 80), before.at(80));
  EXPECT_EQ(Read(*store_, 50), before.at(50));
  EXPECT_EQ(VersionsOnDisk(*segs_, dir_), want);
  EXPECT_EQ(segs_->List()[0].garbage, (SegmentGarbage{.deletes = 1, .shadowed = 2}));
}

// MATCH scans skip rows by token (segment text indexes and block filters): after history
// was dropped, they still find exactly the rows a full scan finds.
TEST_F(HistoryTest, TokenFilteredScansAgreeAfterHistoryIsDropped) {
  WriteHistory();
  ASSERT_TRUE(segs_->Compact(*store_, Numbers(*segs_, 0, 4), 50).ok());
  const ObjectRows& rows = *store_->Find(kObject);
  auto all = [](const boost::json::object&) { return true; };
  for (const char* token : {"a4", "a5", "c2", "d1", "f2", "f3", "b1", "a1"}) {
    for (std::uint64_t snapshot : {50, 80, 1000}) {
      auto matched = rows.ScanIf(snapshot, 0, 100, all, {TokenHash(token)});
      ASSERT_TRUE(matched.ok());
      std::vector<std::string> got;
      for (const VisibleRow& v : *matched) {
        if (v.row->contains("input") && v.row->at("input").as_string() == token) {
          got.emplace_back(token);
        }
      }
      std::size_t want = 0;
      for (const auto& [id, text] : Read(*store_, snapshot)) want += text == token ? 1 : 0;
      EXPECT_EQ(got.size(), want) << token << " at " << snapshot;
    }
  }
}

// The same at random: overwrites, deletes, flushes and compactions of random runs at a
// rising horizon; every token-filtered scan at or after the horizon equals a full scan.
TEST_F(HistoryTest, RandomHistoryKeepsTokenFilteredScansExact) {
  const char* words[] = {"alpha", "beta", "gamma", "delta"};
  std::mt19937 rng(7);
  std::uint64_t xact = 0;
  std::uint64_t horizon = 0;
  for (int step = 0; step < 300; ++step) {
    xact += 10;
    std::string id = "r" + std::to_string(rng() % 12);
    RowPtr row = rng() % 5 == 0 ? nullptr : Row(id, words[rng() % 4], "t");
    Write(id, row, xact);
    if (rng() % 4 == 0) {
      ASSERT_TRUE(segs_->Flush(*store_, xact).ok());
    }
    std::size_t n = segs_->List().size();
    if (n > 0 && rng() % 6 == 0) {
      horizon = std::max(horizon, xact - 10 * (rng() % 20));
      std::size_t from = rng() % n;
      std::size_t count = 1 + rng() % (n - from);
      ASSERT_TRUE(segs_->Compact(*store_, Numbers(*segs_, from, count), horizon).ok());
    }
    if (rng() % 25 == 0) {  // a restart (after a flush: this store has no WAL)
      ASSERT_TRUE(segs_->Flush(*store_, xact).ok());
      Open(false);
    }
    const ObjectRows& rows = *store_->Find(kObject);
    for (const char* word : words) {
      for (std::uint64_t snapshot : {horizon, (horizon + xact) / 2, xact}) {
        auto matched = rows.ScanIf(
            snapshot, 0, 100,
            [&](const boost::json::object& r) { return r.at("input").as_string() == word; },
            {TokenHash(word)});
        ASSERT_TRUE(matched.ok());
        std::size_t want = 0;
        for (const auto& [rid, text] : Read(*store_, snapshot)) want += text == word ? 1 : 0;
        ASSERT_EQ(matched->size(), want) << word << " at " << snapshot << ", step " << step;
      }
    }
  }
}

TEST_F(HistoryTest, TombstonesStayWhenAnOlderSegmentIsNotAnInput) {
  WriteHistory();
  const std::map<std::uint64_t, View> before = Snapshots();
  // Segments 2..4: the first segment still holds b1 and e1, which the tombstones hide.
  ASSERT_TRUE(segs_->Compact(*store_, Numbers(*segs_, 1, 3), 50).ok());

  EXPECT_EQ(Snapshots(), before);
  // Kept: the first segment whole (a1 a2 b1 c1 d1 e1), and from the inputs the newest
  // version at or below 50 of each row, tombstones included (c's, though c2 follows), and
  // everything above 50.
  const std::vector<OnDisk> want = {
      {"a", 10, false}, {"a", 20, false}, {"a", 50, false}, {"a", 70, false}, {"b", 10, false},
      {"b", 40, true},  {"c", 10, false}, {"c", 30, true},  {"c", 55, false}, {"d", 20, false},
      {"d", 75, true},  {"e", 10, false}, {"e", 35, true},  {"f", 50, false}};
  EXPECT_EQ(VersionsOnDisk(*segs_, dir_), want);
  EXPECT_EQ(Read(*store_, 1000).count("b"), 0u);  // still hidden
  EXPECT_EQ(Read(*store_, 1000).count("e"), 0u);

  Open(false);
  EXPECT_EQ(Read(*store_, 80), before.at(80));
  EXPECT_EQ(VersionsOnDisk(*segs_, dir_), want);

  // Now with the first segment: the tombstones and what they hide go.
  ASSERT_TRUE(segs_->Compact(*store_, Numbers(*segs_, 0, 2), 50).ok());
  EXPECT_EQ(Read(*store_, 80), before.at(80));
  const std::vector<OnDisk> after = {{"a", 50, false}, {"a", 70, false}, {"c", 55, false},
                                     {"d", 20, false}, {"d", 75, true},  {"f", 50, false}};
  EXPECT_EQ(VersionsOnDisk(*segs_, dir_), after);
}

TEST_F(HistoryTest, NoHorizonKeepsEveryVersion) {
  WriteHistory();
  std::map<std::uint64_t, View> before = Snapshots();
  before[10] = Read(*store_, 10);
  before[30] = Read(*store_, 30);
  ASSERT_TRUE(segs_->Compact(*store_, Numbers(*segs_, 0, 4)).ok());
  EXPECT_EQ(VersionsOnDisk(*segs_, dir_).size(), 17u);
  std::map<std::uint64_t, View> after = Snapshots();
  after[10] = Read(*store_, 10);
  after[30] = Read(*store_, 30);
  EXPECT_EQ(after, before);
}

// A deleted row leaves the files only once a later row of its object is kept: the object's
// highest seq stays on disk (as a tombstone), so after a restart new rows continue the
// sequence and a cursor that passed the deleted row still sees them.
TEST_F(HistoryTest, TheHighestDeletedRowKeepsItsTombstone) {
  Write("x", Row("x", "x1", "t"), 10);
  Write("y", Row("y", "y1", "t"), 10);
  ASSERT_TRUE(segs_->Flush(*store_, 10).ok());
  Write("x", nullptr, 20);
  Write("y", nullptr, 20);
  ASSERT_TRUE(segs_->Flush(*store_, 20).ok());
  ASSERT_TRUE(segs_->Compact(*store_, Numbers(*segs_, 0, 2), 20).ok());
  EXPECT_EQ(VersionsOnDisk(*segs_, dir_), (std::vector<OnDisk>{{"y", 20, true}}));
  EXPECT_TRUE(Read(*store_, 20).empty());
  // x left the index; y stays as a deleted row (the trace index lists rows ever written).
  EXPECT_EQ(store_->Find(kObject)->IdsOfTrace("t"), std::vector<std::string>{"y"});
  Open(false);
  EXPECT_EQ(VersionsOnDisk(*segs_, dir_), (std::vector<OnDisk>{{"y", 20, true}}));
  Write("z", Row("z", "z1", "t"), 30);
  auto scan = store_->Find(kObject)->ScanAll(30);
  ASSERT_TRUE(scan.ok());
  ASSERT_EQ(scan->size(), 1u);
  EXPECT_EQ((*scan)[0].seq, 3u) << "z must follow y (seq 2), not reuse its seq";
}

TEST_F(HistoryTest, FlushAndCompactionCountGarbage) {
  WriteHistory();
  std::vector<SegmentMeta> list = segs_->List();
  // Flush at 20: a1 shadowed by a2. At 40: a3 and b2 overwrite the first segment's a and b,
  // c's and e's tombstones too; b2 is shadowed by b's tombstone.
  EXPECT_EQ(list[0].garbage, (SegmentGarbage{.deletes = 0, .shadowed = 1, .overwrites = 0}));
  EXPECT_EQ(list[1].garbage, (SegmentGarbage{.deletes = 3, .shadowed = 1, .overwrites = 4}));
  EXPECT_EQ(list[2].garbage, (SegmentGarbage{.deletes = 0, .shadowed = 1, .overwrites = 2}));
  EXPECT_EQ(list[3].garbage, (SegmentGarbage{.deletes = 1, .shadowed = 0, .overwrites = 2}));
  // The manifest keeps the counts across a restart.
  Open(false);
  std::vector<SegmentMeta> reopened = segs_->List();
  for (std::size_t i = 0; i < list.size(); ++i) EXPECT_EQ(reopened[i].garbage, list[i].garbage);
}

// A manifest from before garbage counts: they are counted from the version tables at open
// (overwrites, which need the in-memory index, stay 0), and written at the next change.
TEST_F(HistoryTest, LegacyManifestGetsItsGarbageCounted) {
  WriteHistory();
  const std::string path = dir_ + "/MANIFEST.json";
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  boost::json::value manifest = boost::json::parse(text);
  for (boost::json::value& seg : manifest.at("segments").as_array()) {
    for (const char* key : {"deletes", "shadowed", "overwrites"}) seg.as_object().erase(key);
  }
  std::ofstream(path, std::ios::trunc) << boost::json::serialize(manifest);
  Open(false);
  std::vector<SegmentMeta> list = segs_->List();
  ASSERT_EQ(list.size(), 4u);
  EXPECT_EQ(list[0].garbage, (SegmentGarbage{.deletes = 0, .shadowed = 1}));
  EXPECT_EQ(list[1].garbage, (SegmentGarbage{.deletes = 3, .shadowed = 1}));
  EXPECT_EQ(list[3].garbage, (SegmentGarbage{.deletes = 1}));
  Write("g", Row("g", "g1", "w"), 100);
  ASSERT_TRUE(segs_->Flush(*store_, 100).ok());
  Open(false);
  EXPECT_EQ(segs_->List()[1].garbage, (SegmentGarbage{.deletes = 3, .shadowed = 1}));
}

}  // namespace
}  // namespace arbor::storage
