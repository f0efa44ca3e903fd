#include "storage/text_index.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>

#include "base/tokenize.h"
#include "base/util.h"
#include "json/json.h"
#include "storage/segments.h"

namespace arbor::storage {
namespace {

namespace bj = boost::json;

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

bj::object Object(std::string_view json) { return json::Parse(json).value().as_object(); }

// What `path MATCH query` is on a row (query/expr.cc MatchText): the tokens of every leaf of
// the field, in order; a quoted query a phrase.
bool BruteMatch(const bj::object& row, const FieldPath& path, std::string_view query) {
  const bj::value* v = json::FindPath(row, path);
  if (v == nullptr || v->is_null()) return false;
  std::string text;
  json::CollectText(*v, text);
  return MatchTokens(Tokenize(text), query);
}

// The fields whose objects have no subfield terms.
bool IsHeavy(std::string_view field) {
  return field == "input" || field == "output" || field == "expected";
}

// Every term key (field and subfield) a row adds to the index.
std::set<std::uint64_t> TermsOf(const bj::object& row) {
  std::set<std::uint64_t> out;
  for (const auto& kv : row) {
    std::string text;
    const std::uint64_t field = TextFieldKey(kv.key());
    json::CollectText(kv.value(), text);
    for (std::uint64_t h : Hashes(text)) out.insert(TextFieldTerm(field, h));
    if (!kv.value().is_object() || IsHeavy(kv.key())) continue;
    for (const auto& sub : kv.value().get_object()) {
      text.clear();
      json::CollectText(sub.value(), text);
      for (std::uint64_t h : Hashes(text)) {
        out.insert(TextSubfieldTerm(TextSubfieldKey(kv.key(), sub.key()), h));
      }
    }
  }
  return out;
}

// Four rows in three blocks (the version 2 fixture's content too).
const std::vector<std::pair<std::uint64_t, std::string>>& SampleRows() {
  static const std::vector<std::pair<std::uint64_t, std::string>> rows = {
      {TextIndexRowKey(0, 0), R"({"input":"the quick brown fox","output":"lazy dog",)"
                              R"("metadata":{"topic":"animals fox","lang":"en"}})"},
      {TextIndexRowKey(0, 1), R"({"input":["the lazy","dog dog dog"],"expected":"quick"})"},
      {TextIndexRowKey(1, 0),
       R"({"input":{"question":"quick thinking 東京 مرحبا"},"metadata":{"topic":"東京大学"},)"
       R"("error":"boom"})"},
      {TextIndexRowKey(2, 5),
       R"({"input":"needle42 in a haystack the end","output":{"text":"the quick brown"},)"
       R"("scores":{"acc":0.5}})"},
  };
  return rows;
}

Status WriteSample(const std::string& path) {
  TextIndexBuilder b;
  std::vector<std::uint64_t> row_tokens;
  for (const auto& [key, text] : SampleRows()) b.AddRow(key, Object(text), row_tokens);
  return b.Write(path);
}

std::vector<std::uint64_t> Matching(const TextIndexReader& r, const FieldPath& path,
                                    std::string_view query) {
  auto got = r.RowsMatching(path, Hashes(query), IsPhraseQuery(query));
  EXPECT_TRUE(got.ok()) << got.status().ToString();
  return got.ok() ? *got : std::vector<std::uint64_t>{};
}

std::vector<std::uint64_t> Keys(std::initializer_list<std::pair<std::uint32_t, std::uint32_t>> at) {
  std::vector<std::uint64_t> out;
  for (auto [block, index] : at) out.push_back(TextIndexRowKey(block, index));
  return out;
}

void ExpectSample(const TextIndexReader& r) {
  EXPECT_EQ(r.version(), 2u);
  EXPECT_EQ(Matching(r, {"input"}, "the"), Keys({{0, 0}, {0, 1}, {2, 5}}));
  EXPECT_EQ(Matching(r, {"output"}, "the"), Keys({{2, 5}}));
  EXPECT_EQ(Matching(r, {"input"}, "quick"), Keys({{0, 0}, {1, 0}}));
  EXPECT_EQ(Matching(r, {"expected"}, "quick"), Keys({{0, 1}}));
  EXPECT_EQ(Matching(r, {"input"}, "the quick"), Keys({{0, 0}}));
  EXPECT_EQ(Matching(r, {"input"}, "\"the quick\""), Keys({{0, 0}}));
  EXPECT_TRUE(Matching(r, {"input"}, "\"quick the\"").empty());
  EXPECT_EQ(Matching(r, {"output"}, "\"the quick brown\""), Keys({{2, 5}}));
  // Positions run on across a field's leaves, as MATCH's text does.
  EXPECT_EQ(Matching(r, {"input"}, "\"lazy dog dog\""), Keys({{0, 1}}));
  EXPECT_TRUE(Matching(r, {"input"}, "\"dog lazy\"").empty());
  EXPECT_EQ(Matching(r, {"metadata", "topic"}, "fox"), Keys({{0, 0}}));
  EXPECT_EQ(Matching(r, {"metadata"}, "en fox"), Keys({{0, 0}}));
  EXPECT_TRUE(Matching(r, {"metadata", "lang"}, "fox").empty());
  EXPECT_TRUE(Matching(r, {"metadata", "topic"}, "en").empty());
  EXPECT_EQ(Matching(r, {"metadata", "topic"}, "\"京大\""), Keys({{1, 0}}));
  EXPECT_TRUE(Matching(r, {"metadata", "topic"}, "\"大京\"").empty());
  EXPECT_EQ(Matching(r, {"input", "question"}, "مرحبا"), Keys({{1, 0}}));
  // input, output and expected have no subfield terms: the whole field answers.
  EXPECT_EQ(Matching(r, {"input", "answer"}, "quick"), Keys({{0, 0}, {1, 0}}));
  EXPECT_EQ(Matching(r, {"output", "text"}, "\"the quick\""), Keys({{2, 5}}));
  EXPECT_TRUE(Matching(r, {"scores", "other"}, "0.5").empty());
  EXPECT_EQ(Matching(r, {"scores", "acc"}, "5"), Keys({{2, 5}}));
  EXPECT_EQ(Matching(r, {"input", "0"}, "lazy"), Keys({{0, 1}}));  // an array step: the field
  EXPECT_EQ(Matching(r, {"scores"}, "0.5"), Keys({{2, 5}}));
  EXPECT_EQ(Matching(r, {"error"}, "boom"), Keys({{1, 0}}));
  EXPECT_TRUE(Matching(r, {"absent"}, "the").empty());
  EXPECT_TRUE(Matching(r, {"input"}, "fox dog").empty());
  auto dogs = r.RowsWithPhrase(TextFieldKey("input"), Hashes("dog dog dog"));
  ASSERT_TRUE(dogs.ok());
  EXPECT_EQ(*dogs, Keys({{0, 1}}));
  EXPECT_TRUE(r.RowsWithPhrase(TextFieldKey("input"), Hashes("dog dog dog dog"))->empty());
  EXPECT_FALSE(r.RowsWithAll({}).ok());
  EXPECT_FALSE(r.RowsMatching({"input"}, {}, false).ok());
  EXPECT_FALSE(r.RowsMatching({}, Hashes("the"), false).ok());
}

TEST(TextIndex, FieldsAndPositionsRoundTrip) {
  std::string path = TempPath("sample.arbtix");
  ASSERT_TRUE(WriteSample(path).ok());
  auto r = TextIndexReader::Open(path);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ExpectSample(**r);
}

// The index hands the block filters the tokens of the whole row, as they were before.
TEST(TextIndex, RowTokensAreTheRowsText) {
  for (const auto& [key, text] : SampleRows()) {
    TextIndexBuilder b;
    std::vector<std::uint64_t> row_tokens;
    bj::object row = Object(text);
    b.AddRow(key, row, row_tokens);
    std::string all;
    json::CollectText(row, all);
    EXPECT_EQ(row_tokens, Hashes(all)) << text;
  }
}

// Random rows with several fields (strings, arrays, objects, numbers; Latin, CJK and Arabic
// text) and random queries on fields, subfields and deeper paths, plain and phrase.
const std::vector<std::string>& Words() {
  static const std::vector<std::string> words = {"alpha", "beta",  "gamma",   "東", "京",
                                                 "大",    "مرحبا", "بالعالم", "42", "x"};
  return words;
}

std::string RandomText(std::mt19937& rng, int max_words) {
  std::string out;
  for (int w = 0, n = static_cast<int>(rng() % static_cast<unsigned>(max_words + 1)); w < n; ++w) {
    const std::string& word = Words()[rng() % Words().size()];
    // CJK needs no space; Arabic text gets an Arabic comma now and then.
    const char* sep[] = {" ", "", "، ", ", "};
    if (!out.empty()) out += sep[rng() % 4];
    out += word;
  }
  return out;
}

bj::object RandomRow(std::mt19937& rng, int i) {
  bj::object row;
  row["id"] = "row" + std::to_string(i);
  switch (rng() % 3) {
    case 0:
      row["input"] = RandomText(rng, 6);
      break;
    case 1: {
      bj::array messages;
      for (int m = 0, n = static_cast<int>(rng() % 3); m < n; ++m) {
        messages.push_back(bj::object{{"role", "user"}, {"content", RandomText(rng, 4)}});
      }
      row["input"] = std::move(messages);
      break;
    }
    default:
      row["input"] = bj::object{{"question", RandomText(rng, 4)}, {"context", RandomText(rng, 4)}};
  }
  if (rng() % 4 != 0) row["output"] = RandomText(rng, 5);
  if (rng() % 3 == 0) row["expected"] = RandomText(rng, 3);
  if (rng() % 5 == 0) row["error"] = RandomText(rng, 2);
  if (rng() % 4 != 0) {
    bj::object metadata{{"topic", RandomText(rng, 3)}, {"lang", RandomText(rng, 1)}};
    if (rng() % 2 == 0) metadata["nested"] = bj::object{{"deep", RandomText(rng, 3)}};
    if (rng() % 3 == 0) metadata["n"] = 42;
    row["metadata"] = std::move(metadata);
  }
  return row;
}

const std::vector<FieldPath>& QueryPaths() {
  static const std::vector<FieldPath> paths = {
      {"input"},
      {"output"},
      {"expected"},
      {"error"},
      {"metadata"},
      {"metadata", "topic"},
      {"metadata", "lang"},
      {"metadata", "nested"},
      {"metadata", "nested", "deep"},
      {"metadata", "n"},
      {"input", "0"},
      {"input", "1", "content"},
      {"input", "question"},
      {"input", "context"},
      {"absent"},
      {"metadata", "absent"},
  };
  return paths;
}

std::string RandomQuery(std::mt19937& rng) {
  std::string q;
  for (int w = 0, n = 1 + static_cast<int>(rng() % 3); w < n; ++w) {
    q += (w ? " " : "") + Words()[rng() % Words().size()];
  }
  return rng() % 2 == 0 ? "\"" + q + "\"" : q;
}

TEST(TextIndex, AgreesWithBruteForceOverFieldsAndPhrases) {
  std::mt19937 rng(3);
  std::vector<std::pair<std::uint64_t, bj::object>> rows;
  TextIndexBuilder b;
  std::vector<std::uint64_t> row_tokens;
  std::uint32_t block = 0, index = 0;
  for (int i = 0; i < 1500; ++i) {
    if (rng() % 50 == 0) ++block, index = 0;
    std::uint64_t key = TextIndexRowKey(block, index++);
    rows.emplace_back(key, RandomRow(rng, i));
    b.AddRow(key, rows.back().second, row_tokens);
  }
  std::string path = TempPath("random.arbtix");
  ASSERT_TRUE(b.Write(path).ok());
  auto r = TextIndexReader::Open(path);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  int exact = 0, nonempty = 0;
  for (int q = 0; q < 600; ++q) {
    const FieldPath& field = QueryPaths()[rng() % QueryPaths().size()];
    const std::string query = RandomQuery(rng);
    std::vector<std::uint64_t> want;
    for (const auto& [key, row] : rows) {
      if (BruteMatch(row, field, query)) want.push_back(key);
    }
    auto got = (*r)->RowsMatching(field, Hashes(query), IsPhraseQuery(query));
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    // Never a matching row left out.
    EXPECT_TRUE(std::includes(got->begin(), got->end(), want.begin(), want.end()))
        << query << " on " << field[0];
    // Exact where the index holds the very text MATCH reads: a top-level field, or a subfield
    // without a phrase (a phrase there is checked on the whole field's positions).
    const bool is_phrase = IsPhraseQuery(query) && QueryTokens(query).size() > 1;
    if (field.size() == 1 ||
        (field.size() == 2 && !IsHeavy(field[0]) && field[1] != "0" && !is_phrase)) {
      EXPECT_EQ(*got, want) << query << " on " << field[0] << (field.size() > 1 ? field[1] : "");
      ++exact;
    }
    nonempty += !want.empty();
  }
  EXPECT_GT(exact, 250);
  EXPECT_GT(nonempty, 200);
}

// A scan through segments with a MATCH filter keeps exactly the rows that match, whichever
// rows its segments' indexes list (a row left out by an index would be missing here), after
// flushes, overwrites, deletes and compaction, and after a restart.
std::vector<std::string> ScanIds(const ObjectRows& rows, const FieldPath& field,
                                 const std::string& query, bool use_index) {
  ScanFilter filter{.full = [&](const bj::object& row) { return BruteMatch(row, field, query); }};
  if (use_index) {
    filter.required_terms = {
        TextTerm{.field = field, .tokens = Hashes(query), .phrase = IsPhraseQuery(query)}};
    filter.required_tokens = Hashes(query);
  }
  auto scan = rows.ScanIf(1u << 30, 0, SIZE_MAX, filter);
  EXPECT_TRUE(scan.ok()) << scan.status().message();
  std::vector<std::string> ids;
  for (const auto& v : *scan) ids.emplace_back(v.row->at("id").as_string());
  return ids;
}

TEST(TextIndex, ScansNeverLoseAMatchingRowAcrossCompaction) {
  std::string dir = ::testing::TempDir() + "/text_index_test/segments";
  std::filesystem::remove_all(dir);
  std::mt19937 rng(11);
  auto segs = Segments::Open({.dir = dir, .writer = {.block_raw_bytes_target = 2048}});
  ASSERT_TRUE(segs.ok()) << segs.status().message();
  auto store = std::make_unique<RowStore>(segs->get());
  std::uint64_t xact = 0;
  for (int round = 0; round < 4; ++round) {
    for (int i = 0; i < 150; ++i) {
      const int n = static_cast<int>(rng() % 400);
      bj::object row = RandomRow(rng, n);
      std::string id = "row" + std::to_string(n);
      RowPtr body = rng() % 20 == 0 ? nullptr : std::make_shared<const bj::object>(row);
      store->Apply({{"dataset:d", id, body}}, ++xact);
    }
    ASSERT_TRUE((*segs)->Flush(*store, xact).ok());
  }
  auto check = [&](const ObjectRows& rows, const char* when) {
    int nonempty = 0;
    for (int q = 0; q < 120; ++q) {
      const FieldPath& field = QueryPaths()[rng() % QueryPaths().size()];
      const std::string query = RandomQuery(rng);
      std::vector<std::string> want = ScanIds(rows, field, query, false);
      EXPECT_EQ(ScanIds(rows, field, query, true), want) << when << ": " << query;
      nonempty += !want.empty();
    }
    EXPECT_GT(nonempty, 30) << when;
  };
  check(*store->Find("dataset:d"), "flushed");
  std::vector<std::uint32_t> numbers;
  for (const SegmentMeta& m : (*segs)->List()) numbers.push_back(m.number);
  ASSERT_TRUE((*segs)->Compact(*store, numbers).ok());
  check(*store->Find("dataset:d"), "compacted");
  store.reset();
  segs->reset();
  auto again = Segments::Open({.dir = dir});
  ASSERT_TRUE(again.ok()) << again.status().message();
  RowStore fresh(again->get());
  ASSERT_TRUE((*again)->LoadInto(fresh).ok());
  check(*fresh.Find("dataset:d"), "reopened");
}

// A damaged image in place of the file: a new file each time, without fsync (truncating a
// file in place makes ext4 flush it at close, and this writes thousands of images).
void WriteImage(const std::string& path, std::string_view bytes) {
  std::filesystem::remove(path);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good());
}

// Every truncation is refused at open; every flipped bit at open (header, dictionary, footer)
// or when its list is read.
void ExpectDamageDetected(const std::string& good, const std::set<std::uint64_t>& keys) {
  std::string path = TempPath("damaged.arbtix");
  for (std::size_t n = 0; n < good.size(); ++n) {
    WriteImage(path, std::string_view(good).substr(0, n));
    EXPECT_FALSE(TextIndexReader::Open(path).ok()) << "truncated to " << n;
  }
  for (std::size_t at = 0; at < good.size(); ++at) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string bad = good;
      bad[at] = static_cast<char>(bad[at] ^ (1 << bit));
      WriteImage(path, bad);
      auto r = TextIndexReader::Open(path);
      if (!r.ok()) continue;
      bool refused = false;
      for (std::uint64_t key : keys) refused |= !(*r)->RowsWithAll({key}).ok();
      EXPECT_TRUE(refused) << "bit " << bit << " of byte " << at << " of " << good.size()
                           << " flipped unnoticed";
    }
  }
}

TEST(TextIndex, DamageIsDetected) {
  std::string path = TempPath("sample.arbtix");
  ASSERT_TRUE(WriteSample(path).ok());
  std::set<std::uint64_t> keys;
  for (const auto& [key, text] : SampleRows()) keys.merge(TermsOf(Object(text)));
  auto r = TextIndexReader::Open(path);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)->terms(), keys.size());
  ExpectDamageDetected(ReadFile(path).value(), keys);
}

// Fixtures written by earlier format versions; the current reader must open and answer them.
// Regenerate only with a new format version, as a new file, with ARBOR_WRITE_FIXTURES=1.
std::string Fixture(const std::string& name) {
  return std::string(ARBOR_SOURCE_DIR) + "/src/storage/testdata/" + name;
}

// Version 1: plain tokens of whole rows, no fields, no positions.
const char* const kV1Words[] = {"the",  "quick", "lazy",     "dog", "fox",      "brown", "thinking",
                                "東京", "مرحبا", "needle42", "in",  "haystack", "end"};

TEST(TextIndex, ReadsVersion1Fixture) {
  auto r = TextIndexReader::Open(Fixture("text_index_v1.arbtix"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)->version(), 1u);
  EXPECT_EQ(*(*r)->RowsWithAll(Hashes("the")), Keys({{0, 0}, {0, 1}, {2, 5}}));
  EXPECT_EQ(*(*r)->RowsWithAll(Hashes("the quick")), Keys({{0, 0}}));
  EXPECT_EQ(*(*r)->RowsWithAll(Hashes("東京")), Keys({{1, 0}}));
  EXPECT_EQ(*(*r)->RowsWithAll(Hashes("مرحبا")), Keys({{1, 0}}));
  EXPECT_TRUE((*r)->RowsWithAll(Hashes("fox dog"))->empty());
  // No fields or positions to answer from: callers fall back to plain tokens.
  EXPECT_EQ((*r)->RowsMatching({"input"}, Hashes("the"), false).status().code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ((*r)->RowsWithPhrase(TextFieldKey("input"), Hashes("the")).status().code(),
            StatusCode::kFailedPrecondition);
  std::set<std::uint64_t> keys;
  for (const char* w : kV1Words) {
    for (std::uint64_t h : Hashes(w)) keys.insert(h);
  }
  keys.insert(TokenHash("a"));
  ExpectDamageDetected(ReadFile(Fixture("text_index_v1.arbtix")).value(), keys);
}

TEST(TextIndex, ReadsVersion2Fixture) {
  const std::string fixture = Fixture("text_index_v2.arbtix");
  if (std::getenv("ARBOR_WRITE_FIXTURES") != nullptr) {
    ASSERT_EQ(kTextIndexVersion, 2u);
    ASSERT_TRUE(WriteSample(fixture).ok());
  }
  auto r = TextIndexReader::Open(fixture);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ExpectSample(**r);
}

}  // namespace
}  // namespace arbor::storage
