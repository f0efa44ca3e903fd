// Attribute dialects beyond braintrust.*, GenAI and OpenInference (those live in otlp.cc):
// OpenLLMetry / traceloop-sdk, the Vercel AI SDK's `ai.*` telemetry and Langfuse's OTel
// namespace; and gen_ai.evaluation.result events, which become scores. Each mapper consumes
// the attributes it explains; the rest stay in metadata under their own keys.
#include <cctype>
#include <string>
#include <utility>

#include "ingest/otlp_internal.h"
#include "json/json.h"

namespace arbor::ingest::otlp::internal {

namespace {

bool IsString(const bj::value* v) { return v != nullptr && v->is_string(); }

std::string StringAttr(const bj::object& attrs, std::string_view key) {
  const bj::value* v = attrs.if_contains(key);
  return IsString(v) ? std::string(v->get_string()) : std::string();
}

// A JSON-string attribute parsed, else the raw value (plain text stays text).
std::optional<bj::value> TakeValue(bj::object& attrs, std::string_view key) {
  if (auto parsed = TakeJson(attrs, key)) return parsed;
  return Take(attrs, key);
}

void SetIfAbsent(bj::object& row, const char* field, std::optional<bj::value> v) {
  if (v && !row.contains(field)) row[field] = std::move(*v);
}

// prompt/completion token metrics (and their sum when no total is given).
void SetTokens(bj::object& metrics, std::optional<double> prompt, std::optional<double> completion,
               std::optional<double> total) {
  if (prompt && !metrics.contains("prompt_tokens")) metrics["prompt_tokens"] = Count(*prompt);
  if (completion && !metrics.contains("completion_tokens")) {
    metrics["completion_tokens"] = Count(*completion);
  }
  if (!total && (prompt || completion)) total = prompt.value_or(0) + completion.value_or(0);
  if (total && !metrics.contains("tokens")) metrics["tokens"] = Count(*total);
}

// Moves `<prefix><key>` attributes into metadata as `<key>` (values parsed when JSON).
void TakePrefixedInto(bj::object& attrs, std::string_view prefix, bj::object& metadata) {
  std::vector<std::string> keys;
  for (const auto& kv : attrs) {
    if (kv.key().starts_with(prefix) && kv.key().size() > prefix.size()) {
      keys.emplace_back(kv.key());
    }
  }
  for (const std::string& k : keys) {
    if (auto v = TakeValue(attrs, k)) metadata[k.substr(prefix.size())] = std::move(*v);
  }
}

// ---------------------------------------------------------------------------------------
// OpenLLMetry (traceloop-sdk): traceloop.span.kind, traceloop.entity.input/output,
// llm.request.type, llm.usage.total_tokens, indexed gen_ai.prompt.N.* / gen_ai.completion.N.*.

// gen_ai.prompt.N.{role,content,...} / gen_ai.completion.N.{...,tool_calls.K.{id,name,
// arguments}} as chat messages.
std::optional<bj::value> TakeIndexedMessages(bj::object& attrs, std::string_view prefix) {
  auto groups = TakeIndexed(attrs, prefix, "");
  if (groups.empty()) return std::nullopt;
  bj::array out;
  for (auto& [index, flat] : groups) {
    bj::object m;
    for (const char* key : {"role", "content"}) {
      if (auto v = Take(flat, key)) m[key] = std::move(*v);
    }
    auto calls = TakeIndexed(flat, "tool_calls.", "");
    if (!calls.empty()) {
      bj::array arr;
      for (auto& [k, c] : calls) {
        bj::object fn;
        if (auto name = Take(c, "name")) fn["name"] = std::move(*name);
        if (auto args = Take(c, "arguments")) fn["arguments"] = std::move(*args);
        bj::object call;
        if (auto id = Take(c, "id")) call["id"] = std::move(*id);
        call["type"] = "function";
        call["function"] = std::move(fn);
        for (auto& kv : c) call[kv.key()] = std::move(kv.value());
        arr.push_back(std::move(call));
      }
      m["tool_calls"] = std::move(arr);
    }
    for (auto& kv : flat) m[kv.key()] = std::move(kv.value());
    out.push_back(std::move(m));
  }
  return bj::value(std::move(out));
}

void MapTraceloop(bj::object& attrs, bj::object& row, bj::object& metrics,
                  bj::object& span_attributes) {
  const std::string kind = StringAttr(attrs, "traceloop.span.kind");
  if (kind == "tool") {
    span_attributes["type"] = "tool";
  } else if (kind == "workflow" || kind == "task" || kind == "agent") {
    span_attributes["type"] = "task";
  }
  if (attrs.contains("llm.request.type")) span_attributes["type"] = "llm";
  SetIfAbsent(row, "input", TakeValue(attrs, "traceloop.entity.input"));
  SetIfAbsent(row, "output", TakeValue(attrs, "traceloop.entity.output"));
  if (!row.contains("input"))
    SetIfAbsent(row, "input", TakeIndexedMessages(attrs, "gen_ai.prompt."));
  if (!row.contains("output")) {
    SetIfAbsent(row, "output", TakeIndexedMessages(attrs, "gen_ai.completion."));
  }
  if (auto total = NumberAttr(attrs, "llm.usage.total_tokens")) {
    if (!metrics.contains("tokens")) metrics["tokens"] = Count(*total);
  }
  if (auto cached = NumberAttr(attrs, "gen_ai.usage.cache_read_input_tokens")) {
    metrics["prompt_cached_tokens"] = Count(*cached);
  }
}

bool HasTraceloop(const bj::object& attrs) {
  for (const auto& kv : attrs) {
    std::string_view k = kv.key();
    if (k.starts_with("traceloop.") || k.starts_with("llm.request.type") ||
        k.starts_with("llm.usage.") || k.starts_with("gen_ai.prompt.") ||
        k.starts_with("gen_ai.completion.")) {
      return true;
    }
  }
  return false;
}

// ---------------------------------------------------------------------------------------
// Vercel AI SDK (experimental_telemetry): ai.operationId names the operation.

// ai.prompt = {"system", "prompt", "messages"} as one message list.
std::optional<bj::value> VercelPrompt(const bj::value& prompt) {
  if (!prompt.is_object()) return prompt;
  const bj::object& p = prompt.get_object();
  bj::array messages;
  if (const bj::value* sys = p.if_contains("system"); IsString(sys)) {
    messages.push_back(bj::object{{"role", "system"}, {"content", *sys}});
  }
  if (const bj::value* text = p.if_contains("prompt"); IsString(text)) {
    messages.push_back(bj::object{{"role", "user"}, {"content", *text}});
  }
  if (const bj::value* m = p.if_contains("messages"); m != nullptr && m->is_array()) {
    for (const bj::value& x : m->get_array()) messages.push_back(x);
  }
  if (messages.empty()) return prompt;
  return bj::value(std::move(messages));
}

// ai.response.toolCalls items ({toolCallId, toolName, args | input}) as OpenAI tool calls.
bj::array VercelToolCalls(const bj::array& calls) {
  bj::array out;
  for (const bj::value& c : calls) {
    if (!c.is_object()) continue;
    const bj::object& o = c.get_object();
    bj::object fn;
    if (const bj::value* n = o.if_contains("toolName")) fn["name"] = *n;
    const bj::value* args = o.if_contains("args");
    if (args == nullptr) args = o.if_contains("input");
    if (args != nullptr)
      fn["arguments"] = args->is_string() ? *args : bj::value(json::Serialize(*args));
    bj::object call{{"type", "function"}, {"function", std::move(fn)}};
    if (const bj::value* id = o.if_contains("toolCallId")) call["id"] = *id;
    out.push_back(std::move(call));
  }
  return out;
}

void MapVercel(bj::object& attrs, bj::object& row, bj::object& metrics, bj::object& metadata,
               bj::object& span_attributes) {
  const std::string op = StringAttr(attrs, "ai.operationId");
  const bool provider_call =
      op.ends_with(".doGenerate") || op.ends_with(".doStream") || op.ends_with(".doEmbed");
  if (op == "ai.toolCall") {
    span_attributes["type"] = "tool";
  } else if (provider_call) {
    span_attributes["type"] = "llm";
  } else if (!op.empty()) {
    span_attributes["type"] = "function";
  }
  if (auto m = TakeValue(attrs, "ai.prompt.messages")) {
    SetIfAbsent(row, "input", std::move(m));
  } else if (auto p = TakeValue(attrs, "ai.prompt")) {
    SetIfAbsent(row, "input", VercelPrompt(*p));
  }
  for (const char* key : {"ai.toolCall.args", "ai.toolCall.input", "ai.value", "ai.values"}) {
    if (row.contains("input")) break;
    SetIfAbsent(row, "input", TakeValue(attrs, key));
  }
  auto text = Take(attrs, "ai.response.text");
  auto calls = TakeJson(attrs, "ai.response.toolCalls");
  if (calls && calls->is_array() && !calls->get_array().empty()) {
    bj::object message{{"role", "assistant"}, {"content", text ? *text : bj::value()}};
    message["tool_calls"] = VercelToolCalls(calls->get_array());
    SetIfAbsent(row, "output", bj::value(bj::array{std::move(message)}));
  } else if (text) {
    SetIfAbsent(row, "output", std::move(text));
  }
  for (const char* key : {"ai.response.object", "ai.toolCall.result", "ai.toolCall.output"}) {
    if (row.contains("output")) break;
    SetIfAbsent(row, "output", TakeValue(attrs, key));
  }
  // The outer ai.generateText / ai.streamText spans repeat the summed usage of their
  // provider calls: token metrics on both would count every token twice in a trace.
  if (provider_call || op.empty()) {
    SetTokens(metrics, FirstNumberOf(attrs, {"ai.usage.promptTokens", "ai.usage.inputTokens"}),
              FirstNumberOf(attrs, {"ai.usage.completionTokens", "ai.usage.outputTokens"}),
              FirstNumberOf(attrs, {"ai.usage.totalTokens", "ai.usage.tokens"}));
    if (auto cached = NumberAttr(attrs, "ai.usage.cachedInputTokens")) {
      metrics["prompt_cached_tokens"] = Count(*cached);
    }
    if (auto reasoning = NumberAttr(attrs, "ai.usage.reasoningTokens")) {
      metrics["completion_reasoning_tokens"] = Count(*reasoning);
    }
  }
  for (const char* key : {"ai.response.model", "ai.model.id"}) {
    std::string model = StringAttr(attrs, key);
    if (!model.empty()) {
      metadata["model"] = model;
      break;
    }
  }
  if (std::string tool = StringAttr(attrs, "ai.toolCall.name"); !tool.empty()) {
    span_attributes["name"] = tool;
  }
}

bool HasVercel(const bj::object& attrs) {
  for (const auto& kv : attrs) {
    if (kv.key().starts_with("ai.")) return true;
  }
  return false;
}

// ---------------------------------------------------------------------------------------
// Langfuse (langfuse.observation.*, langfuse.trace.*).

std::optional<std::string_view> LangfuseType(std::string type) {
  for (char& c : type) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  static constexpr std::pair<std::string_view, std::string_view> types[] = {
      {"generation", "llm"},  {"embedding", "llm"},      {"tool", "tool"},
      {"agent", "task"},      {"chain", "task"},         {"span", "task"},
      {"event", "task"},      {"retriever", "function"}, {"guardrail", "function"},
      {"evaluator", "score"},
  };
  for (const auto& [from, to] : types) {
    if (type == from) return to;
  }
  return std::nullopt;
}

void MapLangfuse(bj::object& attrs, bj::object& row, bj::object& metrics, bj::object& metadata,
                 bj::object& span_attributes) {
  if (auto type = LangfuseType(StringAttr(attrs, "langfuse.observation.type"))) {
    span_attributes["type"] = *type;
  }
  SetIfAbsent(row, "input", TakeValue(attrs, "langfuse.observation.input"));
  SetIfAbsent(row, "output", TakeValue(attrs, "langfuse.observation.output"));
  SetIfAbsent(row, "input", TakeValue(attrs, "langfuse.trace.input"));
  SetIfAbsent(row, "output", TakeValue(attrs, "langfuse.trace.output"));
  TakePrefixedInto(attrs, "langfuse.observation.metadata.", metadata);
  TakePrefixedInto(attrs, "langfuse.trace.metadata.", metadata);
  if (std::string model = StringAttr(attrs, "langfuse.observation.model.name"); !model.empty()) {
    metadata["model"] = model;
  }
  if (auto params = TakeJson(attrs, "langfuse.observation.model.parameters")) {
    metadata["model_parameters"] = std::move(*params);
  }
  if (auto usage = TakeJson(attrs, "langfuse.observation.usage_details");
      usage && usage->is_object()) {
    const bj::object& u = usage->get_object();
    SetTokens(metrics, FirstNumberOf(u, {"input", "prompt_tokens", "input_tokens"}),
              FirstNumberOf(u, {"output", "completion_tokens", "output_tokens"}),
              FirstNumberOf(u, {"total", "total_tokens"}));
  }
  if (auto cost = TakeJson(attrs, "langfuse.observation.cost_details"); cost && cost->is_object()) {
    const bj::object& c = cost->get_object();
    std::optional<double> total = NumberAttr(c, "total");
    if (!total) {
      for (const auto& kv : c) {
        if (auto d = NumberAttr(c, kv.key())) total = total.value_or(0) + *d;
      }
    }
    if (total) metrics["estimated_cost"] = *total;
  }
  if (const bj::value* tags = attrs.if_contains("langfuse.trace.tags")) {
    std::optional<bj::value> parsed =
        tags->is_array() ? std::optional<bj::value>(*tags) : AsJson(*tags);
    bool strings = parsed && parsed->is_array();
    if (strings) {
      for (const bj::value& t : parsed->get_array()) strings = strings && t.is_string();
    }
    if (strings) {
      row["tags"] = std::move(*parsed);
      attrs.erase("langfuse.trace.tags");
    }
  }
  if (StringAttr(attrs, "langfuse.observation.level") == "ERROR" && !row.contains("error")) {
    std::string msg = StringAttr(attrs, "langfuse.observation.status_message");
    row["error"] = msg.empty() ? std::string("langfuse level ERROR") : msg;
  }
}

bool HasLangfuse(const bj::object& attrs) {
  for (const auto& kv : attrs) {
    if (kv.key().starts_with("langfuse.")) return true;
  }
  return false;
}

}  // namespace

std::optional<double> FirstNumberOf(const bj::object& attrs,
                                    std::initializer_list<std::string_view> keys) {
  for (std::string_view k : keys) {
    if (auto d = NumberAttr(attrs, k)) return d;
  }
  return std::nullopt;
}

void MapDialects(bj::object& attrs, bj::object& row, bj::object& metrics, bj::object& metadata,
                 bj::object& span_attributes) {
  // Langfuse first: its explicit observation input/output win over the derived ones.
  if (HasLangfuse(attrs)) MapLangfuse(attrs, row, metrics, metadata, span_attributes);
  if (HasVercel(attrs)) MapVercel(attrs, row, metrics, metadata, span_attributes);
  if (HasTraceloop(attrs)) MapTraceloop(attrs, row, metrics, span_attributes);
}

StatusOr<Evaluation> ParseEvaluation(const bj::object& attrs) {
  Evaluation e;
  e.name = StringAttr(attrs, "gen_ai.evaluation.name");
  if (e.name.empty()) {
    return InvalidArgument("a gen_ai.evaluation.result needs a gen_ai.evaluation.name");
  }
  if (attrs.contains("gen_ai.evaluation.score.value")) {
    e.score = NumberAttr(attrs, "gen_ai.evaluation.score.value");
    if (!e.score) {
      return InvalidArgument("gen_ai.evaluation.score.value of '" + e.name +
                             "' is not a finite number");
    }
    e.details["score"] = *e.score;
  }
  for (auto [attr, key] : {std::pair{"gen_ai.evaluation.score.label", "label"},
                           {"gen_ai.evaluation.explanation", "explanation"},
                           {"gen_ai.response.id", "response_id"}}) {
    if (const bj::value* v = attrs.if_contains(attr); v != nullptr && !v->is_null()) {
      e.details[key] = *v;
    }
  }
  if (!e.score && e.details.empty()) {
    return InvalidArgument("gen_ai.evaluation.result '" + e.name +
                           "' has neither a score value nor a label");
  }
  return e;
}

void AddEvaluation(Evaluation e, bj::object& row) {
  if (e.score) {
    bj::value& scores = row["scores"];
    if (!scores.is_object()) scores = bj::object{};
    scores.get_object()[e.name] = *e.score;
  }
  bj::value& metadata = row["metadata"];
  if (!metadata.is_object()) metadata = bj::object{};
  bj::value& evals = metadata.get_object()["evaluations"];
  if (!evals.is_object()) evals = bj::object{};
  evals.get_object()[e.name] = std::move(e.details);
}

}  // namespace arbor::ingest::otlp::internal
