// Fuzzes the column file reader (storage/columns.h): any image must be refused or read without
// crashing, never past its end, and whatever it reads must project and answer ranges. The
// reader takes a path, so each input goes through a file of this process. Checksums and zstd
// stop almost every mutation of a whole file early, so inputs starting with "R" hand a raw
// directory and a raw block straight to the decoders (seeds raw_*: the seed files' first
// block, decompressed).
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <fstream>
#include <string>
#include <string_view>

#include "base/util.h"
#include "storage/columns.h"

namespace {

using arbor::storage::ColumnProjection;
using arbor::storage::ColumnRange;
using arbor::storage::ColumnsReader;
using arbor::storage::FieldPath;

const std::string& ScratchPath() {
  static const std::string path = "/tmp/arbor-columns-fuzz-" + std::to_string(::getpid());
  return path;
}

const std::vector<std::vector<FieldPath>>& Paths() {
  static const std::vector<std::vector<FieldPath>> paths = {
      {{"metrics", "prompt_tokens"}, {"metadata"}},
      {{"tags"}, {"metadata", "model"}, {"id"}},
      {{"metrics"}, {"scores", "x", "y"}}};
  return paths;
}

const std::vector<ColumnRange>& Ranges() {
  static const std::vector<ColumnRange> ranges = {
      {.path = {"metrics", "prompt_tokens"}, .lo = 1000},
      {.path = {"metadata", "model"}, .equals = "gpt-4o"},
      {.path = {"tags", "0"}, .hi = 3}};
  return ranges;
}

// Every row of the block projected onto each set of paths.
void ProjectEveryRow(const arbor::storage::ColumnBlock& block) {
  for (const auto& paths : Paths()) {
    auto projection = ColumnProjection::Make(block, paths);
    ARBOR_CHECK(projection.has_value());
    for (std::uint32_t row = 0; row < block.rows(); ++row) (void)projection->Build(block, row);
  }
}

void ReadBlocks(const ColumnsReader& r) {
  for (std::uint32_t b = 0; b < r.blocks(); ++b) {
    (void)r.MayMatch(b, Ranges());
    if (!r.HasColumns(b)) continue;
    auto block = r.ReadBlock(b);
    if (!block.ok()) continue;
    ProjectEveryRow(**block);
  }
}

// Input "R" u16 n, then a raw directory of n bytes and a raw block: decoded as block 0 (and
// every other block with columns) without checksums or compression in the way.
void ReadRaw(std::string_view input) {
  if (input.size() < 3) return;
  const std::size_t n = static_cast<unsigned char>(input[1]) |
                        (std::size_t{static_cast<unsigned char>(input[2])} << 8);
  input.remove_prefix(3);
  if (n > input.size()) return;
  auto r = ColumnsReader::FromRawDirectory(input.substr(0, n));
  if (!r.ok()) return;
  for (std::uint32_t b = 0; b < (*r)->blocks(); ++b) {
    if (!(*r)->HasColumns(b)) continue;
    auto block = (*r)->DecodeRawBlock(b, input.substr(n));
    if (!block.ok()) continue;
    ProjectEveryRow(**block);
  }
  (void)(*r)->MayMatch(0, Ranges());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string& path = ScratchPath();
  std::string_view image(reinterpret_cast<const char*>(data), size);
  if (!image.empty() && image[0] == 'R') {
    ReadRaw(image);
    return 0;
  }
  {
    // A plain write: no fsync, thousands of inputs a second.
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(image.data(), static_cast<std::streamsize>(image.size()));
    if (!out.good()) return 0;
  }
  if (auto r = ColumnsReader::Open(path); r.ok()) ReadBlocks(**r);
  ::unlink(path.c_str());
  return 0;
}
