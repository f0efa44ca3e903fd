// The set of immutable segments of a data dir: the manifest that names them, flushing the
// memtable into a new segment, compaction, and reading flushed row bodies through a block
// cache. Manifest format: docs/formats/segment.md.
//
// Crash safety: a segment file is written and fsynced before the manifest names it; the
// manifest is replaced atomically (write, fsync, rename, fsync dir). Files the manifest does
// not name are leftovers of an interrupted flush or compaction and are deleted at open.
// The manifest's flushed_xact says every version at or below it is in a segment, so WAL
// replay skips those records and WAL files holding only such records can be deleted.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "storage/block_cache.h"
#include "storage/row_store.h"
#include "storage/segment.h"

namespace arbor::storage {

inline constexpr std::uint32_t kManifestVersion = 1;

struct SegmentsOptions {
  std::string dir;  // <data dir>/segments
  std::size_t block_cache_bytes_max = 256u << 20;
  SegmentWriterOptions writer;
};

// What a compaction at a history horizon past the segment's max_xact could drop from it (the
// compaction policy's garbage estimate; kept in the manifest).
struct SegmentGarbage {
  std::uint64_t deletes = 0;     // tombstones
  std::uint64_t shadowed = 0;    // versions with a newer version of their row in this segment
  std::uint64_t overwrites = 0;  // versions shadowing a version in an older segment (an estimate)
  std::uint64_t total() const { return deletes + shadowed + overwrites; }
  bool operator==(const SegmentGarbage&) const = default;
};

struct SegmentMeta {
  std::uint32_t number = 0;
  SegmentInfo info;
  SegmentGarbage garbage;
};

struct ProjectedBlock;  // segments.cc

class Segments final : public RowLoader {
 public:
  static StatusOr<std::unique_ptr<Segments>> Open(SegmentsOptions options);

  // Adds every version of every segment to the store's index (at start, before WAL replay).
  Status LoadInto(RowStore& store) const;
  // Writes every memtable version with xact <= upto into a new segment, publishes it, and
  // releases the bodies from memory. `upto` must be durable in the WAL.
  Status Flush(RowStore& store, std::uint64_t upto);
  // Merges the given adjacent segments (oldest first) into one that takes their place in the
  // manifest, then points the store's index at it (docs/formats/segment.md, "Compaction").
  // History at or below `history_horizon` (an _xact_id; 0 keeps everything) is collapsed: of
  // each row's versions there, only the newest is kept, and when that is a tombstone and the
  // inputs start at the oldest live segment, it goes too. Snapshots at or after the horizon
  // read exactly what they read before. Every version above the horizon is kept.
  Status Compact(RowStore& store, const std::vector<std::uint32_t>& numbers,
                 std::uint64_t history_horizon = 0);

  StatusOr<RowPtr> Load(const RowRef& ref) const override;
  StatusOr<RowPtr> LoadLight(const RowRef& ref) const override;
  bool MayContainAll(const RowRef& ref, const std::vector<std::uint64_t>& tokens) const override;
  // Version 2 text indexes answer `terms` (per field, phrases by position); version 1 indexes
  // answer `tokens`; segments without an index, their block filters.
  bool MayMatchText(const RowRef& ref, const std::vector<TextTerm>& terms,
                    const std::vector<std::uint64_t>& tokens) const override;
  // From the segment's typed columns (storage/columns.h) where the block has them.
  StatusOr<RowPtr> LoadProjected(const RowRef& ref,
                                 const std::vector<FieldPath>& paths) const override;
  bool BlockMayMatch(const RowRef& ref, const std::vector<ColumnRange>& ranges) const override;

  std::uint64_t flushed_xact() const;
  std::vector<SegmentMeta> List() const;
  BlockCacheStats cache_stats() const { return cache_.stats(); }
  BlockCacheStats projection_cache_stats() const { return projections_.stats(); }

 private:
  explicit Segments(SegmentsOptions options);
  std::string PathOf(std::uint32_t number) const;
  Status ReadManifest();
  Status WriteManifest(const std::vector<SegmentMeta>& segments, std::uint64_t flushed_xact,
                       std::uint32_t next_number) const;
  Status DeleteOrphans() const;
  // A body, or with `light` its light form, through the block cache.
  StatusOr<RowPtr> LoadFrom(const RowRef& ref, bool light) const;
  // nullptr when the segment is not open.
  std::shared_ptr<SegmentReader> ReaderOf(std::uint32_t segment) const;
  // A block's columns through the block cache; nullptr when it has none (or they are damaged).
  std::shared_ptr<const ColumnBlock> ColumnsOf(const RowRef& ref) const;
  // The block's rows projected onto `paths`, through the projection cache; nullptr when the
  // block has no usable columns.
  std::shared_ptr<const ProjectedBlock> ProjectedRowsOf(const RowRef& ref,
                                                        const std::vector<FieldPath>& paths,
                                                        std::uint64_t paths_hash) const;
  // Garbage counts of segments named by a manifest written before they were recorded.
  Status CountLegacyGarbage();

  // Closes readers of segments retired by compaction a while ago: a scan may still hold a
  // reference it copied before the swap, so readers outlive their files for a grace period.
  void CloseRetiredReaders();

  const SegmentsOptions options_;
  std::mutex change_mu_;  // one flush or compaction at a time
  // Unique per Segments object in this process (the per-thread memos of MayContainAll,
  // LoadProjected, BlockMayMatch).
  std::uint64_t instance_ = 0;
  mutable std::mutex mu_;
  std::vector<SegmentMeta> segments_;     // oldest first
  std::vector<std::uint32_t> uncounted_;  // at open: segments whose garbage is not in the manifest
  std::map<std::uint32_t, std::shared_ptr<SegmentReader>> readers_;
  std::vector<std::pair<std::int64_t, std::uint32_t>> retired_;  // (retired at µs, number)
  std::uint64_t flushed_xact_ = 0;
  std::uint32_t next_number_ = 1;
  mutable BlockCache cache_;
  // Projected rows per (block, paths) (LoadProjected), apart from cache_ so that blocks and
  // projections do not evict each other.
  mutable BlockCache projections_;
};

// Test hook: when ARBOR_CRASH_AT names `point`, the process exits at once (no cleanup), so
// black-box tests can crash a flush or compaction at an exact step.
void CrashPoint(const char* point);

}  // namespace arbor::storage
