// Which segments to merge: a pure function over segment metadata, so the policy is tested
// with tables of sizes and nothing else. The executor is Segments::Compact.
//
// Size-tiered: merge the oldest run of at least `inputs_min` adjacent segments of similar size
// (the largest at most `size_ratio_max` times the smallest), at most `inputs_max` of them;
// segments past `output_bytes_target` are left alone. Only adjacent segments merge, so every
// segment keeps covering one contiguous stretch of _xact_ids and a row's versions stay in
// xact order across segments. A backstop merges the oldest small segments regardless of size
// once there are more than `segments_max`.
//
// Garbage collection: compaction drops history at or below the horizon (Segments::Compact),
// but size tiers alone may never merge a tombstone with the old segment holding the body it
// hides. So the oldest run of segments lying wholly at or below the horizon (at most
// `inputs_max`) is merged, starting at the oldest segment so tombstones can drop, when its
// garbage (SegmentGarbage) is at least `garbage_ratio_min` of its versions, or whatever the
// ratio once a segment of the run holding tombstones lies wholly at or below `deletes_due`
// (so deleted and expired rows are physically removed in bounded time).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "storage/segments.h"

namespace arbor::storage {

struct CompactionPolicy {
  std::size_t inputs_min = 4;
  std::size_t inputs_max = 16;
  double size_ratio_max = 4.0;
  std::uint64_t output_bytes_target = 512ull << 20;
  std::size_t segments_max = 48;
  double garbage_ratio_min = 0.1;
};

// The server's clock in _xact_id units (ingest/xact.h); 0 turns a rule off.
struct HistoryClock {
  std::uint64_t horizon = 0;      // history at or below may be dropped
  std::uint64_t deletes_due = 0;  // tombstones at or below are collected whatever the ratio
};

// Segment numbers to merge (adjacent, oldest first), or nothing to do.
std::optional<std::vector<std::uint32_t>> PickCompaction(const std::vector<SegmentMeta>& segments,
                                                         const CompactionPolicy& policy,
                                                         const HistoryClock& clock = {});

}  // namespace arbor::storage
