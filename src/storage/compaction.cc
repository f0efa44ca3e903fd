#include "storage/compaction.h"

#include <algorithm>

namespace arbor::storage {
namespace {

bool Small(const SegmentMeta& m, const CompactionPolicy& p) {
  return m.info.bytes < p.output_bytes_target;
}

std::vector<std::uint32_t> Numbers(const std::vector<SegmentMeta>& s, std::size_t from,
                                   std::size_t count) {
  std::vector<std::uint32_t> out;
  for (std::size_t i = from; i < from + count; ++i) out.push_back(s[i].number);
  return out;
}

// The oldest run wholly at or below the horizon, when it holds enough garbage (compaction.h).
std::optional<std::vector<std::uint32_t>> PickGarbage(const std::vector<SegmentMeta>& s,
                                                      const CompactionPolicy& p,
                                                      const HistoryClock& clock) {
  if (clock.horizon == 0) return std::nullopt;
  std::uint64_t versions = 0;
  std::uint64_t garbage = 0;
  bool deletes_due = false;
  std::size_t end = 0;
  while (end < s.size() && end < p.inputs_max && s[end].info.max_xact <= clock.horizon) {
    versions += s[end].info.versions;
    garbage += s[end].garbage.total();
    deletes_due =
        deletes_due || (s[end].garbage.deletes > 0 && s[end].info.max_xact <= clock.deletes_due);
    ++end;
  }
  if (garbage == 0) return std::nullopt;
  if (!deletes_due &&
      static_cast<double>(garbage) < p.garbage_ratio_min * static_cast<double>(versions)) {
    return std::nullopt;
  }
  return Numbers(s, 0, end);
}

}  // namespace

std::optional<std::vector<std::uint32_t>> PickCompaction(const std::vector<SegmentMeta>& segments,
                                                         const CompactionPolicy& policy,
                                                         const HistoryClock& clock) {
  // Oldest run of similar-sized small segments.
  for (std::size_t start = 0; start < segments.size(); ++start) {
    if (!Small(segments[start], policy)) continue;
    std::uint64_t lo = std::max<std::uint64_t>(segments[start].info.bytes, 1);
    std::uint64_t hi = lo;
    std::size_t end = start;
    while (end < segments.size() && end - start < policy.inputs_max &&
           Small(segments[end], policy)) {
      std::uint64_t b = std::max<std::uint64_t>(segments[end].info.bytes, 1);
      std::uint64_t new_lo = std::min(lo, b);
      std::uint64_t new_hi = std::max(hi, b);
      if (static_cast<double>(new_hi) > policy.size_ratio_max * static_cast<double>(new_lo)) break;
      lo = new_lo;
      hi = new_hi;
      ++end;
    }
    if (end - start >= policy.inputs_min) return Numbers(segments, start, end - start);
  }
  if (auto gc = PickGarbage(segments, policy, clock)) return gc;
  // Backstop: too many segments; merge the oldest run of small ones whatever their sizes.
  if (segments.size() > policy.segments_max) {
    for (std::size_t start = 0; start < segments.size(); ++start) {
      std::size_t end = start;
      while (end < segments.size() && end - start < policy.inputs_max &&
             Small(segments[end], policy)) {
        ++end;
      }
      if (end - start >= 2) return Numbers(segments, start, end - start);
    }
  }
  return std::nullopt;
}

}  // namespace arbor::storage
