// Fuzzes WAL recovery: any file image must scan without crashing, never past its end.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "storage/wal.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view image(reinterpret_cast<const char*>(data), size);
  std::size_t payload_bytes = 0;
  auto scan = arbor::storage::ScanWalFile(image, [&](std::string_view p) {
    payload_bytes += p.size();
    return arbor::Status::Ok();
  });
  if (scan.ok()) {
    ARBOR_CHECK(scan->valid_bytes <= image.size());
    ARBOR_CHECK(payload_bytes <= image.size());
    ARBOR_CHECK(scan->torn == (scan->valid_bytes != image.size()));
  }
  return 0;
}
