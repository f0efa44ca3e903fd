// A segment's typed columns (docs/formats/columns.md): every field of the light rows
// (LightRow) split out per body block, with per-block statistics. A scan that reads a few small
// fields builds its rows from the columns it needs (RowLoader::LoadProjected) instead of
// decompressing and parsing whole light rows, and skips blocks whose statistics rule out a
// range of its filter (RowLoader::BlockMayMatch).
//
// A column is one path reached from the top of the row by descending objects only; every
// node on the way is a column, so a row's value there is absent, an object (its keys are the
// columns below; an empty object is an object with none) or a leaf: null, bool, int64, uint64,
// double, string or array (kept as JSON text). Numbers keep boost::json's kind exactly.
//
// The columns live beside their segment (seg-N.arbcol next to seg-N.arbseg), are written and
// fsynced before the manifest names the segment, and can always be rebuilt from the segment:
// a missing or damaged file, or a block beyond the limits below, only makes scans read light
// rows as before.
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/status.h"
#include "storage/encoding.h"
#include "storage/row_store.h"

namespace arbor::storage {

inline constexpr char kColumnsMagic[8] = {'A', 'R', 'B', 'O', 'R', 'C', 'O', 'L'};
inline constexpr std::uint32_t kColumnsVersion = 1;
inline constexpr std::size_t kColumnsHeaderBytes = 16;
inline constexpr std::size_t kColumnsFooterBytes = 36;

// A block with more distinct paths, or a path deeper than this, gets no columns (its rows are
// read light): rows with free-form keys (ids as keys) would otherwise make thousands of
// near-empty columns.
inline constexpr std::size_t column_paths_per_block_max = 1024;
inline constexpr std::size_t column_path_depth_max = 16;
// Per column and block, the distinct strings are kept for equality tests when there are at
// most this many, each at most this long; else the statistics say "unknown".
inline constexpr std::size_t column_distinct_strings_max = 16;
inline constexpr std::size_t column_distinct_string_bytes_max = 256;
// Readers refuse to inflate a column block or the directory beyond this.
inline constexpr std::size_t column_raw_bytes_max = 64u << 20;

// The column file of a segment file: "seg-N.arbseg" -> "seg-N.arbcol".
std::string ColumnsPathFor(const std::string& segment_path);

// What a row holds at a column's path. Part of the format.
enum class ColumnKind : std::uint8_t {
  kAbsent = 0,
  kNull = 1,
  kFalse = 2,
  kTrue = 3,
  kInt64 = 4,
  kUint64 = 5,
  kDouble = 6,
  kString = 7,
  kArray = 8,
  kObject = 9,
};

// One column's statistics in one block (the kinds of values seen, numeric bounds, strings).
struct ColumnStats {
  static constexpr std::uint8_t kNumber = 1;    // an int64, uint64 or double (not NaN)
  static constexpr std::uint8_t kString = 2;    // a string
  static constexpr std::uint8_t kOther = 4;     // a bool, an array or a NaN
  static constexpr std::uint8_t kObject = 8;    // an object (empty or not)
  static constexpr std::uint8_t kNull = 16;     // null
  static constexpr std::uint8_t kStrings = 32;  // `strings` lists every distinct string
  std::uint8_t flags = 0;
  // Bounds of the numbers, as doubles rounded outward (kNumber only).
  double min = 0;
  double max = 0;
  std::vector<std::string> strings;  // sorted (kStrings only)
};

// Collects a segment's columns while it is written: rows in body order, a FinishBlock after
// each body block.
class ColumnsBuilder {
 public:
  ColumnsBuilder();
  ~ColumnsBuilder();
  ColumnsBuilder(const ColumnsBuilder&) = delete;
  ColumnsBuilder& operator=(const ColumnsBuilder&) = delete;

  // A row body; its heavy fields (IsHeavyField) are skipped, the rest goes into columns.
  void AddRow(const boost::json::object& row);
  // Closes the current block (the rows added since the last call).
  Status FinishBlock(int zstd_level);
  // Writes the file (through a temporary file, fsynced, renamed).
  Status Write(const std::string& path, int zstd_level) const;
  // Compressed bytes of the blocks so far.
  std::uint64_t block_bytes() const { return block_bytes_; }

 private:
  class Block;
  struct FinishedBlock {
    std::uint32_t rows = 0;
    std::string compressed;  // empty: the block has no columns
    std::uint32_t raw_bytes = 0;
    std::vector<FieldPath> paths;  // its columns, ascending
    std::vector<ColumnStats> stats;
  };
  std::unique_ptr<Block> block_;
  std::vector<FinishedBlock> finished_;
  std::uint64_t block_bytes_ = 0;
};

// One block's columns, decoded, as the block cache keeps them: typed arrays over the block's
// raw bytes (kinds and dictionary texts stay in them; arrays are parsed when projected), a
// handful of allocations per block whatever its column count.
class ColumnBlock {
 public:
  struct Column {
    std::uint32_t path_id = 0;  // into paths()
    std::size_t kinds = 0;      // offset in the raw bytes of its kinds, one byte a row
    std::size_t values = 0;     // offset in values_ of its values, one a row
    std::uint32_t entries = 0;  // its dictionary: entries_[entries, entries_end)
    std::uint32_t entries_end = 0;
  };
  ColumnBlock() = default;
  ColumnBlock(const ColumnBlock&) = delete;
  ColumnBlock& operator=(const ColumnBlock&) = delete;

  std::uint32_t rows() const { return rows_; }
  const std::vector<Column>& columns() const { return columns_; }
  const FieldPath& path(const Column& c) const { return (*paths_)[c.path_id]; }
  ColumnKind kind(const Column& c, std::uint32_t row) const {
    return static_cast<ColumnKind>(raw_[c.kinds + row]);
  }
  // The value of column `c` at `row` (not absent, not an object).
  boost::json::value Leaf(const Column& c, std::uint32_t row) const;
  // The columns of the keys of the object column `c` holds at `row`, in the row's key order.
  std::pair<const std::uint32_t*, const std::uint32_t*> Children(const Column& c,
                                                                 std::uint32_t row) const;
  // Estimated in-memory size (block cache accounting).
  std::size_t bytes() const;

 private:
  friend class ColumnsReader;
  struct Entry {
    ColumnKind kind = ColumnKind::kString;  // string, array (JSON text) or object (its keys)
    std::size_t offset = 0;                 // of its text in raw_
    std::size_t size = 0;
    std::uint32_t children = 0;  // object: its keys' columns are children_[children, end)
    std::uint32_t children_end = 0;
  };
  std::string_view Text(const Entry& e) const {
    return std::string_view(raw_).substr(e.offset, e.size);
  }
  bool DecodeColumn(ByteReader& in, std::size_t index);
  bool DecodeValue(ByteReader& in, const Column& c, ColumnKind kind, std::uint64_t& out) const;
  bool ResolveChildren(const Column& c);

  std::uint32_t rows_ = 0;
  std::string raw_;
  std::vector<Column> columns_;        // ascending path
  std::vector<std::uint64_t> values_;  // int64/uint64/double bits, or an index into entries_
  std::vector<Entry> entries_;
  std::vector<std::uint32_t> children_;
  std::shared_ptr<const std::vector<FieldPath>> paths_;
};

// Which columns of a block rebuild the projection of its rows onto some paths (ProjectRow):
// resolved once per block and paths, then applied to each row.
class ColumnProjection {
 public:
  // nullopt when some path starts with a heavy field (not in columns).
  static std::optional<ColumnProjection> Make(const ColumnBlock& block,
                                              const std::vector<FieldPath>& paths);
  // Equal to ProjectRow(body of `row`, paths).
  boost::json::object Build(const ColumnBlock& block, std::uint32_t row) const;

 private:
  struct PathPlan {
    std::size_t path = 0;  // into paths_
    // Per key of the path, the column of the path up to it (index in block.columns()); -1:
    // no row of the block has it.
    std::vector<int> columns;
  };
  // The object of column `column` at `row`, whole, keys in stored order.
  static void BuildObject(const ColumnBlock& block, std::uint32_t column, std::uint32_t row,
                          boost::json::object& at);
  std::vector<FieldPath> paths_;  // the asked paths, shortest covering ones only
  std::vector<PathPlan> plans_;
};

// An open column file: the directory (paths, block extents, statistics) is in memory, blocks
// are read on demand.
class ColumnsReader {
 public:
  // Reads and checks the header, footer and directory; blocks are read on demand.
  static StatusOr<std::unique_ptr<ColumnsReader>> Open(const std::string& path);
  // As above, and checks that the file describes a segment whose blocks hold `block_rows` rows
  // each (so a stray file of another segment is refused).
  static StatusOr<std::unique_ptr<ColumnsReader>> Open(
      const std::string& path, const std::vector<std::uint32_t>& block_rows);
  ~ColumnsReader();
  ColumnsReader(const ColumnsReader&) = delete;
  ColumnsReader& operator=(const ColumnsReader&) = delete;

  // True when block `block` has columns.
  bool HasColumns(std::uint32_t block) const;
  // Reads, checks and decodes a block's columns (HasColumns only).
  StatusOr<std::shared_ptr<const ColumnBlock>> ReadBlock(std::uint32_t block) const;
  // RowLoader::BlockMayMatch for block `block`: false only when some range surely fails for
  // every row of it. True for a block without columns.
  bool MayMatch(std::uint32_t block, const std::vector<ColumnRange>& ranges) const;
  std::uint32_t blocks() const { return static_cast<std::uint32_t>(blocks_.size()); }

  // The decoders behind Open and ReadBlock, on raw bytes (decompressed, checksums passed), so
  // the fuzzer reaches them with inputs that no checksum would let through.
  static StatusOr<std::unique_ptr<ColumnsReader>> FromRawDirectory(std::string_view raw);
  StatusOr<std::shared_ptr<const ColumnBlock>> DecodeRawBlock(std::uint32_t block,
                                                              std::string_view raw) const;

 private:
  ColumnsReader() = default;
  struct Entry {
    std::uint32_t rows = 0;
    std::uint64_t offset = 0;
    std::uint32_t compressed_bytes = 0;
    std::uint32_t raw_bytes = 0;
    std::uint32_t crc = 0;
    bool has_columns = false;
    std::vector<std::uint32_t> path_ids;  // ascending
    std::vector<ColumnStats> stats;
  };
  Status ReadDirectory(std::string_view raw, std::uint64_t blocks_end);
  bool ReadEntry(ByteReader& in, std::uint64_t blocks_end, Entry& e) const;
  static bool DecodeBlock(std::string raw, const Entry& e, ColumnBlock& out);
  StatusOr<std::shared_ptr<const ColumnBlock>> Decode(std::uint32_t block, std::string raw) const;
  bool RangeMayMatch(const Entry& e, const ColumnRange& range) const;
  // The statistics of `e`'s column at the first `keys` keys of `path`, or nullptr.
  const ColumnStats* StatsAt(const Entry& e, const FieldPath& path, std::size_t keys) const;

  std::string path_;
  int fd_ = -1;
  std::shared_ptr<const std::vector<FieldPath>> paths_;  // ascending, distinct
  std::vector<Entry> blocks_;
};

}  // namespace arbor::storage
