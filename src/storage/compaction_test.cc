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

}  // namespace
}  // namespace arbor::storage
