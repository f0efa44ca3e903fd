// Golden payloads for the attribute dialects of otlp_dialects.cc, written by hand after what
// traceloop-sdk (OpenLLMetry), the Vercel AI SDK's experimental_telemetry and Langfuse's OTel
// SDK put on their spans, in OTLP/JSON.
#include <gtest/gtest.h>

#include <string>

#include "ingest/otlp.h"
#include "json/json.h"

namespace arbor::ingest::otlp {
namespace {

namespace bj = boost::json;

constexpr char kTrace[] = "0af7651916cd43dd8448eb211c80319c";

// A one-span OTLP/JSON request with `attributes` (an OTLP KeyValue list) and `extra` span
// fields (e.g. events).
std::string Request(const std::string& name, const std::string& attributes,
                    const std::string& extra = "") {
  return std::string(R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":")") + kTrace +
         R"(","spanId":"1111111111111111","name":")" + name + R"(","attributes":[)" + attributes +
         "]" + extra + "}]}]}]}";
}

std::string S(const std::string& key, const std::string& value) {
  return R"({"key":")" + key + R"(","value":{"stringValue":)" + json::Serialize(bj::value(value)) +
         "}}";
}
std::string I(const std::string& key, int value) {
  return R"({"key":")" + key + R"(","value":{"intValue":")" + std::to_string(value) + "\"}}";
}

// Decodes a one-span request and compares its row with `want` (ids added here).
void ExpectMapped(const std::string& request, const std::string& want) {
  auto rows = DecodeTraces(request, Encoding::kJson);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 1u);
  ASSERT_EQ((*rows)[0].rejected, "");
  bj::object expected = json::Parse(want).value().as_object();
  expected["id"] = "1111111111111111";
  expected["span_id"] = "1111111111111111";
  expected["root_span_id"] = kTrace;
  EXPECT_TRUE(json::Equals((*rows)[0].row, expected))
      << "got:  " << json::Serialize((*rows)[0].row) << "\nwant: " << json::Serialize(expected);
}

TEST(OtlpDialects, OpenLlmetryChatSpan) {
  ExpectMapped(
      Request(
          "openai.chat",
          S("llm.request.type", "chat") + "," + S("gen_ai.system", "openai") + "," +
              S("gen_ai.request.model", "gpt-4o-mini") + "," +
              S("gen_ai.response.model", "gpt-4o-mini-2024-07-18") + "," +
              S("gen_ai.prompt.0.role", "system") + "," + S("gen_ai.prompt.0.content", "Be brief") +
              "," + S("gen_ai.prompt.1.role", "user") + "," + S("gen_ai.prompt.1.content", "hi") +
              "," + S("gen_ai.completion.0.role", "assistant") + "," +
              S("gen_ai.completion.0.content", "hello") + "," +
              S("gen_ai.completion.0.finish_reason", "stop") + "," +
              I("gen_ai.usage.prompt_tokens", 9) + "," + I("gen_ai.usage.completion_tokens", 2) +
              "," + I("llm.usage.total_tokens", 11) + "," + S("traceloop.workflow.name", "jokes")),
      R"({"input":[{"role":"system","content":"Be brief"},{"role":"user","content":"hi"}],
                   "output":[{"role":"assistant","content":"hello","finish_reason":"stop"}],
                   "metrics":{"prompt_tokens":9,"completion_tokens":2,"tokens":11},
                   "metadata":{"model":"gpt-4o-mini-2024-07-18","llm.request.type":"chat",
                     "gen_ai.system":"openai","gen_ai.request.model":"gpt-4o-mini",
                     "gen_ai.response.model":"gpt-4o-mini-2024-07-18",
                     "gen_ai.usage.prompt_tokens":9,"gen_ai.usage.completion_tokens":2,
                     "llm.usage.total_tokens":11,"traceloop.workflow.name":"jokes"},
                   "span_attributes":{"name":"openai.chat","type":"llm"}})");
}

TEST(OtlpDialects, OpenLlmetryToolCallsInCompletions) {
  ExpectMapped(
      Request("openai.chat", S("llm.request.type", "chat") + "," +
                                 S("gen_ai.completion.0.role", "assistant") + "," +
                                 S("gen_ai.completion.0.tool_calls.0.id", "call_1") + "," +
                                 S("gen_ai.completion.0.tool_calls.0.name", "weather") + "," +
                                 S("gen_ai.completion.0.tool_calls.0.arguments", "{\"c\":1}")),
      R"({"output":[{"role":"assistant","tool_calls":[{"id":"call_1","type":"function",
            "function":{"name":"weather","arguments":"{\"c\":1}"}}]}],
          "metadata":{"llm.request.type":"chat"},
          "span_attributes":{"name":"openai.chat","type":"llm"}})");
}

TEST(OtlpDialects, OpenLlmetryWorkflowAndToolKinds) {
  ExpectMapped(
      Request("jokes.workflow",
              S("traceloop.span.kind", "workflow") + "," + S("traceloop.entity.name", "jokes") +
                  "," + S("traceloop.entity.input", R"({"args":[],"kwargs":{"topic":"cats"}})") +
                  "," + S("traceloop.entity.output", R"("a joke")")),
      R"({"input":{"args":[],"kwargs":{"topic":"cats"}},"output":"a joke",
                   "metadata":{"traceloop.span.kind":"workflow","traceloop.entity.name":"jokes"},
                   "span_attributes":{"name":"jokes.workflow","type":"task"}})");
  ExpectMapped(Request("search.tool", S("traceloop.span.kind", "tool") + "," +
                                          S("traceloop.entity.input", "not json")),
               R"({"input":"not json","metadata":{"traceloop.span.kind":"tool"},
                   "span_attributes":{"name":"search.tool","type":"tool"}})");
}

TEST(OtlpDialects, VercelGenerateTextOuterSpan) {
  ExpectMapped(
      Request("ai.generateText",
              S("ai.operationId", "ai.generateText") + "," +
                  S("operation.name", "ai.generateText my-fn") + "," + S("ai.model.id", "gpt-4o") +
                  "," + S("ai.model.provider", "openai.chat") + "," +
                  S("ai.prompt", R"({"system":"sys","prompt":"hi"})") + "," +
                  S("ai.response.text", "hello") + "," + I("ai.usage.promptTokens", 10) + "," +
                  I("ai.usage.completionTokens", 3)),
      R"({"input":[{"role":"system","content":"sys"},{"role":"user","content":"hi"}],
                   "output":"hello",
                   "metadata":{"model":"gpt-4o","ai.operationId":"ai.generateText",
                     "operation.name":"ai.generateText my-fn","ai.model.id":"gpt-4o",
                     "ai.model.provider":"openai.chat","ai.usage.promptTokens":10,
                     "ai.usage.completionTokens":3},
                   "span_attributes":{"name":"ai.generateText","type":"function"}})");
}

TEST(OtlpDialects, VercelProviderCallWithToolCalls) {
  ExpectMapped(
      Request("ai.generateText.doGenerate",
              S("ai.operationId", "ai.generateText.doGenerate") + "," +
                  S("ai.prompt.messages",
                    R"([{"role":"user","content":[{"type":"text","text":"weather?"}]}])") +
                  "," + S("ai.response.text", "") + "," +
                  S("ai.response.toolCalls",
                    R"([{"toolCallType":"function","toolCallId":"call_1","toolName":"weather",)"
                    R"("args":"{\"city\":\"Paris\"}"}])") +
                  "," + I("ai.usage.promptTokens", 10) + "," + I("ai.usage.completionTokens", 3) +
                  "," + S("ai.response.model", "gpt-4o-2024-08-06") + "," +
                  S("gen_ai.system", "openai.chat") + "," + S("gen_ai.request.model", "gpt-4o")),
      R"({"input":[{"role":"user","content":[{"type":"text","text":"weather?"}]}],
          "output":[{"role":"assistant","content":"","tool_calls":[{"type":"function",
            "function":{"name":"weather","arguments":"{\"city\":\"Paris\"}"},"id":"call_1"}]}],
          "metrics":{"prompt_tokens":10,"completion_tokens":3,"tokens":13},
          "metadata":{"model":"gpt-4o-2024-08-06","ai.operationId":"ai.generateText.doGenerate",
            "ai.usage.promptTokens":10,"ai.usage.completionTokens":3,
            "ai.response.model":"gpt-4o-2024-08-06","gen_ai.system":"openai.chat",
            "gen_ai.request.model":"gpt-4o"},
          "span_attributes":{"name":"ai.generateText.doGenerate","type":"llm"}})");
}

TEST(OtlpDialects, VercelToolCallAndStreamText) {
  ExpectMapped(Request("ai.toolCall", S("ai.operationId", "ai.toolCall") + "," +
                                          S("ai.toolCall.name", "weather") + "," +
                                          S("ai.toolCall.id", "call_1") + "," +
                                          S("ai.toolCall.args", R"({"city":"Paris"})") + "," +
                                          S("ai.toolCall.result", R"({"temp":20})")),
               R"({"input":{"city":"Paris"},"output":{"temp":20},
                   "metadata":{"ai.operationId":"ai.toolCall","ai.toolCall.name":"weather",
                     "ai.toolCall.id":"call_1"},
                   "span_attributes":{"name":"weather","type":"tool"}})");
  ExpectMapped(Request("ai.streamText.doStream", S("ai.operationId", "ai.streamText.doStream") +
                                                     "," + S("ai.response.text", "streamed") + "," +
                                                     I("ai.usage.inputTokens", 4) + "," +
                                                     I("ai.usage.outputTokens", 6)),
               R"({"output":"streamed","metrics":{"prompt_tokens":4,"completion_tokens":6,
                     "tokens":10},
                   "metadata":{"ai.operationId":"ai.streamText.doStream",
                     "ai.usage.inputTokens":4,"ai.usage.outputTokens":6},
                   "span_attributes":{"name":"ai.streamText.doStream","type":"llm"}})");
}

TEST(OtlpDialects, LangfuseGeneration) {
  ExpectMapped(
      Request("llm-call",
              S("langfuse.observation.type", "generation") + "," +
                  S("langfuse.observation.input", R"([{"role":"user","content":"hi"}])") + "," +
                  S("langfuse.observation.output", R"({"role":"assistant","content":"yo"})") + "," +
                  S("langfuse.observation.model.name", "claude-3") + "," +
                  S("langfuse.observation.model.parameters", R"({"temperature":0.1})") + "," +
                  S("langfuse.observation.usage_details", R"({"input":5,"output":7})") + "," +
                  S("langfuse.observation.cost_details",
                    R"({"input":0.25,"output":0.5,"total":0.75})") +
                  "," + S("langfuse.observation.metadata.customer", "acme") + "," +
                  S("langfuse.trace.tags", R"(["prod","beta"])") + "," +
                  S("langfuse.trace.name", "pipeline") + "," + S("user.id", "u1")),
      R"({"input":[{"role":"user","content":"hi"}],"output":{"role":"assistant","content":"yo"},
          "tags":["prod","beta"],
          "metrics":{"prompt_tokens":5,"completion_tokens":7,"tokens":12,
            "estimated_cost":0.75},
          "metadata":{"model":"claude-3","model_parameters":{"temperature":0.1},
            "customer":"acme","langfuse.observation.type":"generation",
            "langfuse.observation.model.name":"claude-3","langfuse.trace.name":"pipeline",
            "user.id":"u1"},
          "span_attributes":{"name":"llm-call","type":"llm"}})");
}

TEST(OtlpDialects, LangfuseErrorLevelAndCostWithoutTotal) {
  ExpectMapped(Request("step", S("langfuse.observation.type", "tool") + "," +
                                   S("langfuse.observation.level", "ERROR") + "," +
                                   S("langfuse.observation.status_message", "boom") + "," +
                                   S("langfuse.observation.cost_details", R"({"a":0.25,"b":0.5})")),
               R"({"error":"boom","metrics":{"estimated_cost":0.75},
                   "metadata":{"langfuse.observation.type":"tool",
                     "langfuse.observation.level":"ERROR",
                     "langfuse.observation.status_message":"boom"},
                   "span_attributes":{"name":"step","type":"tool"}})");
}

TEST(OtlpDialects, EvaluationEventsBecomeScores) {
  const std::string events = R"(,"events":[
    {"name":"gen_ai.evaluation.result","attributes":[
      {"key":"gen_ai.evaluation.name","value":{"stringValue":"relevance"}},
      {"key":"gen_ai.evaluation.score.value","value":{"doubleValue":0.75}},
      {"key":"gen_ai.evaluation.score.label","value":{"stringValue":"relevant"}},
      {"key":"gen_ai.evaluation.explanation","value":{"stringValue":"on topic"}}]},
    {"name":"gen_ai.evaluation.result","attributes":[
      {"key":"gen_ai.evaluation.name","value":{"stringValue":"tone"}},
      {"key":"gen_ai.evaluation.score.label","value":{"stringValue":"polite"}}]},
    {"name":"gen_ai.evaluation.result","attributes":[
      {"key":"gen_ai.evaluation.score.value","value":{"doubleValue":1}}]}])";
  ExpectMapped(Request("answer", S("braintrust.scores", R"({"exact":1})"), events),
               R"({"scores":{"exact":1,"relevance":0.75},
                   "metadata":{"evaluations":{
                     "relevance":{"score":0.75,"label":"relevant","explanation":"on topic"},
                     "tone":{"label":"polite"}}},
                   "span_attributes":{"name":"answer","type":"task"}})");
}

}  // namespace
}  // namespace arbor::ingest::otlp
