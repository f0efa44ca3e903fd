// Fuzzes the readers of the on-disk files a data dir holds besides the WAL: any image, opened
// as a segment or as a text index, must be refused or read without crashing, never past its
// end. Readers take a path, so each input goes through a file of this process.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/tokenize.h"
#include "base/util.h"
#include "storage/segment.h"
#include "storage/text_index.h"

namespace {

using arbor::storage::SegmentReader;
using arbor::storage::TextIndexReader;

const std::string& ScratchPath() {
  static const std::string path = "/tmp/arbor-segment-fuzz-" + std::to_string(::getpid());
  return path;
}

void ReadSegment(const std::string& path) {
  auto r = SegmentReader::Open(path);
  if (!r.ok()) return;
  const SegmentReader& seg = **r;
  (void)seg.ReadVersions();
  const std::vector<std::uint64_t> tokens = {arbor::TokenHash("first"), arbor::TokenHash("the")};
  for (std::uint32_t b = 0; b < seg.info().blocks; ++b) {
    (void)seg.ReadBlock(b);
    if (seg.has_light()) (void)seg.ReadLightBlock(b);
    (void)seg.BlockMayContainAll(b, tokens);
  }
}

void ReadTextIndex(const std::string& path) {
  auto r = TextIndexReader::Open(path);
  if (!r.ok()) return;
  const auto ascending = [](const auto& rows) {
    if (!rows.ok()) return;
    for (std::size_t i = 1; i < rows->size(); ++i) ARBOR_CHECK((*rows)[i - 1] <= (*rows)[i]);
  };
  // Version 1 answers plain tokens, version 2 fields, subfields and phrases (the v2 fixture's
  // words: tests/fuzz/corpus/segment/text_index_v2.arbtix).
  for (const char* q : {"the", "quick", "the quick", "needle42", "東京", "lazy dog dog", "京大"}) {
    std::vector<std::uint64_t> tokens;
    for (const std::string& t : arbor::Tokenize(q)) tokens.push_back(arbor::TokenHash(t));
    ascending((*r)->RowsWithAll(tokens));
    for (const std::vector<std::string>& field :
         {std::vector<std::string>{"input"}, {"output"}, {"metadata", "topic"}, {"input", "0"}}) {
      ascending((*r)->RowsMatching(field, tokens, false));
      ascending((*r)->RowsMatching(field, tokens, true));
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string& path = ScratchPath();
  std::string_view image(reinterpret_cast<const char*>(data), size);
  if (!arbor::WriteFileAtomic(path, image).ok()) return 0;
  ReadSegment(path);
  ReadTextIndex(path);
  ::unlink(path.c_str());
  return 0;
}
