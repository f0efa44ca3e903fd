#include "storage/columns.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <random>
#include <set>

#include "base/util.h"
#include "json/json.h"
#include "storage/segment.h"
#include "storage/segments.h"

namespace arbor::storage {
namespace {

namespace bj = boost::json;

std::string FreshDir(const std::string& name) {
  std::string dir = ::testing::TempDir() + "/columns_test/" + name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

// Random rows of the shapes spans have, and the awkward ones: keys that vary between rows,
// missing fields, nested and empty objects, arrays, nulls, every number kind, unicode.
class RowMaker {
 public:
  explicit RowMaker(std::uint32_t seed) : rng_(seed) {}

  bj::object Make(int i) {
    bj::object o;
    o["id"] = "row-" + std::to_string(i);
    o["created"] = "2026-11-28T10:" + std::to_string(10 + i % 50) + ":00Z";
    if (Chance(90)) o["input"] = Text(40);
    if (Chance(60)) o["output"] = bj::object{{"text", Text(30)}};
    if (Chance(80)) o["metrics"] = Metrics();
    if (Chance(85)) o["metadata"] = Metadata(0);
    if (Chance(50)) o["tags"] = bj::array{"a", Text(1)};
    if (Chance(30)) o["scores"] = Chance(50) ? bj::value(nullptr) : bj::value(bj::object{});
    if (Chance(40)) o["error"] = Scalar();
    if (Chance(20)) o["k" + std::to_string(Pick(30))] = Scalar();  // keys that vary
    return o;
  }

  std::size_t Pick(std::size_t n) {
    return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_);
  }
  bool Chance(int percent) { return static_cast<int>(Pick(100)) < percent; }

  bj::value Scalar() {
    switch (Pick(10)) {
      case 0:
        return nullptr;
      case 1:
        return Chance(50);
      case 2:
        return static_cast<std::int64_t>(Pick(2000)) - 1000;
      case 3:  // beyond 2^53, both signs
        return Chance(50)
                   ? std::numeric_limits<std::int64_t>::max() - static_cast<std::int64_t>(Pick(5))
                   : std::numeric_limits<std::int64_t>::min() + static_cast<std::int64_t>(Pick(5));
      case 4:
        return std::numeric_limits<std::uint64_t>::max() - Pick(5);
      case 5:
        return static_cast<double>(Pick(1000)) / 7.0;
      case 6:
        return bj::array{1, "x", nullptr, bj::object{{"deep", true}}};
      case 7:
        return bj::object{};
      default:
        return bj::string(Text(3));
    }
  }

  std::string Text(int words) {
    static const char* kWords[] = {
        "alpha", "beta", "東京", "مرحبا", "émoji😀", "", "gpt-4o", "with \"quotes\"", "nul\u0001"};
    std::string out;
    for (int w = 0; w < words; ++w)
      out += std::string(kWords[Pick(9)]) + (w + 1 < words ? " " : "");
    return out;
  }

 private:
  bj::object Metrics() {
    bj::object m;
    if (Chance(90)) m["prompt_tokens"] = static_cast<std::int64_t>(Pick(3000));
    if (Chance(70)) m["ttft"] = static_cast<double>(Pick(1000)) / 1000.0;
    if (Chance(20)) m["tokens"] = Scalar();
    return m;
  }

  bj::object Metadata(int depth) {
    static const char* kModels[] = {"gpt-4o", "claude", "llama", "mistral"};
    bj::object m;
    if (Chance(80)) m["model"] = kModels[Pick(4)];
    if (Chance(30)) m["user"] = Text(1);
    if (Chance(20)) m[Text(1)] = Scalar();  // unicode and empty keys
    if (depth < 3 && Chance(30)) m["nested"] = Metadata(depth + 1);
    if (Chance(10)) m["empty"] = bj::object{};
    return m;
  }

  std::mt19937 rng_;
};

// Every path of `row` that descends objects (light fields), and some that go further.
void CollectPaths(const bj::object& o, FieldPath& path, std::set<FieldPath>& out) {
  for (const auto& kv : o) {
    path.emplace_back(kv.key());
    out.insert(path);
    if (kv.value().is_object()) CollectPaths(kv.value().get_object(), path, out);
    if (kv.value().is_array()) {
      path.emplace_back("0");
      out.insert(path);
      path.pop_back();
    }
    path.pop_back();
  }
}

std::vector<FieldPath> RandomPaths(RowMaker& maker, const std::vector<FieldPath>& known) {
  std::vector<FieldPath> paths;
  const std::size_t n = 1 + maker.Pick(4);
  for (std::size_t i = 0; i < n; ++i) {
    FieldPath p = known[maker.Pick(known.size())];
    if (maker.Chance(15)) p.emplace_back("missing");
    if (maker.Chance(10) && p.size() > 1) p.pop_back();
    if (!IsHeavyField(p.front())) paths.push_back(std::move(p));
  }
  if (maker.Chance(10)) paths.push_back({"nothing", "here"});
  if (!paths.empty() && maker.Chance(30)) {  // a path below another, and one beside them
    FieldPath below = paths.front();
    below.emplace_back("x");
    paths.push_back(std::move(below));
    paths.push_back(known[maker.Pick(known.size())]);
    if (IsHeavyField(paths.back().front())) paths.pop_back();
  }
  return paths;
}

struct Flushed {
  RowRef ref;
  RowPtr body;
};

std::vector<Flushed> ReadAll(const RowStore& store) {
  std::vector<Flushed> out;
  for (const std::string& key : store.ObjectKeys()) {
    auto rows = store.Find(key)->ScanAll(std::numeric_limits<std::uint64_t>::max());
    EXPECT_TRUE(rows.ok());
    for (const VisibleRow& v : *rows) out.push_back({v.ref, v.row});
  }
  return out;
}

// Writes `count` random rows into `store` and flushes them in `flushes` segments.
void WriteRows(Segments& segs, RowStore& store, RowMaker& maker, int count, int flushes) {
  std::uint64_t xact = 1;
  for (int f = 0; f < flushes; ++f) {
    for (int i = f * count / flushes; i < (f + 1) * count / flushes; ++i) {
      auto row = std::make_shared<const bj::object>(maker.Make(i));
      store.Apply({{"project_logs:p", "row-" + std::to_string(i), row}}, xact++);
    }
    ASSERT_TRUE(segs.Flush(store, xact - 1).ok());
  }
}

std::string Describe(const std::vector<FieldPath>& paths) {
  bj::array out;
  for (const FieldPath& p : paths) out.emplace_back(bj::value_from(p));
  return json::Serialize(bj::value(out));
}

void ExpectProjectionsExact(const Segments& segs, const RowStore& store, RowMaker& maker,
                            const std::vector<FieldPath>& known, int path_sets) {
  std::vector<Flushed> rows = ReadAll(store);
  ASSERT_FALSE(rows.empty());
  for (int s = 0; s < path_sets; ++s) {
    std::vector<FieldPath> paths = RandomPaths(maker, known);
    for (const Flushed& r : rows) {
      ASSERT_TRUE(r.ref.on_disk());
      auto got = segs.LoadProjected(r.ref, paths);
      ASSERT_TRUE(got.ok()) << got.status().message();
      bj::object want = ProjectRow(*r.body, paths);
      // Byte for byte: objects copied whole keep their stored key order.
      ASSERT_EQ(json::Serialize(**got), json::Serialize(want))
          << "paths " << Describe(paths) << " row " << json::Serialize(LightRow(*r.body))
          << "\ngot  " << json::Serialize(**got) << "\nwant " << json::Serialize(want);
    }
  }
}

std::vector<FieldPath> KnownPaths(const RowStore& store) {
  std::set<FieldPath> paths;
  for (const Flushed& r : ReadAll(store)) {
    FieldPath scratch;
    CollectPaths(*r.body, scratch, paths);
  }
  return {paths.begin(), paths.end()};
}

TEST(Columns, ProjectionsEqualProjectRowAfterFlushCompactionAndReopen) {
  const std::string dir = FreshDir("projections");
  SegmentsOptions options{.dir = dir};
  options.writer.block_raw_bytes_target = 4096;  // many blocks
  RowMaker maker(7);
  {
    auto segs = Segments::Open(options);
    ASSERT_TRUE(segs.ok());
    RowStore store(segs->get());
    WriteRows(**segs, store, maker, 600, 3);
    for (const char* name : {"seg-0000000001", "seg-0000000002", "seg-0000000003"}) {
      EXPECT_TRUE(std::filesystem::exists(dir + "/" + name + ".arbcol")) << name;
    }
    const std::vector<FieldPath> known = KnownPaths(store);
    ExpectProjectionsExact(**segs, store, maker, known, 60);
    std::vector<std::uint32_t> numbers;
    for (const SegmentMeta& m : (*segs)->List()) numbers.push_back(m.number);
    ASSERT_TRUE((*segs)->Compact(store, numbers).ok());
    ASSERT_EQ((*segs)->List().size(), 1u);
    ExpectProjectionsExact(**segs, store, maker, known, 30);
  }
  // The inputs' column files went with them.
  int column_files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    column_files += e.path().extension() == ".arbcol";
  }
  EXPECT_EQ(column_files, 1);
  auto segs = Segments::Open(options);
  ASSERT_TRUE(segs.ok());
  RowStore store(segs->get());
  ASSERT_TRUE((*segs)->LoadInto(store).ok());
  ExpectProjectionsExact(**segs, store, maker, KnownPaths(store), 30);
}

TEST(Columns, HeavyPathsAndSegmentsWithoutColumnsReadLightRows) {
  const std::string dir = FreshDir("fallback");
  SegmentsOptions options{.dir = dir};
  options.writer.columns = false;
  auto segs = Segments::Open(options);
  ASSERT_TRUE(segs.ok());
  RowStore store(segs->get());
  RowMaker maker(8);
  WriteRows(**segs, store, maker, 100, 1);
  EXPECT_FALSE(std::filesystem::exists(dir + "/seg-0000000001.arbcol"));
  for (const Flushed& r : ReadAll(store)) {
    auto got = (*segs)->LoadProjected(r.ref, {{"metrics", "prompt_tokens"}});
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(**got, LightRow(*r.body));
    EXPECT_TRUE((*segs)->BlockMayMatch(r.ref, {ColumnRange{.path = {"metrics", "x"}}}));
  }
  // With columns, a path into a heavy field reads the light row too.
  const std::string dir2 = FreshDir("heavy");
  auto segs2 = Segments::Open({.dir = dir2});
  ASSERT_TRUE(segs2.ok());
  RowStore store2(segs2->get());
  WriteRows(**segs2, store2, maker, 100, 1);
  for (const Flushed& r : ReadAll(store2)) {
    auto got = (*segs2)->LoadProjected(r.ref, {{"input"}, {"metrics"}});
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(**got, LightRow(*r.body));
  }
}

// Whether `row` may meet `range` (RowLoader::BlockMayMatch's contract, row by row).
bool RowMayMeet(const bj::object& row, const ColumnRange& range) {
  const bj::value* v = json::FindPath(row, range.path);
  if (v == nullptr || v->is_null()) return false;
  if (range.equals) return !v->is_string() || v->get_string() == *range.equals;
  if (!v->is_number()) return true;
  const double d = v->to_number<double>();
  return d >= range.lo && d <= range.hi;
}

ColumnRange RandomRange(RowMaker& maker, const std::vector<FieldPath>& known) {
  ColumnRange r{.path = known[maker.Pick(known.size())]};
  switch (maker.Pick(4)) {
    case 0:
      r.equals = maker.Chance(50) ? std::string("gpt-4o") : maker.Text(1);
      break;
    case 1: {
      const double extremes[] = {9223372036854775807.0, -9223372036854775808.0,
                                 18446744073709551615.0, 0.0};
      r.lo = extremes[maker.Pick(4)];
      r.hi = maker.Chance(50) ? r.lo : std::numeric_limits<double>::infinity();
      break;
    }
    default:
      r.lo = static_cast<double>(maker.Pick(3000)) - 500;
      r.hi = r.lo + static_cast<double>(maker.Pick(400));
  }
  return r;
}

TEST(Columns, BlockMayMatchNeverRulesOutAMatchingRow) {
  const std::string dir = FreshDir("ranges");
  SegmentsOptions options{.dir = dir};
  options.writer.block_raw_bytes_target = 2048;
  auto segs = Segments::Open(options);
  ASSERT_TRUE(segs.ok());
  RowStore store(segs->get());
  RowMaker maker(9);
  WriteRows(**segs, store, maker, 800, 2);
  const std::vector<FieldPath> known = KnownPaths(store);
  std::map<std::pair<std::uint32_t, std::uint32_t>, std::vector<Flushed>> blocks;
  for (const Flushed& r : ReadAll(store)) blocks[{r.ref.segment, r.ref.block}].push_back(r);
  ASSERT_GT(blocks.size(), 10u);
  int ruled_out = 0;
  for (int t = 0; t < 400; ++t) {
    std::vector<ColumnRange> ranges = {RandomRange(maker, known)};
    if (maker.Chance(30)) ranges.push_back(RandomRange(maker, known));
    for (const auto& [where, rows] : blocks) {
      bool may = false;
      for (const Flushed& r : rows) {
        may = may || std::all_of(ranges.begin(), ranges.end(),
                                 [&](const ColumnRange& c) { return RowMayMeet(*r.body, c); });
      }
      for (const Flushed& r : rows) {  // asked per row, as a scan does (memoized per block)
        const bool answer = (*segs)->BlockMayMatch(r.ref, ranges);
        if (may) {
          ASSERT_TRUE(answer) << "range on " << ranges[0].path.back();
        }
        ruled_out += answer ? 0 : 1;
      }
    }
  }
  EXPECT_GT(ruled_out, 0);
}

TEST(Columns, BlockMayMatchRulesOutBlocksBelowTheRange) {
  const std::string dir = FreshDir("prompt_tokens");
  SegmentsOptions options{.dir = dir};
  options.writer.block_raw_bytes_target = 2048;
  auto segs = Segments::Open(options);
  ASSERT_TRUE(segs.ok());
  RowStore store(segs->get());
  for (int i = 0; i < 400; ++i) {  // prompt_tokens grow with i: early blocks are all <= 1000
    auto row = std::make_shared<const bj::object>(bj::object{
        {"id", std::to_string(i)},
        {"metrics", bj::object{{"prompt_tokens", i * 5}, {"ttft", 0.1 + (i % 2) / 10.0}}},
        {"metadata", bj::object{{"model", i < 200 ? "gpt-4o" : "claude"}}}});
    store.Apply({{"project_logs:p", std::to_string(i), row}}, static_cast<std::uint64_t>(i + 1));
  }
  ASSERT_TRUE((*segs)->Flush(store, 400).ok());
  const std::vector<ColumnRange> q6 = {{.path = {"metrics", "prompt_tokens"}, .lo = 1000.5},
                                       {.path = {"metrics", "ttft"}, .hi = 0.3}};
  const std::vector<ColumnRange> claude = {{.path = {"metadata", "model"}, .equals = "claude"}};
  const std::vector<ColumnRange> missing = {{.path = {"metrics", "nope"}, .lo = 0}};
  for (const Flushed& r : ReadAll(store)) {
    const std::int64_t tokens = r.body->at("metrics").at("prompt_tokens").as_int64();
    // Rows go into blocks in order, and a block holds fewer than 40 of these rows.
    if (tokens <= 1000 - 200) {
      EXPECT_FALSE((*segs)->BlockMayMatch(r.ref, q6)) << tokens;
    }
    if (tokens > 1000) {
      EXPECT_TRUE((*segs)->BlockMayMatch(r.ref, q6)) << tokens;
    }
    if (r.body->at("metadata").at("model").as_string() == "claude") {
      EXPECT_TRUE((*segs)->BlockMayMatch(r.ref, claude));
    }
    if (tokens < 900) {
      EXPECT_FALSE((*segs)->BlockMayMatch(r.ref, claude)) << tokens;
    }
    EXPECT_FALSE((*segs)->BlockMayMatch(r.ref, missing));
    EXPECT_TRUE((*segs)->BlockMayMatch(r.ref, {{.path = {"input"}, .lo = 0}}));  // heavy
  }
}

// A small known segment's columns (the fixture's content too).
std::vector<bj::object> SampleRows() {
  return {
      bj::object{{"id", "a"},
                 {"input", "heavy text"},
                 {"metrics", bj::object{{"prompt_tokens", 1200}, {"ttft", 0.25}}},
                 {"metadata", bj::object{{"model", "gpt-4o"}, {"big", 18446744073709551615ull}}},
                 {"tags", bj::array{"x", 1}}},
      bj::object{{"id", "b"},
                 {"metrics", bj::object{{"prompt_tokens", -5}}},
                 {"metadata", bj::object{}},
                 {"error", nullptr}},
      bj::object{{"id", "c"}, {"metadata", "flat"}, {"scores", bj::object{{"ok", true}}}},
  };
}

Status WriteSample(const std::string& path) {
  ColumnsBuilder b;
  const auto rows = SampleRows();
  b.AddRow(rows[0]);
  b.AddRow(rows[1]);
  RETURN_IF_ERROR(b.FinishBlock(1));
  b.AddRow(rows[2]);
  RETURN_IF_ERROR(b.FinishBlock(1));
  return b.Write(path, 1);
}

void ExpectSample(const ColumnsReader& r) {
  const auto rows = SampleRows();
  ASSERT_EQ(r.blocks(), 2u);
  const std::vector<FieldPath> paths = {{"metrics", "prompt_tokens"}, {"metadata"}, {"tags"}};
  for (std::uint32_t b = 0; b < 2; ++b) {
    auto block = r.ReadBlock(b);
    ASSERT_TRUE(block.ok()) << block.status().message();
    auto projection = ColumnProjection::Make(**block, paths);
    ASSERT_TRUE(projection.has_value());
    for (std::uint32_t i = 0; i < (*block)->rows(); ++i) {
      EXPECT_EQ(json::Serialize(projection->Build(**block, i)),
                json::Serialize(ProjectRow(rows[b * 2 + i], paths)));
    }
  }
  auto first = r.ReadBlock(0);
  auto big = ColumnProjection::Make(**first, {{"metadata", "big"}})->Build(**first, 0);
  EXPECT_TRUE(big.at("metadata").at("big").is_uint64());  // number kinds survive
  auto tokens = ColumnProjection::Make(**first, {{"metrics"}})->Build(**first, 1);
  EXPECT_TRUE(tokens.at("metrics").at("prompt_tokens").is_int64());
  EXPECT_FALSE(r.MayMatch(0, {{.path = {"metrics", "prompt_tokens"}, .lo = 1201}}));
  EXPECT_TRUE(r.MayMatch(0, {{.path = {"metrics", "prompt_tokens"}, .lo = 1200}}));
  EXPECT_FALSE(r.MayMatch(0, {{.path = {"metadata", "model"}, .equals = "claude"}}));
  EXPECT_TRUE(r.MayMatch(0, {{.path = {"metadata", "model"}, .equals = "gpt-4o"}}));
  EXPECT_FALSE(r.MayMatch(1, {{.path = {"metrics", "ttft"}, .hi = 1}}));
  EXPECT_TRUE(r.MayMatch(1, {{.path = {"metadata"}, .equals = "flat"}}));
}

TEST(Columns, BuilderAndReaderRoundTrip) {
  const std::string path = FreshDir("roundtrip") + "/seg-0000000001.arbcol";
  ASSERT_TRUE(WriteSample(path).ok());
  auto r = ColumnsReader::Open(path, {2, 1});
  ASSERT_TRUE(r.ok()) << r.status().message();
  ExpectSample(**r);
  EXPECT_FALSE(ColumnsReader::Open(path, {2, 2}).ok());  // not this segment's columns
  EXPECT_FALSE(ColumnsReader::Open(path, {2}).ok());
}

// The checked-in fixture was written by format version 1; the current reader must open it.
// Regenerate (only with a new format version, as a new file) with ARBOR_WRITE_FIXTURES=1.
TEST(Columns, ReadsVersion1Fixture) {
  const std::string fixture =
      std::string(ARBOR_SOURCE_DIR) + "/src/storage/testdata/columns_v1.arbcol";
  if (std::getenv("ARBOR_WRITE_FIXTURES") != nullptr) {
    ASSERT_EQ(kColumnsVersion, 1u);
    ASSERT_TRUE(WriteSample(fixture).ok());
  }
  auto r = ColumnsReader::Open(fixture, {2, 1});
  ASSERT_TRUE(r.ok()) << r.status().message();
  ExpectSample(**r);
}

// Opens the damaged image and reads every block: true when something refused it.
bool Refused(const std::string& path) {
  auto r = ColumnsReader::Open(path, {2, 1});
  if (!r.ok()) return true;
  for (std::uint32_t b = 0; b < (*r)->blocks(); ++b) {
    if (!(*r)->HasColumns(b) || !(*r)->ReadBlock(b).ok()) return true;
  }
  return false;
}

// No fsync: thousands of damaged images.
void WriteQuickly(const std::string& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good());
}

TEST(Columns, EveryTruncationAndBitFlipIsRefused) {
  const std::string dir = FreshDir("damage");
  const std::string good_path = dir + "/good.arbcol";
  ASSERT_TRUE(WriteSample(good_path).ok());
  auto good = ReadFile(good_path);
  ASSERT_TRUE(good.ok());
  const std::string path = dir + "/bad.arbcol";
  for (std::size_t n = 0; n < good->size(); ++n) {
    WriteQuickly(path, good->substr(0, n));
    EXPECT_TRUE(Refused(path)) << "truncated to " << n;
  }
  for (std::size_t at = 0; at < good->size(); ++at) {
    for (int bit = 0; bit < 8; bit += 3) {
      std::string bad = *good;
      bad[at] = static_cast<char>(bad[at] ^ (1 << bit));
      WriteQuickly(path, bad);
      EXPECT_TRUE(Refused(path)) << "bit " << bit << " of byte " << at << " flipped";
    }
  }
}

TEST(Columns, DamagedColumnsFallBackToLightRows) {
  const std::string dir = FreshDir("damaged_fallback");
  SegmentsOptions options{.dir = dir};
  options.writer.block_raw_bytes_target = 2048;
  RowMaker maker(11);
  std::vector<FieldPath> paths = {{"metrics", "prompt_tokens"}, {"metadata", "model"}};
  {
    auto segs = Segments::Open(options);
    ASSERT_TRUE(segs.ok());
    RowStore store(segs->get());
    WriteRows(**segs, store, maker, 300, 2);
  }
  // Segment 1: a flipped byte in its first column block (found at block read); segment 2:
  // truncated (refused at open).
  const std::string col1 = dir + "/seg-0000000001.arbcol";
  const std::string col2 = dir + "/seg-0000000002.arbcol";
  auto bytes = ReadFile(col1);
  ASSERT_TRUE(bytes.ok());
  (*bytes)[kColumnsHeaderBytes + 3] ^= 0x10;
  ASSERT_TRUE(WriteFileAtomic(col1, *bytes).ok());
  bytes = ReadFile(col2);
  ASSERT_TRUE(bytes.ok());
  ASSERT_TRUE(WriteFileAtomic(col2, bytes->substr(0, bytes->size() - 5)).ok());

  auto segs = Segments::Open(options);
  ASSERT_TRUE(segs.ok());
  RowStore store(segs->get());
  ASSERT_TRUE((*segs)->LoadInto(store).ok());
  int light = 0;
  for (const Flushed& r : ReadAll(store)) {
    auto got = (*segs)->LoadProjected(r.ref, paths);
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(ProjectRow(**got, paths), ProjectRow(*r.body, paths));
    light += **got == LightRow(*r.body) ? 1 : 0;
    if (r.ref.segment == 2) {
      EXPECT_TRUE((*segs)->BlockMayMatch(r.ref, {{.path = {"nothing"}, .lo = 0}}));
    }
  }
  EXPECT_GT(light, 150);  // segment 2 whole, and segment 1's first block
}

TEST(Columns, BlocksBeyondTheLimitsHaveNoColumns) {
  ColumnsBuilder b;
  for (std::size_t i = 0; i <= column_paths_per_block_max; ++i) {
    b.AddRow(bj::object{{"k" + std::to_string(i), 1}});
  }
  ASSERT_TRUE(b.FinishBlock(1).ok());
  bj::object deep{{"x", 1}};
  for (std::size_t d = 0; d < column_path_depth_max; ++d) deep = bj::object{{"d", deep}};
  b.AddRow(deep);
  ASSERT_TRUE(b.FinishBlock(1).ok());
  b.AddRow(bj::object{{"fine", 1}});
  ASSERT_TRUE(b.FinishBlock(1).ok());
  const std::string path = FreshDir("limits") + "/c.arbcol";
  ASSERT_TRUE(b.Write(path, 1).ok());
  auto r =
      ColumnsReader::Open(path, {static_cast<std::uint32_t>(column_paths_per_block_max + 1), 1, 1});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_FALSE((*r)->HasColumns(0));
  EXPECT_FALSE((*r)->HasColumns(1));
  EXPECT_TRUE((*r)->HasColumns(2));
  EXPECT_TRUE((*r)->MayMatch(0, {{.path = {"nothing"}, .lo = 0}}));
  EXPECT_FALSE((*r)->MayMatch(2, {{.path = {"nothing"}, .lo = 0}}));
}

TEST(Columns, OrphanColumnFilesAreDeletedAtOpen) {
  const std::string dir = FreshDir("orphans");
  {
    auto segs = Segments::Open({.dir = dir});
    ASSERT_TRUE(segs.ok());
    RowStore store(segs->get());
    RowMaker maker(13);
    WriteRows(**segs, store, maker, 20, 1);
  }
  // Left by a flush that died before its manifest (segment 2), beside a live segment's file.
  ASSERT_TRUE(WriteFileAtomic(dir + "/seg-0000000002.arbcol", "partial").ok());
  auto segs = Segments::Open({.dir = dir});
  ASSERT_TRUE(segs.ok());
  EXPECT_FALSE(std::filesystem::exists(dir + "/seg-0000000002.arbcol"));
  EXPECT_TRUE(std::filesystem::exists(dir + "/seg-0000000001.arbcol"));
}

TEST(Columns, CacheBudgetHolds) {
  const std::string dir = FreshDir("budget");
  SegmentsOptions options{.dir = dir, .block_cache_bytes_max = 48u << 10};
  options.writer.block_raw_bytes_target = 4096;
  auto segs = Segments::Open(options);
  ASSERT_TRUE(segs.ok());
  RowStore store(segs->get());
  RowMaker maker(12);
  WriteRows(**segs, store, maker, 1000, 1);
  const std::vector<FieldPath> paths = {{"metrics"}, {"metadata", "model"}, {"created"}};
  for (int pass = 0; pass < 2; ++pass) {
    for (const Flushed& r : ReadAll(store)) {
      ASSERT_TRUE((*segs)->LoadProjected(r.ref, paths).ok());
      EXPECT_LE((*segs)->cache_stats().bytes, options.block_cache_bytes_max);
      EXPECT_LE((*segs)->projection_cache_stats().bytes, options.block_cache_bytes_max / 2);
    }
  }
  EXPECT_GT((*segs)->cache_stats().misses, 0u);
}

// A block's rows projected onto a set of paths are built once and shared: asking again gives
// the same rows, and another set of paths over the same blocks gets its own, also exact.
TEST(Columns, ProjectedRowsAreSharedPerPathSet) {
  const std::string dir = FreshDir("shared");
  SegmentsOptions options{.dir = dir};
  options.writer.block_raw_bytes_target = 4096;
  auto segs = Segments::Open(options);
  ASSERT_TRUE(segs.ok());
  RowStore store(segs->get());
  RowMaker maker(21);
  WriteRows(**segs, store, maker, 300, 1);
  const std::vector<FieldPath> a = {{"metrics"}, {"created"}};
  const std::vector<FieldPath> b = {{"metadata", "model"}};
  std::vector<RowPtr> first;
  for (const Flushed& r : ReadAll(store)) {
    auto got = (*segs)->LoadProjected(r.ref, a);
    ASSERT_TRUE(got.ok());
    first.push_back(*got);
  }
  for (int pass = 0; pass < 2; ++pass) {
    std::size_t i = 0;
    for (const Flushed& r : ReadAll(store)) {
      auto other = (*segs)->LoadProjected(r.ref, b);
      ASSERT_TRUE(other.ok());
      EXPECT_EQ(json::Serialize(**other), json::Serialize(ProjectRow(*r.body, b)));
      auto again = (*segs)->LoadProjected(r.ref, a);
      ASSERT_TRUE(again.ok());
      EXPECT_EQ(again->get(), first[i].get());  // the same rows, not rebuilt
      EXPECT_EQ(json::Serialize(**again), json::Serialize(ProjectRow(*r.body, a)));
      ++i;
    }
  }
  EXPECT_GT((*segs)->projection_cache_stats().hits, 0u);
}

}  // namespace
}  // namespace arbor::storage
