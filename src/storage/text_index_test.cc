#include "storage/text_index.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <random>
#include <set>

#include "base/tokenize.h"
#include "base/util.h"

namespace arbor::storage {
namespace {

std::string TempPath(const std::string& name) {
  std::string dir = ::testing::TempDir() + "/text_index_test";
  std::filesystem::create_directories(dir);
  return dir + "/" + name;
}

std::vector<std::uint64_t> Hashes(std::string_view text) {
  std::vector<std::uint64_t> out;
  ForEachToken(text, [&](std::string_view t) { out.push_back(TokenHash(t)); });
  return out;
}

// Three blocks of rows with known words (the fixture's content too).
const std::vector<std::pair<std::uint64_t, std::string>>& SampleRows() {
  static const std::vector<std::pair<std::uint64_t, std::string>> rows = {
      {TextIndexRowKey(0, 0), "the quick brown fox"},
      {TextIndexRowKey(0, 1), "the lazy dog dog dog"},
      {TextIndexRowKey(1, 0), "quick thinking 東京 مرحبا"},
      {TextIndexRowKey(2, 5), "needle42 in a haystack the end"},
  };
  return rows;
}

Status WriteSample(const std::string& path) {
  TextIndexBuilder b;
  for (const auto& [key, text] : SampleRows()) b.AddRow(key, Hashes(text));
  return b.Write(path);
}

std::vector<std::uint64_t> Rows(const TextIndexReader& r, std::string_view query) {
  auto got = r.RowsWithAll(Hashes(query));
  EXPECT_TRUE(got.ok()) << got.status().ToString();
  return got.ok() ? *got : std::vector<std::uint64_t>{};
}

void ExpectSample(const TextIndexReader& r) {
  EXPECT_EQ(Rows(r, "the"),
            (std::vector<std::uint64_t>{TextIndexRowKey(0, 0), TextIndexRowKey(0, 1),
                                        TextIndexRowKey(2, 5)}));
  EXPECT_EQ(Rows(r, "quick"),
            (std::vector<std::uint64_t>{TextIndexRowKey(0, 0), TextIndexRowKey(1, 0)}));
  EXPECT_EQ(Rows(r, "the quick"), (std::vector<std::uint64_t>{TextIndexRowKey(0, 0)}));
  EXPECT_EQ(Rows(r, "dog"), (std::vector<std::uint64_t>{TextIndexRowKey(0, 1)}));
  EXPECT_EQ(Rows(r, "東京"), (std::vector<std::uint64_t>{TextIndexRowKey(1, 0)}));
  EXPECT_EQ(Rows(r, "مرحبا"), (std::vector<std::uint64_t>{TextIndexRowKey(1, 0)}));
  EXPECT_EQ(Rows(r, "needle42"), (std::vector<std::uint64_t>{TextIndexRowKey(2, 5)}));
  EXPECT_TRUE(Rows(r, "fox dog").empty());
  EXPECT_TRUE(Rows(r, "absent").empty());
  EXPECT_FALSE(r.RowsWithAll({}).ok());
}

TEST(TextIndex, PostingsRoundTrip) {
  std::string path = TempPath("sample.arbtix");
  ASSERT_TRUE(WriteSample(path).ok());
  auto r = TextIndexReader::Open(path);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ExpectSample(**r);
}

// Against a brute-force answer over random rows: every token combination gives exactly the
// rows that hold all of its tokens.
TEST(TextIndex, AgreesWithBruteForce) {
  std::mt19937 rng(3);
  const std::vector<std::string> words = {"a", "b", "c", "d", "e", "f", "g", "h"};
  std::vector<std::pair<std::uint64_t, std::set<std::string>>> rows;
  TextIndexBuilder b;
  std::uint32_t block = 0, index = 0;
  for (int i = 0; i < 3000; ++i) {
    if (rng() % 50 == 0) ++block, index = 0;
    std::set<std::string> have;
    std::string text;
    for (int w = 0, n = static_cast<int>(rng() % 6); w < n; ++w) {
      const std::string& word = words[rng() % words.size()];
      have.insert(word);
      text += word + " ";
    }
    std::uint64_t key = TextIndexRowKey(block, index++);
    rows.emplace_back(key, have);
    b.AddRow(key, Hashes(text));
  }
  std::string path = TempPath("random.arbtix");
  ASSERT_TRUE(b.Write(path).ok());
  auto r = TextIndexReader::Open(path);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  for (int q = 0; q < 200; ++q) {
    std::vector<std::string> query;
    for (int w = 0, n = 1 + static_cast<int>(rng() % 3); w < n; ++w) {
      query.push_back(words[rng() % words.size()]);
    }
    std::vector<std::uint64_t> want, tokens;
    for (const auto& w : query) tokens.push_back(TokenHash(w));
    for (const auto& row : rows) {
      const std::set<std::string>& have = row.second;
      if (std::all_of(query.begin(), query.end(), [&](const auto& w) { return have.count(w); })) {
        want.push_back(row.first);
      }
    }
    auto got = (*r)->RowsWithAll(tokens);
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(*got, want);
  }
}

TEST(TextIndex, DamageIsDetected) {
  std::string path = TempPath("damaged.arbtix");
  ASSERT_TRUE(WriteSample(path).ok());
  auto good = ReadFile(path).value();
  // Every truncation is refused at open.
  for (std::size_t n = 0; n < good.size(); n += 7) {
    ASSERT_TRUE(WriteFileAtomic(path, good.substr(0, n)).ok());
    EXPECT_FALSE(TextIndexReader::Open(path).ok()) << "truncated to " << n;
  }
  // A flipped bit is refused at open (header, dictionary, footer) or when its list is read.
  for (std::size_t at = 0; at < good.size(); ++at) {
    std::string bad = good;
    bad[at] = static_cast<char>(bad[at] ^ 0x10);
    ASSERT_TRUE(WriteFileAtomic(path, bad).ok());
    auto r = TextIndexReader::Open(path);
    if (!r.ok()) continue;
    bool refused = false;
    for (const char* q : {"the", "quick", "lazy", "dog", "fox", "brown", "thinking", "東京",
                          "مرحبا", "needle42", "in", "a", "haystack", "end"}) {
      auto got = (*r)->RowsWithAll(Hashes(q));
      if (!got.ok()) refused = true;
    }
    EXPECT_TRUE(refused) << "a flipped bit at byte " << at << " of " << good.size()
                         << " went unnoticed";
  }
}

// The checked-in fixture was written by format version 1; the current reader must open it.
// Regenerate (only with a new format version, as a new file) with ARBOR_WRITE_FIXTURES=1.
TEST(TextIndex, ReadsVersion1Fixture) {
  std::string fixture =
      std::string(ARBOR_SOURCE_DIR) + "/src/storage/testdata/text_index_v1.arbtix";
  if (std::getenv("ARBOR_WRITE_FIXTURES") != nullptr) {
    ASSERT_EQ(kTextIndexVersion, 1u);
    ASSERT_TRUE(WriteSample(fixture).ok());
  }
  auto r = TextIndexReader::Open(fixture);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ExpectSample(**r);
}

}  // namespace
}  // namespace arbor::storage
