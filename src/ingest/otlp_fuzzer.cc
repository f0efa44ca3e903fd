// Fuzzes OTLP trace and logs decoding. The first byte picks the encoding (bit 0), gzip (bit 1),
// parent-header parsing (bit 2) or the logs decoder (bit 3); the rest is the body. Whatever decodes
// must map to rows that logs3 validation accepts once routed, since the HTTP route writes them
// through the same path.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "base/status.h"
#include "ingest/otlp.h"
#include "ingest/rows.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace otlp = arbor::ingest::otlp;
  if (size == 0) return 0;
  const std::uint8_t mode = data[0];
  std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
  if (mode & 4) {
    // The whole input as an x-bt-parent header, including base64 exported spans.
    (void)otlp::ParseParent(body);
    return 0;
  }
  std::string inflated;
  if (mode & 2) {
    auto out = otlp::Gunzip(body);
    if (!out.ok()) return 0;
    inflated = std::move(*out);
    body = inflated;
  }
  auto encoding = (mode & 1) ? otlp::Encoding::kJson : otlp::Encoding::kProtobuf;
  auto spans = (mode & 8) ? otlp::DecodeLogs(body, encoding) : otlp::DecodeTraces(body, encoding);
  if (!spans.ok()) return 0;
  boost::json::array rows;
  for (auto& s : *spans) {
    if (!s.rejected.empty()) continue;  // the route counts it in partial_success
    ARBOR_CHECK(s.row.at("id").is_string() && s.row.at("root_span_id").is_string());
    if (!s.parent.empty()) (void)otlp::ParseParent(s.parent);
    s.row["project_id"] = "00000000-0000-4000-8000-000000000000";
    s.row["log_id"] = "g";
    s.row["_is_merge"] = true;  // as the route writes every OTLP row
    rows.push_back(std::move(s.row));
  }
  auto parsed = arbor::ingest::ParseRows(std::move(rows));
  ARBOR_CHECK(parsed.ok());
  return 0;
}
