// A segment's inverted index (docs/formats/text-index.md): for every token that occurs in the
// segment's row bodies, the rows that hold it. A MATCH scan asks which rows can hold all of its
// tokens and reads only those bodies, instead of every body of every block whose bloom filter
// lets the tokens through. Tokens are TokenHash values of exactly what MATCH tokenizes (the
// text of every leaf of the row), so a row missing from a posting list surely does not match;
// a listed row is still checked against the real filter (phrases, fields, hash collisions).
//
// The index lives beside its segment (seg-N.arbtix next to seg-N.arbseg), is written and
// fsynced before the manifest names the segment, and can always be rebuilt from the segment:
// a missing or damaged index only makes scans fall back to the block filters.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/status.h"

namespace arbor::storage {

inline constexpr char kTextIndexMagic[8] = {'A', 'R', 'B', 'O', 'R', 'T', 'I', 'X'};
inline constexpr std::uint32_t kTextIndexVersion = 1;
inline constexpr std::size_t kTextIndexHeaderBytes = 16;
inline constexpr std::size_t kTextIndexFooterBytes = 40;
inline constexpr std::size_t kTextIndexEntryBytes = 28;

// A row's key in the index: its body's block and position in the block (RowRef), packed so
// that keys grow in segment order.
inline std::uint64_t TextIndexRowKey(std::uint32_t block, std::uint32_t index) {
  return (std::uint64_t{block} << 24) | index;
}
// Positions in a block stay below this (blocks hold ~64 KiB of rows).
inline constexpr std::uint32_t text_index_block_rows_max = 1u << 24;

// The index file of a segment file: "seg-N.arbseg" -> "seg-N.arbtix".
std::string TextIndexPathFor(const std::string& segment_path);

// Collects postings while a segment is written. Rows must come in key order.
class TextIndexBuilder {
 public:
  // The row's token hashes [begin, end) (repeats allowed).
  void AddRow(std::uint64_t row_key, const std::uint64_t* begin, const std::uint64_t* end);
  void AddRow(std::uint64_t row_key, const std::vector<std::uint64_t>& tokens) {
    AddRow(row_key, tokens.data(), tokens.data() + tokens.size());
  }
  // Writes the index file (through a temporary file, fsynced, renamed).
  Status Write(const std::string& path) const;
  std::size_t tokens() const { return postings_.size(); }

 private:
  struct Postings {
    std::uint64_t last_key = 0;
    std::uint32_t rows = 0;
    std::string deltas;  // varint deltas of the row keys (the first from 0)
  };
  std::unordered_map<std::uint64_t, Postings> postings_;
  std::uint64_t rows_ = 0;
  std::vector<std::uint64_t> row_tokens_;  // scratch: one row's distinct tokens
};

class TextIndexReader {
 public:
  // Reads and checks the header, footer and dictionary; posting lists are read on demand.
  static StatusOr<std::unique_ptr<TextIndexReader>> Open(const std::string& path);
  ~TextIndexReader();
  TextIndexReader(const TextIndexReader&) = delete;
  TextIndexReader& operator=(const TextIndexReader&) = delete;

  // Keys of the rows that hold every token, ascending (rarest list first, then intersected).
  StatusOr<std::vector<std::uint64_t>> RowsWithAll(const std::vector<std::uint64_t>& tokens) const;
  std::size_t tokens() const { return entries_.size(); }

 private:
  TextIndexReader() = default;
  struct Entry {
    std::uint64_t token = 0;
    std::uint64_t offset = 0;
    std::uint32_t bytes = 0;
    std::uint32_t rows = 0;
    std::uint32_t crc = 0;
  };
  const Entry* Find(std::uint64_t token) const;
  StatusOr<std::vector<std::uint64_t>> ReadPostings(const Entry& e) const;

  std::string path_;
  int fd_ = -1;
  std::vector<Entry> entries_;  // sorted by token
};

}  // namespace arbor::storage
