#include "storage/compaction.h"

#include <gtest/gtest.h>

namespace arbor::storage {
namespace {

std::vector<SegmentMeta> Sizes(const std::vector<std::uint64_t>& bytes) {
  std::vector<SegmentMeta> out;
  std::uint32_t number = 1;
  for (std::uint64_t b : bytes)
    out.push_back(SegmentMeta{.number = number++, .info = {.bytes = b}});
  return out;
}

struct Case {
  const char* name;
  std::vector<std::uint64_t> sizes;
  CompactionPolicy policy;
  std::optional<std::vector<std::uint32_t>> want;
};

constexpr std::uint64_t MB = 1 << 20;

TEST(CompactionPolicy, Table) {
  const CompactionPolicy def;
  const CompactionPolicy backstop{.segments_max = 5};
  const Case cases[] = {
      {"nothing", {}, def, std::nullopt},
      {"too few", {MB, MB, MB}, def, std::nullopt},
      {"four alike", {MB, MB, MB, MB}, def, std::vector<std::uint32_t>{1, 2, 3, 4}},
      {"oldest run first",
       {MB, MB, MB, MB, 64 * MB, 64 * MB, 64 * MB, 64 * MB},
       def,
       std::vector<std::uint32_t>{1, 2, 3, 4}},
      {"big first segment is skipped",
       {100 * MB, MB, MB, MB, MB},
       def,
       std::vector<std::uint32_t>{2, 3, 4, 5}},
      {"dissimilar sizes break the run", {MB, 10 * MB, MB, 10 * MB, MB}, def, std::nullopt},
      {"within the ratio",
       {MB, 3 * MB, 2 * MB, 4 * MB},
       def,
       std::vector<std::uint32_t>{1, 2, 3, 4}},
      {"at most inputs_max", std::vector<std::uint64_t>(20, MB), def,
       std::vector<std::uint32_t>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}},
      {"finished segments stay", {600 * MB, 600 * MB, 600 * MB, 600 * MB}, def, std::nullopt},
      {"a finished segment splits runs",
       {MB, MB, 600 * MB, MB, MB, MB, MB},
       def,
       std::vector<std::uint32_t>{4, 5, 6, 7}},
      {"backstop merges dissimilar",
       {MB, 10 * MB, MB, 10 * MB, MB, 10 * MB},
       backstop,
       std::vector<std::uint32_t>{1, 2, 3, 4, 5, 6}},
      {"backstop needs two small neighbours",
       {MB, 600 * MB, MB, 600 * MB, MB, 600 * MB},
       backstop,
       std::nullopt},
      {"empty segments count as tiny", {0, 0, 0, 0}, def, std::vector<std::uint32_t>{1, 2, 3, 4}},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(PickCompaction(Sizes(c.sizes), c.policy), c.want) << c.name;
  }
}

// Garbage collection (compaction.h): segments as (max_xact, versions, garbage), 1 MiB each
// unless given, so size tiers stay out of the way below four segments.
struct Seg {
  std::uint64_t max_xact = 0;
  std::uint64_t versions = 100;
  SegmentGarbage garbage;
  std::uint64_t bytes = MB;
};

std::vector<SegmentMeta> Metas(const std::vector<Seg>& segs) {
  std::vector<SegmentMeta> out;
  std::uint32_t number = 1;
  for (const Seg& s : segs) {
    out.push_back(
        SegmentMeta{.number = number++,
                    .info = {.bytes = s.bytes, .versions = s.versions, .max_xact = s.max_xact},
                    .garbage = s.garbage});
  }
  return out;
}

struct GcCase {
  const char* name;
  std::vector<Seg> segs;
  HistoryClock clock;
  std::optional<std::vector<std::uint32_t>> want;
};

TEST(CompactionPolicy, GarbageCollectionTable) {
  const SegmentGarbage none;
  const SegmentGarbage half_deleted{.deletes = 50};
  const SegmentGarbage few_deletes{.deletes = 5};
  const SegmentGarbage few_shadowed{.shadowed = 5};
  const SegmentGarbage half_shadowed{.shadowed = 20, .overwrites = 30};
  const GcCase cases[] = {
      {"no horizon: history is kept", {{10, 100, half_deleted}}, {}, std::nullopt},
      {"the oldest run below the horizon",
       {{10, 100, none}, {20, 100, half_deleted}, {30, 100, half_deleted}},
       {.horizon = 25},
       std::vector<std::uint32_t>{1, 2}},
      {"a segment past the horizon ends the run",
       {{10, 100, none}, {20, 100, half_deleted}},
       {.horizon = 15},
       std::nullopt},
      {"a segment straddling the horizon waits",
       {{10, 100, half_shadowed}, {30, 100, half_deleted}},
       {.horizon = 25},
       std::vector<std::uint32_t>{1}},
      {"below the garbage ratio waits",
       {{10, 100, none}, {20, 100, few_deletes}},
       {.horizon = 25},
       std::nullopt},
      {"due tombstones go whatever the ratio",
       {{10, 100, none}, {20, 100, few_deletes}},
       {.horizon = 25, .deletes_due = 20},
       std::vector<std::uint32_t>{1, 2}},
      {"not yet due",
       {{10, 100, none}, {20, 100, few_deletes}},
       {.horizon = 25, .deletes_due = 19},
       std::nullopt},
      {"due applies to tombstones only",
       {{10, 100, none}, {20, 100, few_shadowed}},
       {.horizon = 25, .deletes_due = 20},
       std::nullopt},
      {"the oldest segment alone",
       {{10, 100, half_shadowed}},
       {.horizon = 10},
       std::vector<std::uint32_t>{1}},
      {"collected output is left alone",
       {{10, 100, none}, {20, 5, none}},
       {.horizon = 30},
       std::nullopt},
      {"at most inputs_max",
       std::vector<Seg>(20, Seg{10, 100, half_deleted}),
       {.horizon = 10},
       std::vector<std::uint32_t>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}},
      {"size tiers come first",
       {{10, 100, half_deleted, 600 * MB},
        {11, 100, none},
        {12, 100, none},
        {13, 100, none},
        {14, 100, none}},
       {.horizon = 20},
       std::vector<std::uint32_t>{2, 3, 4, 5}},
  };
  for (const GcCase& c : cases) {
    EXPECT_EQ(PickCompaction(Metas(c.segs), CompactionPolicy{}, c.clock), c.want) << c.name;
  }
}

}  // namespace
}  // namespace arbor::storage
