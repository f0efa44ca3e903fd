// OTLP logs (ExportLogsServiceRequest), decoded like the traces in otlp.cc: LogRecord field
// numbers from opentelemetry-proto logs/v1. A gen_ai.evaluation.result record scores the span
// it names; any other record becomes a zero-length child row of its span (docs/ingest.md).
#include <cstdint>
#include <string>
#include <utility>

#include "base/util.h"
#include "ingest/otlp.h"
#include "ingest/otlp_internal.h"
#include "json/json.h"

namespace arbor::ingest::otlp {

namespace bj = boost::json;

namespace {

using internal::Field;
using internal::kFixed32;
using internal::kFixed64;
using internal::kLen;
using internal::kVarint;
using internal::Reader;
using internal::WantWire;

// SeverityNumber ERROR (17) and above: the record is an error.
inline constexpr std::int64_t severity_error = 17;

struct LogRecord {
  std::string trace_id;
  std::string span_id;
  std::uint64_t time_ns = 0;
  std::uint64_t observed_ns = 0;
  std::int64_t severity_number = 0;
  std::string severity_text;
  bj::value body;
  bj::object attributes;
  std::string event_name;
  std::string project_name;  // the resource's openinference.project.name
  std::string invalid;       // why the ids are unusable
};

void SetIds(LogRecord& r, std::string_view trace_id, std::string_view span_id) {
  auto trace = internal::NormalizeHexId(trace_id, internal::trace_id_bytes, "traceId", true);
  auto span = internal::NormalizeHexId(span_id, internal::span_id_bytes, "spanId", true);
  if (!trace.ok()) {
    r.invalid = trace.status().message();
  } else if (!span.ok()) {
    r.invalid = span.status().message();
  } else {
    r.trace_id = std::move(*trace);
    r.span_id = std::move(*span);
  }
}

// ---------------------------------------------------------------------------------------
// Protobuf.

StatusOr<LogRecord> PbLogRecord(std::string_view data) {
  LogRecord rec;
  std::string_view trace_id, span_id;
  Reader r(data);
  Field f;
  while (!r.done()) {
    RETURN_IF_ERROR(r.Next(f));
    switch (f.number) {
      case 1:   // time_unix_nano
      case 11:  // observed_time_unix_nano
        RETURN_IF_ERROR(WantWire(f, kFixed64, "LogRecord"));
        (f.number == 1 ? rec.time_ns : rec.observed_ns) = f.varint;
        break;
      case 2:  // severity_number
        RETURN_IF_ERROR(WantWire(f, kVarint, "LogRecord"));
        rec.severity_number = static_cast<std::int64_t>(f.varint);
        break;
      case 3:  // severity_text
        RETURN_IF_ERROR(WantWire(f, kLen, "LogRecord"));
        rec.severity_text = std::string(f.bytes);
        break;
      case 5: {  // body
        RETURN_IF_ERROR(WantWire(f, kLen, "LogRecord"));
        ASSIGN_OR_RETURN(rec.body, internal::PbAnyValue(f.bytes, 0));
        break;
      }
      case 6:  // attributes
        RETURN_IF_ERROR(WantWire(f, kLen, "LogRecord"));
        RETURN_IF_ERROR(internal::PbAddKeyValue(f.bytes, 0, rec.attributes));
        break;
      case 8:  // flags
        RETURN_IF_ERROR(WantWire(f, kFixed32, "LogRecord"));
        break;
      case 9:
        RETURN_IF_ERROR(WantWire(f, kLen, "LogRecord"));
        trace_id = f.bytes;
        break;
      case 10:
        RETURN_IF_ERROR(WantWire(f, kLen, "LogRecord"));
        span_id = f.bytes;
        break;
      case 12:  // event_name
        RETURN_IF_ERROR(WantWire(f, kLen, "LogRecord"));
        rec.event_name = std::string(f.bytes);
        break;
      default:
        break;  // dropped_attributes_count and fields newer than this decoder
    }
  }
  SetIds(rec, HexEncode(trace_id), HexEncode(span_id));
  return rec;
}

template <typename F>
Status PbLogs(std::string_view data, F&& each) {
  Reader top(data);
  Field rl;
  while (!top.done()) {
    RETURN_IF_ERROR(top.Next(rl));
    if (rl.number != 1) continue;
    RETURN_IF_ERROR(WantWire(rl, kLen, "ExportLogsServiceRequest"));
    std::string project;
    Reader pre(rl.bytes);
    Field f;
    while (!pre.done()) {
      RETURN_IF_ERROR(pre.Next(f));
      if (f.number != 1) continue;
      RETURN_IF_ERROR(WantWire(f, kLen, "ResourceLogs"));
      RETURN_IF_ERROR(internal::PbResourceProject(f.bytes, project));
    }
    Reader r(rl.bytes);
    while (!r.done()) {
      RETURN_IF_ERROR(r.Next(f));
      if (f.number != 2) continue;  // resource (1, read above) and schema_url (3)
      RETURN_IF_ERROR(WantWire(f, kLen, "ResourceLogs"));
      Reader scope(f.bytes);
      Field g;
      while (!scope.done()) {
        RETURN_IF_ERROR(scope.Next(g));
        if (g.number != 2) continue;  // scope (1) and schema_url (3)
        RETURN_IF_ERROR(WantWire(g, kLen, "ScopeLogs"));
        ASSIGN_OR_RETURN(LogRecord rec, PbLogRecord(g.bytes));
        rec.project_name = project;
        RETURN_IF_ERROR(each(std::move(rec)));
      }
    }
  }
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------
// OTLP/JSON.

// Severity numbers may be integers or enum names ("SEVERITY_NUMBER_ERROR").
StatusOr<std::int64_t> JSeverity(const bj::value* v) {
  static constexpr std::pair<std::string_view, std::int64_t> names[] = {
      {"TRACE", 1}, {"DEBUG", 5}, {"INFO", 9}, {"WARN", 13}, {"ERROR", 17}, {"FATAL", 21}};
  if (v != nullptr && v->is_string()) {
    std::string_view s = v->get_string();
    if (s.starts_with("SEVERITY_NUMBER_")) {
      s.remove_prefix(16);
      if (s == "UNSPECIFIED") return 0;
      for (const auto& [name, base] : names) {
        if (!s.starts_with(name)) continue;
        std::string_view rest = s.substr(name.size());
        if (rest.empty()) return base;
        if (rest.size() == 1 && rest[0] >= '2' && rest[0] <= '4') return base + (rest[0] - '1');
      }
      return InvalidArgument("unknown severityNumber '" + std::string(v->get_string()) + "'");
    }
  }
  return internal::JInteger<std::int64_t>(v, "severityNumber");
}

StatusOr<LogRecord> JLogRecord(const bj::value& v) {
  ASSIGN_OR_RETURN(const bj::object* o, internal::JObject(v, "a log record"));
  LogRecord rec;
  ASSIGN_OR_RETURN(std::string trace_id, internal::JString(*o, "traceId", "trace_id", "log"));
  ASSIGN_OR_RETURN(std::string span_id, internal::JString(*o, "spanId", "span_id", "log"));
  SetIds(rec, trace_id, span_id);
  ASSIGN_OR_RETURN(rec.time_ns,
                   internal::JInteger<std::uint64_t>(
                       internal::JField(*o, "timeUnixNano", "time_unix_nano"), "timeUnixNano"));
  ASSIGN_OR_RETURN(rec.observed_ns,
                   internal::JInteger<std::uint64_t>(
                       internal::JField(*o, "observedTimeUnixNano", "observed_time_unix_nano"),
                       "observedTimeUnixNano"));
  ASSIGN_OR_RETURN(rec.severity_number,
                   JSeverity(internal::JField(*o, "severityNumber", "severity_number")));
  ASSIGN_OR_RETURN(rec.severity_text,
                   internal::JString(*o, "severityText", "severity_text", "log"));
  ASSIGN_OR_RETURN(rec.event_name, internal::JString(*o, "eventName", "event_name", "log"));
  if (const bj::value* body = o->if_contains("body")) {
    ASSIGN_OR_RETURN(rec.body, internal::JAnyValue(*body, 0));
  }
  ASSIGN_OR_RETURN(const bj::array* attrs,
                   internal::JArray(*o, "attributes", "attributes", "log record"));
  RETURN_IF_ERROR(internal::JAddKeyValues(*attrs, 0, rec.attributes));
  return rec;
}

template <typename F>
Status JLogs(std::string_view text, F&& each) {
  ASSIGN_OR_RETURN(bj::value doc, json::Parse(text));
  ASSIGN_OR_RETURN(const bj::object* root, internal::JObject(doc, "an OTLP/JSON body"));
  ASSIGN_OR_RETURN(const bj::array* rls,
                   internal::JArray(*root, "resourceLogs", "resource_logs", "request"));
  for (const bj::value& rl : *rls) {
    ASSIGN_OR_RETURN(const bj::object* rlo, internal::JObject(rl, "resourceLogs[]"));
    std::string project;
    if (const bj::value* res = rlo->if_contains("resource"); res != nullptr && !res->is_null()) {
      ASSIGN_OR_RETURN(const bj::object* ro, internal::JObject(*res, "resource"));
      ASSIGN_OR_RETURN(const bj::array* ra,
                       internal::JArray(*ro, "attributes", "attributes", "resource"));
      bj::object attrs;
      RETURN_IF_ERROR(internal::JAddKeyValues(*ra, 0, attrs));
      if (const bj::value* p = attrs.if_contains(internal::openinference_project_key);
          p != nullptr && p->is_string()) {
        project = std::string(p->get_string());
      }
    }
    ASSIGN_OR_RETURN(const bj::array* sls,
                     internal::JArray(*rlo, "scopeLogs", "scope_logs", "resourceLogs[]"));
    for (const bj::value& sl : *sls) {
      ASSIGN_OR_RETURN(const bj::object* slo, internal::JObject(sl, "scopeLogs[]"));
      ASSIGN_OR_RETURN(const bj::array* recs,
                       internal::JArray(*slo, "logRecords", "log_records", "scopeLogs[]"));
      for (const bj::value& x : *recs) {
        ASSIGN_OR_RETURN(LogRecord rec, JLogRecord(x));
        rec.project_name = project;
        RETURN_IF_ERROR(each(std::move(rec)));
      }
    }
  }
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------
// Record → row.

std::string EventName(const LogRecord& r) {
  if (!r.event_name.empty()) return r.event_name;
  const bj::value* v = r.attributes.if_contains("event.name");  // before OTLP's event_name
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}

// Scores for the span the record names, as a merge that lands whether that span is already
// stored or arrives later.
SpanRow MapEvaluation(LogRecord r) {
  SpanRow out;
  if (r.trace_id.empty() || r.span_id.empty()) {
    out.rejected =
        "a gen_ai.evaluation.result log record needs the traceId and spanId of the span it "
        "evaluates";
    return out;
  }
  auto eval = internal::ParseEvaluation(r.attributes);
  if (!eval.ok()) {
    out.rejected = eval.status().message();
    return out;
  }
  if (auto p = internal::Take(r.attributes, "braintrust.parent"); p && p->is_string()) {
    out.parent = std::string(p->get_string());
  }
  out.project_name = std::move(r.project_name);
  out.annotation = true;
  out.row = bj::object{{"id", r.span_id}, {"span_id", r.span_id}, {"root_span_id", r.trace_id}};
  internal::AddEvaluation(std::move(*eval), out.row);
  return out;
}

// Any other record: a zero-length child of its span. Its id hashes the record, so an exporter
// retry rewrites the same row instead of adding a copy.
SpanRow MapRecord(LogRecord r) {
  if (!r.invalid.empty()) {
    SpanRow out;
    out.rejected = std::move(r.invalid);
    return out;
  }
  std::string digest =
      Sha256Hex(r.trace_id + "/" + r.span_id + "/" + std::to_string(r.time_ns) + "/" +
                std::to_string(r.observed_ns) + "/" + r.event_name + "/" + r.severity_text + "/" +
                json::Serialize(r.body) + "/" + json::Serialize(r.attributes));
  internal::Span s;
  s.span_id = digest.substr(0, internal::span_id_bytes * 2);
  s.trace_id = r.trace_id.empty() ? digest.substr(0, internal::trace_id_bytes * 2) : r.trace_id;
  s.parent_span_id = r.span_id;
  s.name = EventName(r);
  if (s.name.empty()) s.name = r.severity_text.empty() ? "log" : r.severity_text;
  s.start_ns = s.end_ns = r.time_ns != 0 ? r.time_ns : r.observed_ns;
  s.attributes = std::move(r.attributes);
  if (!r.severity_text.empty()) s.attributes["log.severity_text"] = r.severity_text;
  if (r.severity_number != 0) s.attributes["log.severity_number"] = r.severity_number;
  s.project_name = std::move(r.project_name);
  SpanRow out = internal::MapSpan(std::move(s));
  if (!out.rejected.empty()) return out;
  bj::object& row = out.row;
  if (!r.body.is_null() && !row.contains("output")) row["output"] = r.body;
  if (r.severity_number >= severity_error && !row.contains("error")) {
    row["error"] = r.body.is_string() ? std::string(r.body.get_string())
                                      : (r.severity_text.empty() ? "ERROR" : r.severity_text);
  }
  return out;
}

}  // namespace

StatusOr<std::vector<SpanRow>> DecodeLogs(std::string_view body, Encoding encoding) {
  std::vector<SpanRow> rows;
  auto each = [&rows](LogRecord r) -> Status {
    if (rows.size() >= spans_max) {
      return PayloadTooLarge("at most " + std::to_string(spans_max) + " log records per request");
    }
    if (r.invalid.empty() && EventName(r) == internal::evaluation_event) {
      rows.push_back(MapEvaluation(std::move(r)));
    } else {
      rows.push_back(MapRecord(std::move(r)));
    }
    return Status::Ok();
  };
  if (encoding == Encoding::kJson) {
    RETURN_IF_ERROR(JLogs(body, each));
  } else {
    RETURN_IF_ERROR(PbLogs(body, each));
  }
  return rows;
}

}  // namespace arbor::ingest::otlp
