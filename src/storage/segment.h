// Immutable segment files: row versions flushed from memory. Format: docs/formats/segment.md.
//
// A segment holds every version of the rows it covers, in (object, seq, xact) order, so the
// spans of one object sit together and a row's history is contiguous. Row bodies live in
// zstd-compressed blocks; the version table (ids, seqs, xacts, trace roots, where each body
// is) is small and is read whole at start to rebuild the in-memory index. Since version 2
// every body block has a light twin: the same rows without their big text fields
// (IsHeavyField), so scans that filter, sort or group on small fields skip the big ones.
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "storage/columns.h"
#include "storage/text_index.h"

namespace arbor::storage {

inline constexpr char kSegmentMagic[8] = {'A', 'R', 'B', 'O', 'R', 'S', 'E', 'G'};
// The version written; readers also open version 1 (no light blocks).
inline constexpr std::uint32_t kSegmentVersion = 2;
inline constexpr std::size_t kSegmentHeaderBytes = 16;
inline constexpr std::size_t kSegmentFooterBytes = 88;
inline constexpr std::size_t kSegmentBlockIndexEntryBytesV1 = 24;
inline constexpr std::size_t kSegmentBlockIndexEntryBytes = 44;  // version 2: plus the light block
// A version with no body (a delete) has this block number.
inline constexpr std::uint32_t kNoBlock = 0xffffffffu;

// Top-level fields left out of light rows: free text that is often kilobytes per span and
// that filters, sorts and groupings rarely read. Part of the format (version 2).
bool IsHeavyField(std::string_view key);
// A row's light form: every top-level field except the heavy ones, in the same order.
boost::json::object LightRow(const boost::json::object& row);

// zstd with the segment's limits, for the files beside a segment too (columns.h).
StatusOr<std::string> ZstdCompress(std::string_view raw, int level);
StatusOr<std::string> ZstdDecompress(std::string_view compressed, std::size_t raw_bytes);

// One row version as a segment's version table lists it.
struct SegmentVersion {
  std::string object_key;
  std::string id;
  std::uint64_t seq = 0;
  std::uint64_t xact = 0;
  bool deleted = false;
  bool comment = false;      // the row is a comment (attached to another row)
  std::string root_span_id;  // empty when the row has none
  std::uint32_t block = kNoBlock;
  std::uint32_t index = 0;  // position of the body inside its block
};

struct SegmentInfo {
  std::uint64_t bytes = 0;
  std::uint64_t versions = 0;
  std::uint64_t min_xact = 0;
  std::uint64_t max_xact = 0;
  std::uint32_t blocks = 0;
};

struct SegmentWriterOptions {
  std::size_t block_raw_bytes_target = 64u << 10;
  int zstd_level = 1;      // the fastest level: flushing competes with ingest for the CPU
  bool text_index = true;  // also write the segment's inverted index (seg-N.arbtix)
  bool columns = true;     // also write the segment's typed columns (seg-N.arbcol)
};

// Writes one segment file. Versions must come in (object_key, seq, xact) order.
class SegmentWriter {
 public:
  explicit SegmentWriter(std::string path, SegmentWriterOptions options = {});
  ~SegmentWriter();
  SegmentWriter(const SegmentWriter&) = delete;
  SegmentWriter& operator=(const SegmentWriter&) = delete;

  struct Place {
    std::uint32_t block = kNoBlock;
    std::uint32_t index = 0;
  };
  // `body` is the row's JSON text; ignored (and may be empty) for a delete. `row` is the same
  // row parsed, when the caller has it (else the body is parsed here, for the token filter).
  // Returns where the body went (`v.block` and `v.index` are ignored).
  StatusOr<Place> Add(SegmentVersion v, std::string_view body,
                      const boost::json::object* row = nullptr);
  // Writes the version table and footer, fsyncs the file. The writer is done after this.
  StatusOr<SegmentInfo> Finish();

 private:
  Status OpenIfNeeded();
  Status FlushBlock();
  Status Append(std::string_view bytes);

  std::string path_;
  SegmentWriterOptions options_;
  int fd_ = -1;
  std::uint64_t offset_ = 0;
  std::string block_;        // raw bytes of the block being filled
  std::string light_block_;  // the same rows in light form
  std::uint32_t block_rows_ = 0;
  std::vector<std::uint64_t> block_tokens_;  // token hashes of the block being filled
  TextIndexBuilder text_index_;
  ColumnsBuilder columns_;
  std::string block_index_;
  std::string filters_;  // one token filter per finished block
  std::vector<SegmentVersion> versions_;
  SegmentInfo info_;
};

// A row body decoded from a block.
using BlockRows = std::vector<std::shared_ptr<const boost::json::object>>;

// An open segment: the block index is in memory, blocks are read on demand.
class SegmentReader {
 public:
  static StatusOr<std::unique_ptr<SegmentReader>> Open(const std::string& path);
  ~SegmentReader();
  SegmentReader(const SegmentReader&) = delete;
  SegmentReader& operator=(const SegmentReader&) = delete;

  const SegmentInfo& info() const { return info_; }
  // The whole version table, in file order.
  StatusOr<std::vector<SegmentVersion>> ReadVersions() const;
  // Decompresses and parses one block; checks its checksum.
  StatusOr<BlockRows> ReadBlock(std::uint32_t block) const;
  // True when the file has light blocks (format version 2 and later).
  bool has_light() const { return version_ >= 2; }
  // The light twin of a block: the same rows, in light form (LightRow). has_light() only.
  StatusOr<BlockRows> ReadLightBlock(std::uint32_t block) const;
  // The raw size of a block or of its light twin (for cache accounting).
  std::uint32_t BlockRawBytes(std::uint32_t block) const;
  std::uint32_t LightBlockRawBytes(std::uint32_t block) const;
  // False only when some token (TokenHash of a MATCH token) occurs in no row of the block.
  bool BlockMayContainAll(std::uint32_t block, const std::vector<std::uint64_t>& tokens) const;
  // The segment's inverted index; nullptr when it has none (older segments) or it is damaged
  // (scans then use the block filters).
  const TextIndexReader* text_index() const { return text_index_.get(); }
  // The segment's typed columns; nullptr when it has none (older segments, columns off) or they
  // are damaged (scans then read light rows).
  const ColumnsReader* columns() const { return columns_.get(); }

 private:
  SegmentReader() = default;
  struct Extent {
    std::uint64_t offset = 0;
    std::uint32_t compressed_bytes = 0;
    std::uint32_t raw_bytes = 0;
    std::uint32_t crc = 0;
  };
  struct BlockEntry {
    Extent body;
    Extent light;  // version 2
    std::uint32_t rows = 0;
  };
  StatusOr<std::string> ReadAt(std::uint64_t offset, std::size_t bytes) const;
  StatusOr<BlockRows> ReadRows(const Extent& extent, std::uint32_t rows) const;
  void OpenColumns();

  std::string path_;
  std::uint32_t version_ = 0;
  int fd_ = -1;
  SegmentInfo info_;
  std::vector<BlockEntry> blocks_;
  std::vector<std::string> filters_;  // per block: the bloom filter bits
  std::unique_ptr<TextIndexReader> text_index_;
  std::unique_ptr<ColumnsReader> columns_;
  std::uint64_t table_offset_ = 0;
  std::uint32_t table_bytes_ = 0;
  std::uint32_t table_raw_bytes_ = 0;
  std::uint32_t table_crc_ = 0;
};

}  // namespace arbor::storage
