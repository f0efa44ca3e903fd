// A segment's inverted index (docs/formats/text-index.md): for every token of every field of the
// segment's row bodies, the rows whose field holds it and where in the field's text. A MATCH
// scan asks which rows can satisfy all of its terms (`input MATCH 'x'` looks only at rows whose
// input holds x; a phrase is checked against positions) and reads only those bodies, instead
// of every body of every block whose bloom filter lets the tokens through.
//
// Terms are qualified by field: the top-level key ("input"), with the token's position in the
// field's text as MATCH tokenizes it (json::CollectText, then ForEachToken); and, under a
// top-level object other than input, output and expected, the first-level key too
// ("metadata" + "topic", rows only). Tokens are
// TokenHash values and terms 64-bit hashes of (field, token), so a row the index does not list
// surely fails the MATCH, and a listed row is still checked against the real filter.
//
// The index lives beside its segment (seg-N.arbtix next to seg-N.arbseg), is written and
// fsynced before the manifest names the segment, and can always be rebuilt from the segment:
// a missing or damaged index only makes scans fall back to the block filters. Version 1 files
// (unqualified tokens, no positions) are still read: they answer RowsWithAll on plain tokens.
#pragma once

#include <boost/json/fwd.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/status.h"

namespace arbor::storage {

inline constexpr char kTextIndexMagic[8] = {'A', 'R', 'B', 'O', 'R', 'T', 'I', 'X'};
inline constexpr std::uint32_t kTextIndexVersion = 2;
inline constexpr std::size_t kTextIndexHeaderBytes = 16;
inline constexpr std::size_t kTextIndexFooterBytes = 40;
inline constexpr std::size_t kTextIndexEntryBytesV1 = 28;
// A version 2 entry: term u64, bytes and rows varints (at least a byte each), crc u32.
inline constexpr std::size_t kTextIndexEntryBytesMin = 14;

// A row's key in the index: its body's block and position in the block (RowRef), packed so
// that keys grow in segment order.
inline std::uint64_t TextIndexRowKey(std::uint32_t block, std::uint32_t index) {
  return (std::uint64_t{block} << 24) | index;
}
// Positions in a block stay below this (blocks hold ~64 KiB of rows).
inline constexpr std::uint32_t text_index_block_rows_max = 1u << 24;

// The index file of a segment file: "seg-N.arbseg" -> "seg-N.arbtix".
std::string TextIndexPathFor(const std::string& segment_path);

// Term keys (part of the format). A field term (top-level key; bit 0 set) has positions, a
// subfield term (top-level object key + its first-level key; bit 0 clear) rows only.
std::uint64_t TextFieldKey(std::string_view field);
std::uint64_t TextSubfieldKey(std::string_view field, std::string_view key);
std::uint64_t TextFieldTerm(std::uint64_t field_key, std::uint64_t token_hash);
std::uint64_t TextSubfieldTerm(std::uint64_t subfield_key, std::uint64_t token_hash);

// Collects postings while a segment is written. Rows must come in key order.
class TextIndexBuilder {
 public:
  // Indexes the row's text field by field, as MATCH sees it. Appends the TokenHash of every
  // token of the whole row, in order, to `row_tokens` (the block token filters' input).
  void AddRow(std::uint64_t row_key, const boost::json::object& row,
              std::vector<std::uint64_t>& row_tokens);
  // Writes the index file (through a temporary file, fsynced, renamed).
  Status Write(const std::string& path) const;
  std::size_t terms() const { return postings_.size(); }

 private:
  struct Postings {
    std::uint64_t last_key = 0;
    std::uint32_t rows = 0;
    std::string bytes;  // per row: key (PutRowKey) [, positions (field terms)]
  };
  // Adds the tokens of `v`, a top-level field's value or part of it (`subfield_key`: the
  // subfield it is, if any), at positions from `position` on.
  void AddValue(const boost::json::value& v, std::uint64_t field_key,
                const std::uint64_t* subfield_key, std::uint32_t& position,
                std::vector<std::uint64_t>& row_tokens);
  std::unordered_map<std::uint64_t, Postings> postings_;
  std::uint64_t rows_ = 0;
  std::string text_;                                            // scratch: a value's text
  std::vector<std::pair<std::uint64_t, std::uint32_t>> terms_;  // scratch: (term, position)
};

class TextIndexReader {
 public:
  // Reads and checks the header, footer and dictionary; posting lists are read on demand.
  static StatusOr<std::unique_ptr<TextIndexReader>> Open(const std::string& path);
  ~TextIndexReader();
  TextIndexReader(const TextIndexReader&) = delete;
  TextIndexReader& operator=(const TextIndexReader&) = delete;

  std::uint32_t version() const { return version_; }
  // Keys of the rows listed under every dictionary key (version 1: TokenHash of plain tokens;
  // version 2: term keys), ascending; rarest list first, then intersected.
  StatusOr<std::vector<std::uint64_t>> RowsWithAll(const std::vector<std::uint64_t>& keys) const;
  // Keys of the rows whose field `field_key` (TextFieldKey) holds the tokens (TokenHash, in
  // order) at consecutive positions. Version 2 only.
  StatusOr<std::vector<std::uint64_t>> RowsWithPhrase(
      std::uint64_t field_key, const std::vector<std::uint64_t>& tokens) const;
  // Keys of the rows where `path MATCH q` may hold, for a query q with these tokens (TokenHash,
  // in order; `phrase`: a quoted query). `path` is the field's path from the top level of the
  // row, as in json::FindPath. A superset of the rows that match. Version 2 only.
  StatusOr<std::vector<std::uint64_t>> RowsMatching(const std::vector<std::string>& path,
                                                    const std::vector<std::uint64_t>& tokens,
                                                    bool phrase) const;
  std::size_t terms() const { return entries_.size(); }

 private:
  TextIndexReader() = default;
  struct Entry {
    std::uint64_t term = 0;
    std::uint64_t offset = 0;
    std::uint32_t bytes = 0;
    std::uint32_t rows = 0;
    std::uint32_t crc = 0;
  };
  // A decoded list: row keys and, for field terms, each row's positions
  // (positions[starts[i]..starts[i+1])).
  struct List {
    std::vector<std::uint64_t> keys;
    std::vector<std::uint32_t> starts;
    std::vector<std::uint32_t> positions;
  };
  Status ReadDictionaryV1(const std::string& dictionary, std::uint64_t count,
                          std::uint64_t dict_offset);
  Status ReadDictionaryV2(const std::string& dictionary, std::uint64_t count,
                          std::uint64_t dict_offset);
  const Entry* Find(std::uint64_t term) const;
  StatusOr<List> ReadList(const Entry& e, bool positions) const;

  std::string path_;
  int fd_ = -1;
  std::uint32_t version_ = 0;
  std::vector<Entry> entries_;  // sorted by term
};

}  // namespace arbor::storage
