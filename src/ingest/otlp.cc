#include "ingest/otlp.h"

#include <zlib.h>

#include <bit>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <map>
#include <optional>
#include <tuple>
#include <utility>
#include <vector>

#include "base/util.h"
#include "ingest/otlp_internal.h"
#include "json/json.h"

namespace arbor::ingest::otlp {

namespace bj = boost::json;

namespace internal {

// Validates and normalizes an id. Empty stays empty (a root's parent); an all-zero id is
// how some exporters spell "no parent", so it also becomes empty when `zero_is_empty`.
StatusOr<std::string> NormalizeHexId(std::string_view hex, std::size_t bytes, const char* what,
                                     bool zero_is_empty) {
  if (hex.empty()) return std::string();
  if (hex.size() != bytes * 2) {
    return InvalidArgument(std::string(what) + " must be " + std::to_string(bytes) + " bytes (" +
                           std::to_string(bytes * 2) + " hex digits)");
  }
  std::string out(hex);
  bool all_zero = true;
  for (char& c : out) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) {
      return InvalidArgument(std::string(what) + " is not hex");
    }
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    all_zero = all_zero && c == '0';
  }
  if (all_zero && zero_is_empty) return std::string();
  return out;
}

// Sets a span's ids, or why they are unusable: a span without valid trace and span ids is
// rejected alone (partial_success), it does not fail the request.
void SetIds(Span& s, std::string_view trace_id, std::string_view span_id, std::string_view parent) {
  auto trace = NormalizeHexId(trace_id, trace_id_bytes, "traceId", false);
  auto span = NormalizeHexId(span_id, span_id_bytes, "spanId", false);
  auto parent_span = NormalizeHexId(parent, span_id_bytes, "parentSpanId", true);
  for (const auto* st : {&trace, &span, &parent_span}) {
    if (!st->ok()) {
      s.invalid = st->status().message();
      return;
    }
  }
  s.trace_id = std::move(*trace);
  s.span_id = std::move(*span);
  s.parent_span_id = std::move(*parent_span);
  if (s.trace_id.empty() || s.span_id.empty())
    s.invalid = "every span needs a traceId and a spanId";
}

StatusOr<bj::value> PbAnyValue(std::string_view data, std::size_t depth);

StatusOr<std::pair<std::string, bj::value>> PbKeyValue(std::string_view data, std::size_t depth) {
  std::pair<std::string, bj::value> kv;
  Reader r(data);
  Field f;
  while (!r.done()) {
    RETURN_IF_ERROR(r.Next(f));
    if (f.number == 1) {
      RETURN_IF_ERROR(WantWire(f, kLen, "KeyValue"));
      kv.first = std::string(f.bytes);
    } else if (f.number == 2) {
      RETURN_IF_ERROR(WantWire(f, kLen, "KeyValue"));
      ASSIGN_OR_RETURN(kv.second, PbAnyValue(f.bytes, depth));
    }
  }
  return kv;
}

// Adds the KeyValue in `data` to `out`; a repeated key keeps its last value.
Status PbAddKeyValue(std::string_view data, std::size_t depth, bj::object& out) {
  ASSIGN_OR_RETURN(auto kv, PbKeyValue(data, depth));
  out[kv.first] = std::move(kv.second);
  return Status::Ok();
}

// ArrayValue (values=1, AnyValue) or KeyValueList (values=1, KeyValue).
StatusOr<bj::value> PbCollection(std::string_view data, std::size_t depth, bool key_values) {
  bj::array arr;
  bj::object obj;
  Reader r(data);
  Field f;
  while (!r.done()) {
    RETURN_IF_ERROR(r.Next(f));
    if (f.number != 1) continue;
    RETURN_IF_ERROR(WantWire(f, kLen, key_values ? "KeyValueList" : "ArrayValue"));
    if (key_values) {
      RETURN_IF_ERROR(PbAddKeyValue(f.bytes, depth, obj));
    } else {
      ASSIGN_OR_RETURN(bj::value v, PbAnyValue(f.bytes, depth));
      arr.push_back(std::move(v));
    }
  }
  if (key_values) return bj::value(std::move(obj));
  return bj::value(std::move(arr));
}

StatusOr<bj::value> PbAnyValue(std::string_view data, std::size_t depth) {
  if (depth >= value_depth_max) {
    return InvalidArgument("OTLP attribute values nest deeper than " +
                           std::to_string(value_depth_max));
  }
  bj::value out;  // an empty AnyValue is null
  Reader r(data);
  Field f;
  while (!r.done()) {
    RETURN_IF_ERROR(r.Next(f));
    switch (f.number) {
      case 1:  // string_value
        RETURN_IF_ERROR(WantWire(f, kLen, "AnyValue"));
        out = bj::string(f.bytes);
        break;
      case 2:  // bool_value
        RETURN_IF_ERROR(WantWire(f, kVarint, "AnyValue"));
        out = f.varint != 0;
        break;
      case 3:  // int_value (int64, two's complement varint)
        RETURN_IF_ERROR(WantWire(f, kVarint, "AnyValue"));
        out = static_cast<std::int64_t>(f.varint);
        break;
      case 4: {  // double_value
        RETURN_IF_ERROR(WantWire(f, kFixed64, "AnyValue"));
        double d = std::bit_cast<double>(f.varint);
        // Row values must be finite JSON numbers; keep the others readable as text.
        if (std::isfinite(d)) {
          out = d;
        } else {
          out = std::isnan(d) ? "NaN" : (d > 0 ? "Infinity" : "-Infinity");
        }
        break;
      }
      case 5:    // array_value
      case 6: {  // kvlist_value
        RETURN_IF_ERROR(WantWire(f, kLen, "AnyValue"));
        ASSIGN_OR_RETURN(out, PbCollection(f.bytes, depth + 1, f.number == 6));
        break;
      }
      case 7:  // bytes_value: base64, as OTLP/JSON spells bytes
        RETURN_IF_ERROR(WantWire(f, kLen, "AnyValue"));
        out = bj::string(Base64Encode(f.bytes));
        break;
      default:
        break;
    }
  }
  return out;
}

StatusOr<Event> PbEvent(std::string_view data) {
  Event e;
  Reader r(data);
  Field f;
  while (!r.done()) {
    RETURN_IF_ERROR(r.Next(f));
    if (f.number == 2) {
      RETURN_IF_ERROR(WantWire(f, kLen, "Event"));
      e.name = std::string(f.bytes);
    } else if (f.number == 3) {
      RETURN_IF_ERROR(WantWire(f, kLen, "Event"));
      RETURN_IF_ERROR(PbAddKeyValue(f.bytes, 0, e.attributes));
    }
  }
  return e;
}

Status PbStatus(std::string_view data, Span& span) {
  Reader r(data);
  Field f;
  while (!r.done()) {
    RETURN_IF_ERROR(r.Next(f));
    if (f.number == 2) {
      RETURN_IF_ERROR(WantWire(f, kLen, "Status"));
      span.status_message = std::string(f.bytes);
    } else if (f.number == 3) {
      RETURN_IF_ERROR(WantWire(f, kVarint, "Status"));
      span.status_code = static_cast<std::int64_t>(f.varint);
    }
  }
  return Status::Ok();
}

StatusOr<Span> PbSpan(std::string_view data) {
  Span s;
  std::string_view trace_id, span_id, parent_id;
  Reader r(data);
  Field f;
  while (!r.done()) {
    RETURN_IF_ERROR(r.Next(f));
    switch (f.number) {
      case 1:
      case 2:
      case 4:
      case 5:
      case 11:
      case 15:
        RETURN_IF_ERROR(WantWire(f, kLen, "Span"));
        break;
      case 7:
      case 8:
        RETURN_IF_ERROR(WantWire(f, kFixed64, "Span"));
        break;
      case 9:
        RETURN_IF_ERROR(WantWire(f, kLen, "Span"));
        break;
      default:
        continue;  // trace_state, kind, flags, links, dropped counts: not mapped
    }
    switch (f.number) {
      case 1:
        trace_id = f.bytes;
        break;
      case 2:
        span_id = f.bytes;
        break;
      case 4:
        parent_id = f.bytes;
        break;
      case 5:
        s.name = std::string(f.bytes);
        break;
      case 7:
        s.start_ns = f.varint;
        break;
      case 8:
        s.end_ns = f.varint;
        break;
      case 9:
        RETURN_IF_ERROR(PbAddKeyValue(f.bytes, 0, s.attributes));
        break;
      case 11: {
        ASSIGN_OR_RETURN(Event e, PbEvent(f.bytes));
        s.events.push_back(std::move(e));
        break;
      }
      case 15:
        RETURN_IF_ERROR(PbStatus(f.bytes, s));
        break;
    }
  }
  SetIds(s, HexEncode(trace_id), HexEncode(span_id), HexEncode(parent_id));
  return s;
}

// Calls `each(span)` for every span of a ScopeSpans message.
template <typename F>
Status PbScopeSpans(std::string_view data, const std::string& project, F&& each) {
  Reader r(data);
  Field f;
  while (!r.done()) {
    RETURN_IF_ERROR(r.Next(f));
    if (f.number != 2) continue;  // scope (1) and schema_url (3) are not mapped
    RETURN_IF_ERROR(WantWire(f, kLen, "ScopeSpans"));
    ASSIGN_OR_RETURN(Span s, PbSpan(f.bytes));
    s.project_name = project;
    RETURN_IF_ERROR(each(std::move(s)));
  }
  return Status::Ok();
}

// The openinference.project.name attribute of a Resource message, when a string.
Status PbResourceProject(std::string_view data, std::string& project) {
  Reader r(data);
  Field f;
  while (!r.done()) {
    RETURN_IF_ERROR(r.Next(f));
    if (f.number != 1) continue;  // dropped_attributes_count (2)
    RETURN_IF_ERROR(WantWire(f, kLen, "Resource"));
    ASSIGN_OR_RETURN(auto kv, PbKeyValue(f.bytes, 0));
    if (kv.first == openinference_project_key && kv.second.is_string()) {
      project = std::string(kv.second.get_string());
    }
  }
  return Status::Ok();
}

template <typename F>
Status PbRequest(std::string_view data, F&& each) {
  Reader top(data);
  Field rs;
  while (!top.done()) {
    RETURN_IF_ERROR(top.Next(rs));
    if (rs.number != 1) continue;
    RETURN_IF_ERROR(WantWire(rs, kLen, "ExportTraceServiceRequest"));
    // The resource first (it may follow the spans on the wire), then the spans.
    std::string project;
    Reader pre(rs.bytes);
    Field f;
    while (!pre.done()) {
      RETURN_IF_ERROR(pre.Next(f));
      if (f.number != 1) continue;
      RETURN_IF_ERROR(WantWire(f, kLen, "ResourceSpans"));
      RETURN_IF_ERROR(PbResourceProject(f.bytes, project));
    }
    Reader r(rs.bytes);
    while (!r.done()) {
      RETURN_IF_ERROR(r.Next(f));
      if (f.number != 2) continue;  // resource (1, read above) and schema_url (3)
      RETURN_IF_ERROR(WantWire(f, kLen, "ResourceSpans"));
      RETURN_IF_ERROR(PbScopeSpans(f.bytes, project, each));
    }
  }
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------
// OTLP/JSON: lowerCamelCase keys (the protobuf JSON mapping also allows the proto names),
// ids as hex strings, 64-bit integers as decimal strings or numbers.

const bj::value* JField(const bj::object& o, const char* camel, const char* snake) {
  if (const bj::value* v = o.if_contains(camel)) return v;
  return o.if_contains(snake);
}

StatusOr<const bj::array*> JArray(const bj::object& o, const char* camel, const char* snake,
                                  const char* where) {
  static const bj::array empty;
  const bj::value* v = JField(o, camel, snake);
  if (v == nullptr || v->is_null()) return &empty;
  if (!v->is_array())
    return InvalidArgument(std::string(where) + "." + camel + " must be an array");
  return &v->get_array();
}

StatusOr<const bj::object*> JObject(const bj::value& v, const char* where) {
  if (!v.is_object()) return InvalidArgument(std::string(where) + " must be an object");
  return &v.get_object();
}

StatusOr<std::string> JString(const bj::object& o, const char* camel, const char* snake,
                              const char* where) {
  const bj::value* v = JField(o, camel, snake);
  if (v == nullptr || v->is_null()) return std::string();
  if (!v->is_string())
    return InvalidArgument(std::string(where) + "." + camel + " must be a string");
  return std::string(v->get_string());
}

StatusOr<bj::value> JAnyValue(const bj::value& v, std::size_t depth);

Status JAddKeyValues(const bj::array& kvs, std::size_t depth, bj::object& out) {
  for (const bj::value& item : kvs) {
    ASSIGN_OR_RETURN(const bj::object* kv, JObject(item, "an attribute"));
    const bj::value* key = kv->if_contains("key");
    if (key == nullptr || !key->is_string()) {
      return InvalidArgument("an attribute needs a string 'key'");
    }
    const bj::value* value = kv->if_contains("value");
    bj::value mapped;
    if (value != nullptr) {
      ASSIGN_OR_RETURN(mapped, JAnyValue(*value, depth));
    }
    out[key->get_string()] = std::move(mapped);
  }
  return Status::Ok();
}

StatusOr<bj::value> JAnyValue(const bj::value& v, std::size_t depth) {
  if (depth >= value_depth_max) {
    return InvalidArgument("OTLP attribute values nest deeper than " +
                           std::to_string(value_depth_max));
  }
  if (v.is_null()) return bj::value();
  ASSIGN_OR_RETURN(const bj::object* o, JObject(v, "an attribute value"));
  if (const bj::value* s = JField(*o, "stringValue", "string_value")) {
    if (!s->is_string()) return InvalidArgument("stringValue must be a string");
    return *s;
  }
  if (const bj::value* b = JField(*o, "boolValue", "bool_value")) {
    if (!b->is_bool()) return InvalidArgument("boolValue must be a boolean");
    return *b;
  }
  if (const bj::value* i = JField(*o, "intValue", "int_value")) {
    ASSIGN_OR_RETURN(std::int64_t n, JInteger<std::int64_t>(i, "intValue"));
    return bj::value(n);
  }
  if (const bj::value* d = JField(*o, "doubleValue", "double_value")) {
    if (d->is_number()) return bj::value(d->to_number<double>());
    // The protobuf JSON mapping spells non-finite doubles as strings.
    if (d->is_string()) return *d;
    return InvalidArgument("doubleValue must be a number");
  }
  if (const bj::value* a = JField(*o, "arrayValue", "array_value")) {
    ASSIGN_OR_RETURN(const bj::object* ao, JObject(*a, "arrayValue"));
    ASSIGN_OR_RETURN(const bj::array* values, JArray(*ao, "values", "values", "arrayValue"));
    bj::array out;
    for (const bj::value& item : *values) {
      ASSIGN_OR_RETURN(bj::value x, JAnyValue(item, depth + 1));
      out.push_back(std::move(x));
    }
    return bj::value(std::move(out));
  }
  if (const bj::value* kl = JField(*o, "kvlistValue", "kvlist_value")) {
    ASSIGN_OR_RETURN(const bj::object* ko, JObject(*kl, "kvlistValue"));
    ASSIGN_OR_RETURN(const bj::array* values, JArray(*ko, "values", "values", "kvlistValue"));
    bj::object out;
    RETURN_IF_ERROR(JAddKeyValues(*values, depth + 1, out));
    return bj::value(std::move(out));
  }
  if (const bj::value* by = JField(*o, "bytesValue", "bytes_value")) {
    if (!by->is_string()) return InvalidArgument("bytesValue must be a base64 string");
    return *by;
  }
  return bj::value();
}

// Status codes may be integers (the OTLP rule) or enum names (the protobuf JSON mapping).
StatusOr<std::int64_t> JStatusCode(const bj::value* v) {
  if (v != nullptr && v->is_string()) {
    std::string_view s = v->get_string();
    if (s == "STATUS_CODE_ERROR") return status_code_error;
    if (s == "STATUS_CODE_OK") return 1;
    if (s == "STATUS_CODE_UNSET") return 0;
  }
  return JInteger<std::int64_t>(v, "status.code");
}

StatusOr<Span> JSpan(const bj::value& v) {
  ASSIGN_OR_RETURN(const bj::object* o, JObject(v, "a span"));
  Span s;
  ASSIGN_OR_RETURN(std::string trace_id, JString(*o, "traceId", "trace_id", "span"));
  ASSIGN_OR_RETURN(std::string span_id, JString(*o, "spanId", "span_id", "span"));
  ASSIGN_OR_RETURN(std::string parent, JString(*o, "parentSpanId", "parent_span_id", "span"));
  SetIds(s, trace_id, span_id, parent);
  ASSIGN_OR_RETURN(s.name, JString(*o, "name", "name", "span"));
  ASSIGN_OR_RETURN(s.start_ns,
                   JInteger<std::uint64_t>(JField(*o, "startTimeUnixNano", "start_time_unix_nano"),
                                           "startTimeUnixNano"));
  ASSIGN_OR_RETURN(s.end_ns,
                   JInteger<std::uint64_t>(JField(*o, "endTimeUnixNano", "end_time_unix_nano"),
                                           "endTimeUnixNano"));
  ASSIGN_OR_RETURN(const bj::array* attrs, JArray(*o, "attributes", "attributes", "span"));
  RETURN_IF_ERROR(JAddKeyValues(*attrs, 0, s.attributes));
  ASSIGN_OR_RETURN(const bj::array* events, JArray(*o, "events", "events", "span"));
  for (const bj::value& ev : *events) {
    ASSIGN_OR_RETURN(const bj::object* eo, JObject(ev, "an event"));
    Event e;
    ASSIGN_OR_RETURN(e.name, JString(*eo, "name", "name", "event"));
    ASSIGN_OR_RETURN(const bj::array* ea, JArray(*eo, "attributes", "attributes", "event"));
    RETURN_IF_ERROR(JAddKeyValues(*ea, 0, e.attributes));
    s.events.push_back(std::move(e));
  }
  if (const bj::value* st = o->if_contains("status"); st != nullptr && !st->is_null()) {
    ASSIGN_OR_RETURN(const bj::object* so, JObject(*st, "span status"));
    ASSIGN_OR_RETURN(s.status_code, JStatusCode(so->if_contains("code")));
    ASSIGN_OR_RETURN(s.status_message, JString(*so, "message", "message", "status"));
  }
  return s;
}

template <typename F>
Status JRequest(std::string_view text, F&& each) {
  ASSIGN_OR_RETURN(bj::value doc, json::Parse(text));
  ASSIGN_OR_RETURN(const bj::object* root, JObject(doc, "an OTLP/JSON body"));
  ASSIGN_OR_RETURN(const bj::array* rss,
                   JArray(*root, "resourceSpans", "resource_spans", "request"));
  for (const bj::value& rs : *rss) {
    ASSIGN_OR_RETURN(const bj::object* rso, JObject(rs, "resourceSpans[]"));
    std::string project;
    if (const bj::value* res = rso->if_contains("resource"); res != nullptr && !res->is_null()) {
      ASSIGN_OR_RETURN(const bj::object* ro, JObject(*res, "resource"));
      ASSIGN_OR_RETURN(const bj::array* ra, JArray(*ro, "attributes", "attributes", "resource"));
      bj::object attrs;
      RETURN_IF_ERROR(JAddKeyValues(*ra, 0, attrs));
      if (const bj::value* p = attrs.if_contains(openinference_project_key);
          p != nullptr && p->is_string()) {
        project = std::string(p->get_string());
      }
    }
    ASSIGN_OR_RETURN(const bj::array* sss,
                     JArray(*rso, "scopeSpans", "scope_spans", "resourceSpans[]"));
    for (const bj::value& ss : *sss) {
      ASSIGN_OR_RETURN(const bj::object* sso, JObject(ss, "scopeSpans[]"));
      ASSIGN_OR_RETURN(const bj::array* spans, JArray(*sso, "spans", "spans", "scopeSpans[]"));
      for (const bj::value& sp : *spans) {
        ASSIGN_OR_RETURN(Span s, JSpan(sp));
        s.project_name = project;
        RETURN_IF_ERROR(each(std::move(s)));
      }
    }
  }
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------
// Span → row (protocol §6).

std::optional<bj::value> Take(bj::object& attrs, std::string_view key) {
  auto it = attrs.find(key);
  if (it == attrs.end()) return std::nullopt;
  bj::value v = std::move(it->value());
  attrs.erase(it);
  return v;
}

// Parses a string attribute as JSON. Values that are not strings or not JSON yield nothing.
std::optional<bj::value> AsJson(const bj::value& v) {
  if (!v.is_string()) return std::nullopt;
  auto parsed = json::Parse(v.get_string());
  if (!parsed.ok()) return std::nullopt;
  return std::move(*parsed);
}

// Takes a JSON-string attribute when it parses and `accept` likes it; otherwise the attribute
// stays, and so ends up in metadata under its own key.
template <typename Accept>
std::optional<bj::value> TakeJson(bj::object& attrs, std::string_view key, Accept&& accept) {
  const bj::value* v = attrs.if_contains(key);
  if (v == nullptr) return std::nullopt;
  std::optional<bj::value> parsed = AsJson(*v);
  if (!parsed || !accept(*parsed)) return std::nullopt;
  attrs.erase(key);
  return parsed;
}

std::optional<bj::value> TakeJson(bj::object& attrs, std::string_view key) {
  return TakeJson(attrs, key, [](const bj::value&) { return true; });
}

bool IsObject(const bj::value& v) { return v.is_object(); }

// Scores and metrics must be maps of finite numbers (or null); logs3 validation insists.
bool IsNumberMap(const bj::value& v) {
  if (!v.is_object()) return false;
  for (const auto& kv : v.get_object()) {
    if (!kv.value().is_number() && !kv.value().is_null()) return false;
  }
  return true;
}

bool IsStringArray(const bj::value& v) {
  if (!v.is_array()) return false;
  for (const bj::value& x : v.get_array()) {
    if (!x.is_string()) return false;
  }
  return true;
}

// GenAI message attributes: a JSON string (the convention), or already structured.
std::optional<bj::value> TakeMessages(bj::object& attrs, std::string_view key) {
  const bj::value* v = attrs.if_contains(key);
  if (v == nullptr) return std::nullopt;
  if (v->is_array() || v->is_object()) return Take(attrs, key);
  if (auto parsed = TakeJson(attrs, key)) return parsed;
  // gen_ai.prompt / gen_ai.completion are sometimes plain text.
  if (v->is_string()) return Take(attrs, key);
  return std::nullopt;
}

std::optional<double> NumberAttr(const bj::object& attrs, std::string_view key) {
  const bj::value* v = attrs.if_contains(key);
  if (v == nullptr) return std::nullopt;
  if (v->is_number()) return v->to_number<double>();
  if (v->is_string()) {  // some SDKs stringify counts
    std::string_view s = v->get_string();
    double d = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
    if (ec == std::errc() && end == s.data() + s.size() && std::isfinite(d)) return d;
  }
  return std::nullopt;
}

std::optional<double> FirstNumber(const bj::object& attrs,
                                  std::initializer_list<std::string_view> keys) {
  for (std::string_view k : keys) {
    if (auto d = NumberAttr(attrs, k)) return d;
  }
  return std::nullopt;
}

bool HasGenAi(const bj::object& attrs) {
  for (const auto& kv : attrs) {
    if (kv.key().starts_with("gen_ai.")) return true;
  }
  return false;
}

// A number that stays integral in JSON when it is one (token counts).
bj::value Count(double d) {
  if (d == static_cast<double>(static_cast<std::int64_t>(d))) {
    return bj::value(static_cast<std::int64_t>(d));
  }
  return bj::value(d);
}

void MapGenAi(bj::object& attrs, bj::object& row, bj::object& metrics, bj::object& metadata) {
  if (!row.contains("input")) {
    auto in = TakeMessages(attrs, "gen_ai.input.messages");
    if (!in) in = TakeMessages(attrs, "gen_ai.prompt");
    if (in) row["input"] = std::move(*in);
  }
  if (!row.contains("output")) {
    auto out = TakeMessages(attrs, "gen_ai.output.messages");
    if (!out) out = TakeMessages(attrs, "gen_ai.completion");
    if (out) row["output"] = std::move(*out);
  }
  // Usage and model stay in metadata under their own keys too: small, and handy to filter on.
  auto prompt = FirstNumber(attrs, {"gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens"});
  auto completion =
      FirstNumber(attrs, {"gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens"});
  if (prompt) metrics["prompt_tokens"] = Count(*prompt);
  if (completion) metrics["completion_tokens"] = Count(*completion);
  if (prompt || completion) metrics["tokens"] = Count(prompt.value_or(0) + completion.value_or(0));
  // The response model names the exact version; a dialect's model (ai.response.model) beats
  // only the requested one.
  const bj::value* response = attrs.if_contains("gen_ai.response.model");
  const bj::value* request = attrs.if_contains("gen_ai.request.model");
  if (response != nullptr && response->is_string()) {
    metadata["model"] = *response;
  } else if (request != nullptr && request->is_string() && !metadata.contains("model")) {
    metadata["model"] = *request;
  }
}

// ---------------------------------------------------------------------------------------
// OpenInference (Arize Phoenix and its instrumentors): flattened attribute lists.

// The Braintrust span type for an openinference.span.kind.
std::optional<std::string_view> OpenInferenceType(const bj::object& attrs) {
  const bj::value* v = attrs.if_contains("openinference.span.kind");
  if (v == nullptr || !v->is_string()) return std::nullopt;
  std::string kind(v->get_string());
  for (char& c : kind) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  static constexpr std::pair<std::string_view, std::string_view> types[] = {
      {"LLM", "llm"},           {"EMBEDDING", "llm"},      {"TOOL", "tool"},
      {"CHAIN", "task"},        {"AGENT", "task"},         {"RETRIEVER", "function"},
      {"RERANKER", "function"}, {"GUARDRAIL", "function"}, {"PROMPT", "function"},
      {"EVALUATOR", "score"},
  };
  for (const auto& [from, to] : types) {
    if (kind == from) return to;
  }
  return std::nullopt;
}

// Takes the keys `<prefix><N>.<item><rest>` out of `flat`, grouped by N (ascending) as
// rest → value. Keys of any other shape stay.
std::map<std::size_t, bj::object> TakeIndexed(bj::object& flat, std::string_view prefix,
                                              std::string_view item) {
  std::map<std::size_t, bj::object> out;
  std::vector<std::string> taken;
  for (auto& kv : flat) {
    std::string_view k = kv.key();
    if (!k.starts_with(prefix)) continue;
    k.remove_prefix(prefix.size());
    std::size_t n = 0;
    auto [end, ec] = std::from_chars(k.data(), k.data() + k.size(), n);
    if (ec != std::errc() || end == k.data()) continue;
    std::string_view rest = k.substr(static_cast<std::size_t>(end - k.data()));
    if (!rest.starts_with('.')) continue;
    rest.remove_prefix(1);
    if (!rest.starts_with(item) || rest.size() == item.size()) continue;
    rest.remove_prefix(item.size());
    out[n][rest] = std::move(kv.value());
    taken.emplace_back(kv.key());
  }
  for (const std::string& k : taken) flat.erase(k);
  return out;
}

// One flattened OpenInference message (`role`, `content`, `contents.M.message_content.*`,
// `tool_calls.K.tool_call.*`, ...) as an OpenAI-style chat message.
bj::object OpenInferenceMessage(bj::object flat) {
  bj::object m;
  for (const char* key : {"role", "name", "content", "tool_call_id"}) {
    if (auto v = Take(flat, key)) m[key] = std::move(*v);
  }
  auto contents = TakeIndexed(flat, "contents.", "message_content.");
  if (!contents.empty() && !m.contains("content")) {
    bj::array parts;
    for (auto& [index, c] : contents) {
      bj::object part;
      auto type = Take(c, "type");
      if (type && type->is_string() && type->get_string() == "image") {
        part["type"] = "image_url";
        if (auto url = Take(c, "image.image.url")) part["image_url"] = bj::object{{"url", *url}};
      } else {
        part["type"] = type && type->is_string() ? *type : bj::value("text");
        if (auto text = Take(c, "text")) part["text"] = std::move(*text);
      }
      for (auto& kv : c) part[kv.key()] = std::move(kv.value());
      parts.push_back(std::move(part));
    }
    m["content"] = std::move(parts);
  }
  auto calls = TakeIndexed(flat, "tool_calls.", "tool_call.");
  if (!calls.empty()) {
    bj::array arr;
    for (auto& [index, c] : calls) {
      bj::object call;
      if (auto id = Take(c, "id")) call["id"] = std::move(*id);
      call["type"] = "function";
      bj::object fn;
      if (auto name = Take(c, "function.name")) fn["name"] = std::move(*name);
      if (auto args = Take(c, "function.arguments")) fn["arguments"] = std::move(*args);
      call["function"] = std::move(fn);
      for (auto& kv : c) call[kv.key()] = std::move(kv.value());
      arr.push_back(std::move(call));
    }
    m["tool_calls"] = std::move(arr);
  }
  for (auto& kv : flat) m[kv.key()] = std::move(kv.value());
  return m;
}

std::optional<bj::value> TakeOpenInferenceMessages(bj::object& attrs, std::string_view prefix) {
  auto groups = TakeIndexed(attrs, prefix, "message.");
  if (groups.empty()) return std::nullopt;
  bj::array out;
  for (auto& [index, flat] : groups) out.push_back(OpenInferenceMessage(std::move(flat)));
  return bj::value(std::move(out));
}

// input.value / output.value: JSON when its mime type says so (and it parses), else text.
std::optional<bj::value> TakeOpenInferenceValue(bj::object& attrs, std::string_view key,
                                                std::string_view mime_key) {
  const bj::value* v = attrs.if_contains(key);
  if (v == nullptr) return std::nullopt;
  std::optional<bj::value> out;
  const bj::value* mime = attrs.if_contains(mime_key);
  if (mime != nullptr && mime->is_string() && mime->get_string() == "application/json") {
    out = AsJson(*v);
  }
  if (out) {
    attrs.erase(key);
  } else {
    out = Take(attrs, key);
  }
  attrs.erase(mime_key);
  return out;
}

void MapOpenInference(bj::object& attrs, bj::object& row, bj::object& metrics,
                      bj::object& metadata) {
  for (auto [field, messages, value, mime] :
       {std::tuple{"input", "llm.input_messages.", "input.value", "input.mime_type"},
        {"output", "llm.output_messages.", "output.value", "output.mime_type"}}) {
    if (row.contains(field)) continue;
    auto v = TakeOpenInferenceMessages(attrs, messages);
    if (!v) v = TakeOpenInferenceValue(attrs, value, mime);
    if (v) row[field] = std::move(*v);
  }
  // Counts and model also stay in metadata under their own keys, as for gen_ai.
  for (auto [attr, metric] :
       {std::pair{"llm.token_count.prompt", "prompt_tokens"},
        {"llm.token_count.completion", "completion_tokens"},
        {"llm.token_count.total", "tokens"},
        {"llm.token_count.prompt_details.cache_read", "prompt_cached_tokens"},
        {"llm.token_count.prompt_details.cache_write", "prompt_cache_creation_tokens"},
        {"llm.token_count.completion_details.reasoning", "completion_reasoning_tokens"}}) {
    if (metrics.contains(metric)) continue;
    if (auto d = NumberAttr(attrs, attr)) metrics[metric] = Count(*d);
  }
  if (!metrics.contains("tokens") &&
      (metrics.contains("prompt_tokens") || metrics.contains("completion_tokens"))) {
    double sum = 0;
    for (const char* k : {"prompt_tokens", "completion_tokens"}) {
      if (const bj::value* n = metrics.if_contains(k)) sum += n->to_number<double>();
    }
    metrics["tokens"] = Count(sum);
  }
  if (!metadata.contains("model")) {
    for (const char* key :
         {"llm.response.model_name", "llm.model_name", "llm.request.model_name"}) {
      const bj::value* m = attrs.if_contains(key);
      if (m != nullptr && m->is_string()) {
        metadata["model"] = *m;
        break;
      }
    }
  }
}

bool HasOpenInference(const bj::object& attrs) {
  for (const auto& kv : attrs) {
    std::string_view k = kv.key();
    if (k.starts_with("openinference.") || k.starts_with("llm.") || k == "input.value" ||
        k == "output.value") {
      return true;
    }
  }
  return false;
}

// The error of a span: the status message, else the first exception event.
std::optional<std::string> SpanError(const Span& s) {
  if (s.status_code != status_code_error) return std::nullopt;
  if (!s.status_message.empty()) return s.status_message;
  for (const Event& e : s.events) {
    if (e.name != "exception") continue;
    const bj::value* type = e.attributes.if_contains("exception.type");
    const bj::value* msg = e.attributes.if_contains("exception.message");
    std::string out;
    if (type && type->is_string()) out = std::string(type->get_string());
    if (msg && msg->is_string()) {
      out += (out.empty() ? "" : ": ") + std::string(msg->get_string());
    }
    if (!out.empty()) return out;
  }
  return std::string("span status ERROR");
}

// Whole seconds and the fraction converted apart: a nanosecond count near 2^61 does not fit
// a double exactly, and dividing it as a whole loses the microseconds.
double Seconds(std::uint64_t ns) {
  constexpr std::uint64_t ns_per_s = 1'000'000'000;
  return static_cast<double>(ns / ns_per_s) + static_cast<double>(ns % ns_per_s) / 1e9;
}

SpanRow MapSpan(Span s) {
  SpanRow out;
  if (!s.invalid.empty()) {
    out.rejected = std::move(s.invalid);
    return out;
  }
  out.project_name = std::move(s.project_name);
  bj::object& row = out.row;
  bj::object& attrs = s.attributes;
  row["id"] = s.span_id;
  row["span_id"] = s.span_id;
  row["root_span_id"] = s.trace_id;
  if (!s.parent_span_id.empty()) row["span_parents"] = bj::array{bj::value(s.parent_span_id)};
  if (s.start_ns > 0) row["created"] = FormatIsoTime(static_cast<std::int64_t>(s.start_ns / 1000));

  // Routing only: never stored.
  if (auto p = Take(attrs, "braintrust.parent"); p && p->is_string()) {
    out.parent = std::string(p->get_string());
  }
  (void)Take(attrs, "braintrust.org");
  (void)Take(attrs, "braintrust.app_url");

  const bool genai = HasGenAi(attrs);
  bj::object metrics, metadata, span_attributes;
  span_attributes["name"] = s.name;
  span_attributes["type"] = genai ? "llm" : "task";
  if (auto type = OpenInferenceType(attrs)) span_attributes["type"] = *type;
  if (s.start_ns > 0) metrics["start"] = Seconds(s.start_ns);
  if (s.end_ns > 0) metrics["end"] = Seconds(s.end_ns);

  for (auto [attr, field] : {std::pair{"braintrust.input_json", "input"},
                             {"braintrust.output_json", "output"},
                             {"braintrust.expected_json", "expected"},
                             {"braintrust.input", "input"},
                             {"braintrust.output", "output"},
                             {"braintrust.expected", "expected"}}) {
    if (row.contains(field)) continue;
    if (auto v = TakeJson(attrs, attr)) row[field] = std::move(*v);
  }
  MapDialects(attrs, row, metrics, metadata, span_attributes);
  if (genai) MapGenAi(attrs, row, metrics, metadata);
  if (HasOpenInference(attrs)) MapOpenInference(attrs, row, metrics, metadata);

  auto user_metadata = TakeJson(attrs, "braintrust.metadata", IsObject);
  auto user_metrics = TakeJson(attrs, "braintrust.metrics", IsNumberMap);
  auto user_span_attributes = TakeJson(attrs, "braintrust.span_attributes", IsObject);
  if (auto scores = TakeJson(attrs, "braintrust.scores", IsNumberMap)) row["scores"] = *scores;
  if (auto ctx = TakeJson(attrs, "braintrust.context_json", IsObject)) row["context"] = *ctx;
  if (auto origin = TakeJson(attrs, "braintrust.origin", IsObject)) row["origin"] = *origin;
  if (const bj::value* tags = attrs.if_contains("braintrust.tags")) {
    if (IsStringArray(*tags)) {
      row["tags"] = *Take(attrs, "braintrust.tags");
    } else if (auto t = TakeJson(attrs, "braintrust.tags", IsStringArray)) {
      row["tags"] = std::move(*t);
    }
  }
  if (auto err = SpanError(s)) row["error"] = *err;

  // Every attribute not consumed above stays visible, under its flat key. Explicit
  // braintrust.* objects are applied last so they win over derived values.
  for (auto& kv : attrs) metadata[kv.key()] = std::move(kv.value());
  if (user_metadata) json::MergeInto(metadata, user_metadata->get_object(), {});
  if (user_metrics) json::MergeInto(metrics, user_metrics->get_object(), {});
  if (user_span_attributes) {
    json::MergeInto(span_attributes, user_span_attributes->get_object(), {});
  }
  if (!metadata.empty()) row["metadata"] = std::move(metadata);
  if (!metrics.empty()) row["metrics"] = std::move(metrics);
  row["span_attributes"] = std::move(span_attributes);
  // Evaluations recorded as events of the span they evaluate. A malformed one is kept as an
  // ordinary attribute-less event would be: not at all (span events are not stored).
  for (const Event& e : s.events) {
    if (e.name != evaluation_event) continue;
    if (auto ev = ParseEvaluation(e.attributes); ev.ok()) AddEvaluation(std::move(*ev), row);
  }
  if (json::Serialize(row).size() > span_bytes_max) {
    out.rejected =
        "span " + s.span_id + " maps to a row over " + std::to_string(span_bytes_max) + " bytes";
  }
  return out;
}

}  // namespace internal

StatusOr<std::string> Gunzip(std::string_view body) {
  z_stream zs;
  std::memset(&zs, 0, sizeof(zs));
  // 16 + MAX_WBITS: gzip framing only (not raw deflate or zlib).
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) return Internal("zlib init failed");
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(body.data()));
  zs.avail_in = static_cast<uInt>(body.size());
  std::string out;
  constexpr std::size_t chunk = 64 << 10;
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    if (out.size() >= inflated_bytes_max) {
      inflateEnd(&zs);
      return PayloadTooLarge("gzip body inflates beyond " + std::to_string(inflated_bytes_max) +
                             " bytes");
    }
    std::size_t old = out.size();
    out.resize(old + chunk);
    zs.next_out = reinterpret_cast<Bytef*>(out.data() + old);
    zs.avail_out = static_cast<uInt>(chunk);
    rc = inflate(&zs, Z_NO_FLUSH);
    out.resize(old + (chunk - zs.avail_out));
    if (rc == Z_BUF_ERROR && zs.avail_in == 0) break;  // input ended before the stream did
    if (rc != Z_OK && rc != Z_STREAM_END) break;
  }
  bool complete = rc == Z_STREAM_END && zs.avail_in == 0;
  inflateEnd(&zs);
  if (!complete) return InvalidArgument("gzip body is corrupt or truncated");
  if (out.size() > inflated_bytes_max) {
    return PayloadTooLarge("gzip body inflates beyond " + std::to_string(inflated_bytes_max) +
                           " bytes");
  }
  return out;
}

StatusOr<std::vector<SpanRow>> DecodeTraces(std::string_view body, Encoding encoding) {
  std::vector<SpanRow> rows;
  auto each = [&rows](internal::Span s) -> Status {
    if (rows.size() >= spans_max) {
      return PayloadTooLarge("at most " + std::to_string(spans_max) + " spans per request");
    }
    rows.push_back(internal::MapSpan(std::move(s)));
    return Status::Ok();
  };
  if (encoding == Encoding::kJson) {
    RETURN_IF_ERROR(internal::JRequest(body, each));
  } else {
    RETURN_IF_ERROR(internal::PbRequest(body, each));
  }
  return rows;
}

std::string ExportResponse(Encoding encoding, bool logs, std::size_t rejected,
                           std::string_view message) {
  if (encoding == Encoding::kJson) {
    if (rejected == 0) return "{}";
    bj::object partial{{logs ? "rejectedLogRecords" : "rejectedSpans", rejected},
                       {"errorMessage", message}};
    return json::Serialize(bj::object{{"partialSuccess", std::move(partial)}});
  }
  if (rejected == 0) return {};  // an empty message encodes to zero bytes
  // partial_success (1) { rejected_spans | rejected_log_records (1), error_message (2) }.
  auto varint = [](std::uint64_t n, std::string& out) {
    for (; n >= 0x80; n >>= 7) out.push_back(static_cast<char>((n & 0x7F) | 0x80));
    out.push_back(static_cast<char>(n));
  };
  std::string inner;
  inner.push_back('\x08');
  varint(rejected, inner);
  inner.push_back('\x12');
  varint(message.size(), inner);
  inner.append(message);
  std::string out;
  out.push_back('\x0a');
  varint(inner.size(), out);
  out += inner;
  return out;
}

namespace {

std::string UuidFromBytes(std::string_view b) {
  std::string h = HexEncode(b);
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) +
         "-" + h.substr(20);
}

inline constexpr std::uint8_t export_version_uuid_packed = 3;
inline constexpr std::uint8_t export_version_hex_packed = 4;
inline constexpr std::size_t export_uuid_bytes = 16;
// Packed field ids, and the JSON names of the same fields.
enum ExportField : std::uint8_t { kObjectId = 1, kRowId = 2, kSpanId = 3, kRootSpanId = 4 };
inline constexpr const char* export_field_names[] = {"", "object_id", "row_id", "span_id",
                                                     "root_span_id"};
// Object types of byte 1.
enum ExportObject : std::uint8_t { kExperiment = 1, kProjectLogs = 2, kPlaygroundLogs = 3 };

// A span export string (protocol §7.5): byte 0 the encoding version, byte 1 the object type,
// byte 2 the count of packed fields, the packed fields (id byte + bytes), then JSON with the
// fields that were not packed. Version 3 packs UUIDs (16 bytes); version 4 packs hex ids
// (span_id 8 bytes, root_span_id 16).
StatusOr<Parent> ParseSpanExport(std::string_view text, const std::string& raw) {
  auto bad = [&text](const std::string& why) -> Status {
    return InvalidArgument("parent '" + std::string(text.substr(0, 200)) +
                           "' is not a valid span export: " + why);
  };
  const auto byte = [&raw](std::size_t i) { return static_cast<std::uint8_t>(raw[i]); };
  if (raw.size() < 3) return bad("shorter than its 3-byte header");
  const std::uint8_t version = byte(0);
  if (version != export_version_uuid_packed && version != export_version_hex_packed) {
    return bad("encoding version " + std::to_string(version) + " is not supported (3 or 4 are)");
  }
  const std::uint8_t type = byte(1);
  if (type != kExperiment && type != kProjectLogs && type != kPlaygroundLogs) {
    return bad("unknown object type " + std::to_string(type));
  }
  std::string fields[5];
  std::size_t off = 3;
  for (std::size_t i = 0, n = byte(2); i < n; ++i) {
    if (off >= raw.size()) return bad("packed fields run past the end");
    const std::uint8_t id = byte(off++);
    if (id < kObjectId || id > kRootSpanId) {
      return bad("unknown packed field " + std::to_string(id));
    }
    std::size_t len = export_uuid_bytes;
    if (version == export_version_hex_packed && id == kSpanId) len = internal::span_id_bytes;
    if (raw.size() - off < len) return bad("packed fields run past the end");
    std::string_view bytes = std::string_view(raw).substr(off, len);
    off += len;
    fields[id] = version == export_version_uuid_packed ? UuidFromBytes(bytes) : HexEncode(bytes);
  }
  bj::object args;
  if (off < raw.size()) {
    auto doc = json::Parse(std::string_view(raw).substr(off));
    if (!doc.ok() || !doc->is_object()) return bad("the part after the packed fields is not JSON");
    const bj::object& o = doc->get_object();
    for (std::uint8_t id = kObjectId; id <= kRootSpanId; ++id) {
      const bj::value* v = o.if_contains(export_field_names[id]);
      if (v == nullptr || v->is_null()) continue;
      if (!v->is_string()) return bad(std::string(export_field_names[id]) + " is not a string");
      fields[id] = std::string(v->get_string());  // the JSON wins, as in the SDK decoders
    }
    if (const bj::value* a = o.if_contains("compute_object_metadata_args");
        a != nullptr && !a->is_null()) {
      if (!a->is_object()) return bad("compute_object_metadata_args is not an object");
      args = a->get_object();
    }
  }
  const auto arg = [&args](const char* key) {
    const bj::value* v = args.if_contains(key);
    return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
  };

  Parent p;
  p.value = fields[kObjectId];
  switch (type) {
    case kExperiment:
      p.kind = ParentKind::kExperimentId;
      if (p.value.empty()) return bad("an experiment export needs its object_id");
      break;
    case kProjectLogs:
      p.kind = ParentKind::kProjectId;
      if (p.value.empty()) p.value = arg("project_id");
      if (p.value.empty()) {
        p.kind = ParentKind::kProjectName;
        p.value = arg("project_name");
      }
      if (p.value.empty()) {
        return bad("a project_logs export needs object_id or compute_object_metadata_args");
      }
      break;
    default:
      p.kind = ParentKind::kPlaygroundId;
      if (p.value.empty()) return bad("a playground_logs export needs its object_id");
      break;
  }
  if ((p.kind == ParentKind::kExperimentId || p.kind == ParentKind::kProjectId) &&
      !LooksLikeUuid(p.value)) {
    return bad("object id '" + p.value + "' is not a UUID");
  }
  p.span_id = fields[kSpanId];
  p.root_span_id = fields[kRootSpanId];
  if (p.span_id.empty() != p.root_span_id.empty()) {
    return bad("span_id and root_span_id come together");
  }
  return p;
}

}  // namespace

StatusOr<Parent> ParseParent(std::string_view text) {
  static constexpr std::pair<std::string_view, ParentKind> prefixes[] = {
      {"project_id:", ParentKind::kProjectId},
      {"project_name:", ParentKind::kProjectName},
      {"experiment_id:", ParentKind::kExperimentId},
      {"playground_id:", ParentKind::kPlaygroundId},
  };
  for (const auto& [prefix, kind] : prefixes) {
    if (!text.starts_with(prefix)) continue;
    Parent p{kind, std::string(text.substr(prefix.size())), {}, {}};
    if (p.value.empty()) return InvalidArgument("parent '" + std::string(text) + "' has no value");
    if ((kind == ParentKind::kProjectId || kind == ParentKind::kExperimentId) &&
        !LooksLikeUuid(p.value)) {
      return InvalidArgument("parent '" + std::string(text) + "' does not hold a UUID");
    }
    return p;
  }
  if (std::optional<std::string> raw = Base64Decode(text); raw && !text.empty()) {
    return ParseSpanExport(text, *raw);
  }
  return InvalidArgument("unsupported parent '" + std::string(text.substr(0, 200)) +
                         "': use project_id:<uuid>, project_name:<name>, experiment_id:<uuid>, "
                         "playground_id:<id> or an exported span");
}

std::string ParentFor(const SpanRow& span, std::string_view bt_parent_header,
                      std::string_view project_name_header) {
  if (!span.parent.empty()) return span.parent;
  if (!bt_parent_header.empty()) return std::string(bt_parent_header);
  if (!project_name_header.empty()) return "project_name:" + std::string(project_name_header);
  if (!span.project_name.empty()) return "project_name:" + span.project_name;
  return {};
}

void NestUnder(const Parent& parent, bj::object& row) {
  if (parent.span_id.empty()) return;
  row["root_span_id"] = parent.root_span_id;
  if (!row.contains("span_parents")) row["span_parents"] = bj::array{bj::value(parent.span_id)};
}

}  // namespace arbor::ingest::otlp
