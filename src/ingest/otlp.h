// OpenTelemetry ingest (protocol §6): decodes an OTLP ExportTraceServiceRequest or
// ExportLogsServiceRequest, in OTLP/JSON or OTLP/protobuf, and maps each span or log record to
// a logs3-style row. Pure functions: bytes
// in, rows out; routing to an object and the write itself belong to the caller.
//
// The protobuf decoder is hand-written against the wire format (field numbers from
// opentelemetry-proto trace/v1, logs/v1, common/v1, resource/v1) so no generated code is
// needed.
#pragma once

#include <boost/json.hpp>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "base/limits.h"
#include "base/status.h"

namespace arbor::ingest::otlp {

// A gzip body may not inflate beyond this: the server's body limit bounds what is sent, this
// bounds what a small compressed body can turn into (zip bombs).
inline constexpr std::size_t inflated_bytes_max = limits::request_body_bytes_max;
// Nesting of AnyValue arrays and key-value lists; the decoder recurses on them.
inline constexpr std::size_t value_depth_max = 32;
// Spans in one request: each becomes a row of one atomic write.
inline constexpr std::size_t spans_max = limits::logs3_rows_max;
// One mapped span or log row, serialized: a bigger one is rejected alone (partial_success).
inline constexpr std::size_t span_bytes_max = limits::logs3_payload_bytes_max / 4;

enum class Encoding { kJson, kProtobuf };

// Inflates a gzip stream; errors on corrupt or truncated input and past inflated_bytes_max.
StatusOr<std::string> Gunzip(std::string_view body);

struct SpanRow {
  // The span's own `braintrust.parent` attribute ("project_id:..."); empty when absent, in
  // which case the request's x-bt-parent header routes it.
  std::string parent;
  // The resource attribute `openinference.project.name` (Phoenix routing); empty when absent.
  std::string project_name;
  // A logs3 row without routing fields: id, span_id, root_span_id, span_parents,
  // span_attributes, metrics, input/output/expected, metadata, ...
  boost::json::object row;
  // Why this span or record cannot be stored (no or bad ids, oversize); the caller writes the
  // others and reports it in partial_success. `row` is then meaningless.
  std::string rejected;
  // The row only annotates a span that may arrive before or after it (scores from a
  // gen_ai.evaluation.result log record): it must be merged, and routing must not give it
  // span_parents.
  bool annotation = false;
};

// Decodes a whole request. A malformed encoding (truncated protobuf, mistyped JSON) fails the
// request; a well-formed span that cannot be stored comes back with `rejected` set.
StatusOr<std::vector<SpanRow>> DecodeTraces(std::string_view body, Encoding encoding);

// Decodes an ExportLogsServiceRequest (docs/ingest.md "OTLP logs"): a gen_ai.evaluation.result
// record becomes an annotation row with the score for the span it names; any other record a
// zero-length child row of its span (or a root row without trace context) carrying its body,
// severity and attributes.
StatusOr<std::vector<SpanRow>> DecodeLogs(std::string_view body, Encoding encoding);

// An OTLP Export*ServiceResponse: empty, or partial_success with the count of rejected spans
// or log records and a message. `logs` picks rejectedLogRecords over rejectedSpans in JSON.
std::string ExportResponse(Encoding encoding, bool logs, std::size_t rejected,
                           std::string_view message);

// An x-bt-parent value (or braintrust.parent attribute), in a plain form or an exported span.
enum class ParentKind { kProjectId, kProjectName, kExperimentId, kPlaygroundId };
struct Parent {
  ParentKind kind = ParentKind::kProjectId;
  std::string value;  // the object id, or the project name for kProjectName
  // Set (both) when the parent is an exported span that names a span: the trace nests under
  // it. Empty for the plain forms and for exports of an object alone.
  std::string span_id;
  std::string root_span_id;
};
// Parses "project_id:<uuid>", "project_name:<name>", "experiment_id:<uuid>",
// "playground_id:<id>", or a span export string (protocol §7.5: base64, encoding versions 3
// and 4).
StatusOr<Parent> ParseParent(std::string_view text);

// The parent text that routes `span`, by precedence: its braintrust.parent attribute, the
// x-bt-parent header, the x-project-name header (Phoenix), its resource's
// openinference.project.name. The last two become "project_name:<name>". Empty when none.
std::string ParentFor(const SpanRow& span, std::string_view bt_parent_header,
                      std::string_view project_name_header);

// Nests a routed row under the exported span of `parent`, if it names one: every row takes
// the exported root_span_id, and a row without an OTel parent becomes a child of the span.
void NestUnder(const Parent& parent, boost::json::object& row);

}  // namespace arbor::ingest::otlp
