#include "storage/segment.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "base/tokenize.h"
#include "base/util.h"

namespace arbor::storage {
namespace {

std::string TempPath(const std::string& name) {
  std::string dir = ::testing::TempDir() + "/segment_test";
  std::filesystem::create_directories(dir);
  return dir + "/" + name;
}

SegmentVersion Version(std::string key, std::string id, std::uint64_t seq, std::uint64_t xact) {
  return SegmentVersion{
      .object_key = std::move(key), .id = std::move(id), .seq = seq, .xact = xact};
}

// Writes: two objects; a row with two versions, a delete, a comment, a trace root.
StatusOr<SegmentInfo> WriteSample(const std::string& path, std::size_t block_bytes) {
  SegmentWriter w(path, {.block_raw_bytes_target = block_bytes});
  SegmentVersion a1 = Version("dataset:d", "a", 1, 100);
  a1.root_span_id = "a";
  RETURN_IF_ERROR(w.Add(a1, R"({"id":"a","input":"first"})").status());
  SegmentVersion a2 = Version("dataset:d", "a", 1, 101);
  a2.root_span_id = "a";
  RETURN_IF_ERROR(w.Add(a2, R"({"id":"a","input":"second"})").status());
  SegmentVersion b = Version("dataset:d", "b", 2, 102);
  b.deleted = true;
  RETURN_IF_ERROR(w.Add(b, "").status());
  SegmentVersion c = Version("experiment:e", "c", 1, 103);
  c.comment = true;
  c.root_span_id = "root-1";
  RETURN_IF_ERROR(w.Add(c, R"({"id":"c","comment":{"text":"hi"}})").status());
  return w.Finish();
}

void ExpectSample(const SegmentReader& r) {
  EXPECT_EQ(r.info().versions, 4u);
  EXPECT_EQ(r.info().min_xact, 100u);
  EXPECT_EQ(r.info().max_xact, 103u);
  auto versions = r.ReadVersions();
  ASSERT_TRUE(versions.ok()) << versions.status().message();
  ASSERT_EQ(versions->size(), 4u);
  const auto& v = *versions;
  EXPECT_EQ(v[0].object_key, "dataset:d");
  EXPECT_EQ(v[0].root_span_id, "a");
  EXPECT_EQ(v[1].xact, 101u);
  EXPECT_TRUE(v[2].deleted);
  EXPECT_EQ(v[2].block, kNoBlock);
  EXPECT_EQ(v[3].object_key, "experiment:e");
  EXPECT_TRUE(v[3].comment);
  EXPECT_EQ(v[3].root_span_id, "root-1");
  auto block = r.ReadBlock(v[1].block);
  ASSERT_TRUE(block.ok()) << block.status().message();
  EXPECT_EQ((*block)[v[1].index]->at("input").as_string(), "second");
  auto last = r.ReadBlock(v[3].block);
  ASSERT_TRUE(last.ok());
  EXPECT_EQ((*last)[v[3].index]->at("comment").at("text").as_string(), "hi");
}

// The light blocks of the sample: the same rows, without their heavy fields.
void ExpectSampleLight(const SegmentReader& r) {
  ASSERT_TRUE(r.has_light());
  auto versions = r.ReadVersions();
  ASSERT_TRUE(versions.ok());
  const auto& v = *versions;
  auto light = r.ReadLightBlock(v[1].block);
  ASSERT_TRUE(light.ok()) << light.status().message();
  EXPECT_EQ(*(*light)[v[1].index], (boost::json::object{{"id", "a"}}));
  auto last = r.ReadLightBlock(v[3].block);
  ASSERT_TRUE(last.ok());
  EXPECT_EQ((*last)[v[3].index]->at("comment").at("text").as_string(), "hi");
  auto full = r.ReadBlock(v[3].block);
  ASSERT_TRUE(full.ok());
  EXPECT_EQ(*(*last)[v[3].index], *(*full)[v[3].index]);  // no heavy field: identical
}

TEST(Segment, RoundTripInOneBlockAndInMany) {
  for (std::size_t block_bytes : {std::size_t{1} << 16, std::size_t{1}}) {
    std::string path = TempPath("rt.arbseg");
    auto info = WriteSample(path, block_bytes);
    ASSERT_TRUE(info.ok()) << info.status().message();
    EXPECT_EQ(info->blocks, block_bytes == 1 ? 3u : 1u);
    auto r = SegmentReader::Open(path);
    ASSERT_TRUE(r.ok()) << r.status().message();
    ExpectSample(**r);
    ExpectSampleLight(**r);
  }
}

TEST(Segment, LightRowsDropOnlyHeavyTopLevelFields) {
  boost::json::object row{{"id", "x"},
                          {"input", "long text"},
                          {"metadata", {{"input", 1}, {"model", "m"}}},
                          {"output", {{"a", 1}}},
                          {"expected", nullptr},
                          {"error", "boom"},
                          {"scores", {{"s", 0.5}}}};
  boost::json::object want{{"id", "x"},
                           {"metadata", {{"input", 1}, {"model", "m"}}},
                           {"error", "boom"},
                           {"scores", {{"s", 0.5}}}};
  EXPECT_EQ(LightRow(row), want);
  // The same order as the row: light rows evaluate exactly as the body does.
  std::vector<std::string> keys;
  for (const auto& kv : LightRow(row)) keys.emplace_back(kv.key());
  EXPECT_EQ(keys, (std::vector<std::string>{"id", "metadata", "error", "scores"}));
  std::string path = TempPath("light.arbseg");
  SegmentWriter w(path, {.block_raw_bytes_target = 1});
  ASSERT_TRUE(w.Add(Version("k", "x", 1, 1), boost::json::serialize(row)).ok());
  ASSERT_TRUE(w.Finish().ok());
  auto r = SegmentReader::Open(path);
  ASSERT_TRUE(r.ok());
  auto light = (*r)->ReadLightBlock(0);
  ASSERT_TRUE(light.ok());
  EXPECT_EQ(*(*light)[0], want);
  EXPECT_LT((*r)->LightBlockRawBytes(0), (*r)->BlockRawBytes(0));
}

TEST(Segment, ManyRowsCompressAndComeBackInOrder) {
  std::string path = TempPath("many.arbseg");
  SegmentWriter w(path);
  std::string raw_total;
  for (int i = 0; i < 5000; ++i) {
    std::string body = R"({"id":")" + std::to_string(i) + R"(","input":"the same words again"})";
    raw_total += body;
    auto place = w.Add(Version("project_logs:p", std::to_string(i), i + 1, 1000 + i), body);
    ASSERT_TRUE(place.ok());
  }
  auto info = w.Finish();
  ASSERT_TRUE(info.ok());
  EXPECT_GT(info->blocks, 1u);
  EXPECT_LT(info->bytes, raw_total.size() / 3);  // zstd on repetitive JSON
  auto r = SegmentReader::Open(path);
  ASSERT_TRUE(r.ok());
  auto versions = (*r)->ReadVersions();
  ASSERT_TRUE(versions.ok());
  for (int i = 0; i < 5000; i += 499) {
    const SegmentVersion& v = (*versions)[i];
    auto block = (*r)->ReadBlock(v.block);
    ASSERT_TRUE(block.ok());
    EXPECT_EQ((*block)[v.index]->at("id").as_string(), std::to_string(i));
  }
}

TEST(Segment, DetectsDamage) {
  std::string path = TempPath("damaged.arbseg");
  ASSERT_TRUE(WriteSample(path, 1).ok());
  auto image = ReadFile(path);
  ASSERT_TRUE(image.ok());
  // Flip one byte in each region in turn: header, first block, footer.
  for (std::size_t at : {std::size_t{2}, kSegmentHeaderBytes + 3, image->size() - 20}) {
    std::string bad = *image;
    bad[at] = static_cast<char>(bad[at] ^ 0x5a);
    std::string bad_path = TempPath("flip.arbseg");
    std::ofstream(bad_path, std::ios::binary | std::ios::trunc) << bad;
    auto r = SegmentReader::Open(bad_path);
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), StatusCode::kDataLoss) << at;
      continue;
    }
    auto block = (*r)->ReadBlock(0);
    auto light = (*r)->ReadLightBlock(0);
    EXPECT_FALSE(block.ok() && light.ok()) << "flip at " << at << " went unnoticed";
  }
  // Every truncation is refused at open.
  for (std::size_t keep : {std::size_t{0}, std::size_t{10}, image->size() / 2, image->size() - 1}) {
    std::string cut_path = TempPath("cut.arbseg");
    std::ofstream(cut_path, std::ios::binary | std::ios::trunc) << image->substr(0, keep);
    EXPECT_FALSE(SegmentReader::Open(cut_path).ok()) << keep;
  }
}

TEST(Segment, BlockTokenFiltersRuleOutAbsentTokens) {
  std::string path = TempPath("filters.arbseg");
  SegmentWriter w(path, {.block_raw_bytes_target = 1});  // one row per block
  ASSERT_TRUE(w.Add(Version("k", "a", 1, 1), R"({"input":"Needle in a haystack","n":42})").ok());
  ASSERT_TRUE(w.Add(Version("k", "b", 2, 2), R"({"output":{"text":["plain words"]}})").ok());
  ASSERT_TRUE(w.Finish().ok());
  auto r = SegmentReader::Open(path);
  ASSERT_TRUE(r.ok());
  auto has = [&](std::uint32_t block, std::vector<std::string> tokens) {
    std::vector<std::uint64_t> hashes;
    for (const auto& t : tokens) hashes.push_back(TokenHash(t));
    return (*r)->BlockMayContainAll(block, hashes);
  };
  EXPECT_TRUE(has(0, {"needle", "haystack"}));  // lower-cased, as MATCH tokenizes
  EXPECT_TRUE(has(0, {"42"}));                  // numbers are text to MATCH too
  EXPECT_TRUE(has(1, {"plain", "words"}));      // nested leaves
  EXPECT_FALSE(has(0, {"plain"}));
  EXPECT_FALSE(has(1, {"needle"}));
  EXPECT_FALSE(has(0, {"needle", "absent"}));  // every token must be there
  EXPECT_TRUE(has(0, {}));
}

TEST(Segment, BlockTokenFilterFalsePositivesAreRare) {
  std::string path = TempPath("fp.arbseg");
  SegmentWriter w(path);
  std::string text;
  for (int i = 0; i < 1000; ++i) text += "w" + std::to_string(i) + " ";
  boost::json::object row{{"input", text}};
  ASSERT_TRUE(w.Add(Version("k", "a", 1, 1), "{}", &row).ok());
  ASSERT_TRUE(w.Finish().ok());
  auto r = SegmentReader::Open(path);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE((*r)->BlockMayContainAll(0, {TokenHash("w999")}));
  int false_positives = 0;
  for (int i = 0; i < 10000; ++i) {
    false_positives += (*r)->BlockMayContainAll(0, {TokenHash("x" + std::to_string(i))});
  }
  EXPECT_LT(false_positives, 300);  // ~1% expected at 10 bits per token
}

// The checked-in fixtures were written by format versions 1 and 2; the current reader must
// open both. A version 1 file has no light blocks (scans fall back to the bodies).
TEST(Segment, ReadsVersion1Fixture) {
  std::string fixture = std::string(ARBOR_SOURCE_DIR) + "/src/storage/testdata/segment_v1.arbseg";
  auto r = SegmentReader::Open(fixture);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ExpectSample(**r);
  EXPECT_FALSE((*r)->has_light());
  EXPECT_FALSE((*r)->ReadLightBlock(0).ok());
}

// Regenerate (only when the format version changes, as a new file) with ARBOR_WRITE_FIXTURES=1.
TEST(Segment, ReadsVersion2Fixture) {
  std::string fixture = std::string(ARBOR_SOURCE_DIR) + "/src/storage/testdata/segment_v2.arbseg";
  if (std::getenv("ARBOR_WRITE_FIXTURES") != nullptr) {
    ASSERT_EQ(kSegmentVersion, 2u);
    ASSERT_TRUE(WriteSample(fixture, 1).ok());
  }
  auto r = SegmentReader::Open(fixture);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ExpectSample(**r);
  ExpectSampleLight(**r);
}

}  // namespace
}  // namespace arbor::storage
