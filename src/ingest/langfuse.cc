#include "ingest/langfuse.h"

#include <cmath>
#include <ctime>
#include <optional>
#include <set>
#include <string_view>
#include <utility>

#include "base/util.h"

namespace arbor::ingest::langfuse {

namespace bj = boost::json;

namespace {

// "2024-01-02T03:04:05(.ffffff)(Z|+hh:mm|-hh:mm)" as microseconds since the epoch.
std::optional<std::int64_t> ParseIsoMicros(std::string_view s) {
  std::tm tm{};
  int consumed = 0;
  std::string text(s);
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &consumed) != 6) {
    return std::nullopt;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  std::int64_t micros = static_cast<std::int64_t>(timegm(&tm)) * 1'000'000;
  std::string_view rest = std::string_view(text).substr(static_cast<std::size_t>(consumed));
  if (rest.starts_with('.')) {
    rest.remove_prefix(1);
    std::int64_t frac = 0;
    int digits = 0;
    while (!rest.empty() && rest.front() >= '0' && rest.front() <= '9') {
      if (digits < 6) frac = frac * 10 + (rest.front() - '0'), ++digits;
      rest.remove_prefix(1);
    }
    for (; digits < 6; ++digits) frac *= 10;
    micros += frac;
  }
  if (rest == "Z" || rest.empty()) return micros;
  int hh = 0, mm = 0;
  if ((rest.front() == '+' || rest.front() == '-') &&
      std::sscanf(std::string(rest.substr(1)).c_str(), "%2d:%2d", &hh, &mm) == 2) {
    std::int64_t offset = (hh * 3600 + mm * 60) * std::int64_t(1'000'000);
    return rest.front() == '+' ? micros - offset : micros + offset;
  }
  return std::nullopt;
}

std::string Str(const bj::object& o, std::string_view key) {
  const bj::value* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}

std::optional<double> Num(const bj::object& o, std::initializer_list<std::string_view> keys) {
  for (std::string_view k : keys) {
    const bj::value* v = o.if_contains(k);
    if (v != nullptr && v->is_number()) return v->to_number<double>();
  }
  return std::nullopt;
}

bj::value Count(double d) {
  if (d == std::floor(d) && std::fabs(d) < 9e15) return bj::value(static_cast<std::int64_t>(d));
  return bj::value(d);
}

// The span type of an observation event type (without -create / -update).
std::optional<std::string_view> ObservationType(std::string_view kind) {
  static constexpr std::pair<std::string_view, std::string_view> types[] = {
      {"span", "task"},          {"generation", "llm"},   {"event", "task"},
      {"agent", "task"},         {"tool", "tool"},        {"chain", "task"},
      {"retriever", "function"}, {"evaluator", "score"},  {"embedding", "llm"},
      {"guardrail", "function"}, {"observation", "task"},
  };
  for (const auto& [from, to] : types) {
    if (kind == from) return to;
  }
  return std::nullopt;
}

// metadata + the Langfuse fields that have no Braintrust column.
bj::object Metadata(const bj::object& body, std::initializer_list<std::string_view> extra) {
  bj::object md;
  if (const bj::value* m = body.if_contains("metadata"); m != nullptr && m->is_object()) {
    md = m->get_object();
  } else if (m != nullptr && !m->is_null()) {
    md["metadata"] = *m;
  }
  for (std::string_view k : extra) {
    if (const bj::value* v = body.if_contains(k); v != nullptr && !v->is_null()) md[k] = *v;
  }
  return md;
}

void SetTime(bj::object& row, bj::object& metrics, const bj::object& body, const char* start,
             const char* end) {
  if (auto t = ParseIsoMicros(Str(body, start))) {
    row["created"] = FormatIsoTime(*t);
    metrics["start"] = static_cast<double>(*t) / 1e6;
  }
  if (auto t = ParseIsoMicros(Str(body, end))) metrics["end"] = static_cast<double>(*t) / 1e6;
}

void CopyIO(const bj::object& body, bj::object& row) {
  for (const char* k : {"input", "output"}) {
    if (const bj::value* v = body.if_contains(k); v != nullptr && !v->is_null()) row[k] = *v;
  }
}

StatusOr<bj::object> TraceRow(const bj::object& body) {
  std::string id = Str(body, "id");
  if (id.empty()) return InvalidArgument("a trace needs a string body.id");
  bj::object row{{"id", id}, {"span_id", id}, {"root_span_id", id}};
  bj::object metrics;
  SetTime(row, metrics, body, "timestamp", "");
  CopyIO(body, row);
  bj::object md =
      Metadata(body, {"sessionId", "userId", "release", "version", "environment", "public"});
  if (!md.empty()) row["metadata"] = std::move(md);
  if (!metrics.empty()) row["metrics"] = std::move(metrics);
  if (const bj::value* tags = body.if_contains("tags"); tags != nullptr && tags->is_array()) {
    for (const bj::value& t : tags->get_array()) {
      if (!t.is_string()) return InvalidArgument("trace tags must be strings");
    }
    row["tags"] = *tags;
  }
  bj::object sa{{"type", "task"}};
  if (std::string name = Str(body, "name"); !name.empty()) sa["name"] = name;
  row["span_attributes"] = std::move(sa);
  return row;
}

// An update carries only what changed: it must not reset the parent or the trace it omits.
StatusOr<bj::object> ObservationRow(const bj::object& body, std::string_view type, bool update) {
  std::string id = Str(body, "id");
  if (id.empty()) return InvalidArgument("an observation needs a string body.id");
  std::string trace = Str(body, "traceId");
  std::string parent = Str(body, "parentObservationId");
  bj::object row{{"id", id}, {"span_id", id}};
  if (!trace.empty() || !update) row["root_span_id"] = trace.empty() ? id : trace;
  if (!parent.empty()) {
    row["span_parents"] = bj::array{bj::value(parent)};
  } else if (!update && !trace.empty() && trace != id) {
    row["span_parents"] = bj::array{bj::value(trace)};
  }
  bj::object metrics;
  SetTime(row, metrics, body, "startTime", "endTime");
  if (auto t = ParseIsoMicros(Str(body, "completionStartTime")); t && metrics.contains("start")) {
    metrics["time_to_first_token"] =
        static_cast<double>(*t) / 1e6 - metrics.at("start").to_number<double>();
  }
  CopyIO(body, row);
  bj::object md = Metadata(body, {"level", "statusMessage", "version", "environment",
                                  "modelParameters", "promptName", "promptVersion"});
  if (std::string model = Str(body, "model"); !model.empty()) md["model"] = model;
  const bj::value* usage = body.if_contains("usageDetails");
  if (usage == nullptr || !usage->is_object()) usage = body.if_contains("usage");
  if (usage != nullptr && usage->is_object()) {
    const bj::object& u = usage->get_object();
    auto in = Num(u, {"input", "promptTokens", "prompt_tokens", "input_tokens"});
    auto out = Num(u, {"output", "completionTokens", "completion_tokens", "output_tokens"});
    auto total = Num(u, {"total", "totalTokens", "total_tokens"});
    if (in) metrics["prompt_tokens"] = Count(*in);
    if (out) metrics["completion_tokens"] = Count(*out);
    if (!total && (in || out)) total = in.value_or(0) + out.value_or(0);
    if (total) metrics["tokens"] = Count(*total);
    if (auto cost = Num(u, {"totalCost"})) metrics["estimated_cost"] = *cost;
  }
  if (const bj::value* c = body.if_contains("costDetails"); c != nullptr && c->is_object()) {
    std::optional<double> total = Num(c->get_object(), {"total"});
    if (!total) {
      for (const auto& kv : c->get_object()) {
        if (kv.value().is_number()) total = total.value_or(0) + kv.value().to_number<double>();
      }
    }
    if (total) metrics["estimated_cost"] = *total;
  }
  if (Str(body, "level") == "ERROR") {
    std::string msg = Str(body, "statusMessage");
    row["error"] = msg.empty() ? std::string("level ERROR") : msg;
  }
  if (!md.empty()) row["metadata"] = std::move(md);
  if (!metrics.empty()) row["metrics"] = std::move(metrics);
  bj::object sa{{"type", type}};
  if (std::string name = Str(body, "name"); !name.empty()) sa["name"] = name;
  row["span_attributes"] = std::move(sa);
  return row;
}

StatusOr<bj::object> ScoreRow(const bj::object& body) {
  std::string name = Str(body, "name");
  if (name.empty()) return InvalidArgument("a score needs a string body.name");
  std::string trace = Str(body, "traceId");
  if (trace.empty()) {
    return InvalidArgument(
        "a score needs body.traceId (session and dataset-run scores are not "
        "supported)");
  }
  std::string target = Str(body, "observationId");
  if (target.empty()) target = trace;
  const bj::value* value = body.if_contains("value");
  if (value == nullptr || !(value->is_number() || value->is_string() || value->is_bool())) {
    return InvalidArgument("score '" + name + "' needs a number, string or boolean body.value");
  }
  bj::object row{{"id", target}, {"span_id", target}, {"root_span_id", trace}};
  if (value->is_number()) {
    double d = value->to_number<double>();
    if (!std::isfinite(d)) return InvalidArgument("score '" + name + "' is not finite");
    row["scores"] = bj::object{{name, d}};
  } else if (value->is_bool()) {
    row["scores"] = bj::object{{name, value->get_bool() ? 1.0 : 0.0}};
  }
  bj::object detail{{"value", *value}};
  for (const char* k : {"comment", "dataType", "source", "configId"}) {
    if (const bj::value* v = body.if_contains(k); v != nullptr && !v->is_null()) detail[k] = *v;
  }
  if (const bj::value* m = body.if_contains("metadata"); m != nullptr && !m->is_null()) {
    detail["metadata"] = *m;
  }
  row["metadata"] = bj::object{{"evaluations", bj::object{{name, std::move(detail)}}}};
  return row;
}

}  // namespace

StatusOr<Batch> MapBatch(const bj::value& body) {
  const bj::value* batch = body.is_object() ? body.get_object().if_contains("batch") : nullptr;
  if (batch == nullptr || !batch->is_array()) {
    return InvalidArgument("the body must be {\"batch\": [events]}");
  }
  const bj::array& events = batch->get_array();
  if (events.size() > events_max) {
    return PayloadTooLarge("at most " + std::to_string(events_max) + " events per batch");
  }
  // Traces named in this batch; observations of other traces also upsert their trace's root.
  std::set<std::string> traces;
  for (const bj::value& e : events) {
    if (!e.is_object()) continue;
    const bj::object& o = e.get_object();
    const bj::value* b = o.if_contains("body");
    if (Str(o, "type").starts_with("trace-") && b != nullptr && b->is_object()) {
      traces.insert(Str(b->get_object(), "id"));
    }
  }
  Batch out;
  for (const bj::value& e : events) {
    EventResult result;
    auto mapped = [&]() -> StatusOr<std::vector<bj::object>> {
      if (!e.is_object()) return InvalidArgument("an event must be an object");
      const bj::object& o = e.get_object();
      result.id = Str(o, "id");
      if (result.id.empty()) return InvalidArgument("an event needs a string id");
      std::string type = Str(o, "type");
      const bj::value* b = o.if_contains("body");
      if (b == nullptr || !b->is_object()) return InvalidArgument("an event needs an object body");
      const bj::object& body = b->get_object();
      if (type == "trace-create" || type == "trace-update") {
        ASSIGN_OR_RETURN(bj::object row, TraceRow(body));
        return std::vector<bj::object>{std::move(row)};
      }
      if (type == "score-create") {
        ASSIGN_OR_RETURN(bj::object row, ScoreRow(body));
        return std::vector<bj::object>{std::move(row)};
      }
      if (type == "sdk-log") return std::vector<bj::object>{};  // SDK diagnostics: not stored
      std::string_view kind = type;
      for (std::string_view suffix : {"-create", "-update"}) {
        if (kind.ends_with(suffix)) kind.remove_suffix(suffix.size());
      }
      auto span_type = kind.size() < type.size() ? ObservationType(kind) : std::nullopt;
      if (!span_type) return InvalidArgument("unsupported event type '" + type + "'");
      ASSIGN_OR_RETURN(bj::object row, ObservationRow(body, *span_type,
                                                      std::string_view(type).ends_with("-update")));
      std::vector<bj::object> rows;
      std::string trace = Str(body, "traceId");
      if (!trace.empty() && trace != Str(body, "id") && traces.insert(trace).second) {
        // Only ids: merges into the trace's row without touching what trace-create wrote.
        rows.push_back(bj::object{{"id", trace}, {"span_id", trace}, {"root_span_id", trace}});
      }
      rows.push_back(std::move(row));
      return rows;
    }();
    if (mapped.ok()) {
      for (auto& r : *mapped) out.rows.push_back(std::move(r));
    } else {
      result.status = 400;
      result.message = mapped.status().message();
    }
    out.results.push_back(std::move(result));
  }
  return out;
}

}  // namespace arbor::ingest::langfuse
