// One OTLP export (traces or logs), shared by the HTTP routes (routes_otel.cc) and the gRPC
// services (otlp_grpc.cc): decode the inflated body, route every row by its parent, write the
// routable ones in one atomic request, and count the rest for partial_success.
#pragma once

#include <boost/json.hpp>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "control/access.h"
#include "control/registry.h"
#include "ingest/otlp.h"

namespace arbor::api {

struct OtlpResult {
  std::size_t rejected = 0;
  std::string message;  // empty when nothing was rejected
};

// Validates and writes rows for one principal (App::WriteRows, or the same over the writer).
using RowWriter = std::function<StatusOr<std::uint64_t>(boost::json::array rows)>;

// Errors: a malformed body (InvalidArgument), too many spans (PayloadTooLarge), every row
// rejected (InvalidArgument with the first reason; nothing written), or the write's own error.
// Projects named by name are created unless the caller may not (below editor: NotFound).
StatusOr<OtlpResult> ExportOtlp(control::Registry& registry, const control::Principal& who,
                                const RowWriter& write, std::string_view body,
                                ingest::otlp::Encoding encoding, bool logs,
                                const std::string& bt_parent, const std::string& project_name);

}  // namespace arbor::api
