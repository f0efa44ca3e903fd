#include "ingest/otlp.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <cstring>

#include "base/util.h"
#include "json/json.h"

namespace arbor::ingest::otlp {
namespace {

namespace bj = boost::json;

// ---------------------------------------------------------------------------------------
// A minimal protobuf writer, so the golden inputs are spelled field by field.

std::string Varint(std::uint64_t v) {
  std::string out;
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
  return out;
}
std::string Tag(std::uint32_t field, std::uint32_t wire) { return Varint((field << 3) | wire); }
std::string Len(std::uint32_t field, std::string_view bytes) {
  return Tag(field, 2) + Varint(bytes.size()) + std::string(bytes);
}
std::string VarintField(std::uint32_t field, std::uint64_t v) { return Tag(field, 0) + Varint(v); }
std::string Fixed64(std::uint32_t field, std::uint64_t v) {
  std::string out = Tag(field, 1);
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
  return out;
}
std::string Bytes(std::string_view hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

// AnyValue builders.
std::string Str(std::string_view s) { return Len(1, s); }
std::string Bool(bool b) { return VarintField(2, b ? 1 : 0); }
std::string Int(std::int64_t i) { return VarintField(3, static_cast<std::uint64_t>(i)); }
std::string Dbl(double d) {
  std::uint64_t bits;
  std::memcpy(&bits, &d, 8);
  return Fixed64(4, bits);
}
std::string KV(std::string_view key, const std::string& any_value) {
  return Len(1, key) + Len(2, any_value);
}
std::string Attr(std::uint32_t field, std::string_view key, const std::string& any_value) {
  return Len(field, KV(key, any_value));
}

struct PbSpan {
  std::string trace_hex, span_hex, parent_hex, name;
  std::uint64_t start_ns = 0, end_ns = 0;
  std::vector<std::pair<std::string, std::string>> attrs;  // key, AnyValue bytes
  std::int64_t status_code = 0;
  std::string status_message;
  std::string Encode() const {
    std::string s = Len(1, Bytes(trace_hex)) + Len(2, Bytes(span_hex));
    if (!parent_hex.empty()) s += Len(4, Bytes(parent_hex));
    s += Len(5, name) + VarintField(6, 1) + Fixed64(7, start_ns) + Fixed64(8, end_ns);
    for (const auto& [k, v] : attrs) s += Attr(9, k, v);
    if (status_code != 0) s += Len(15, Len(2, status_message) + VarintField(3, status_code));
    return s;
  }
};

std::string PbRequest(const std::vector<PbSpan>& spans) {
  std::string scope_spans = Len(1, Len(1, "my-scope") + Len(2, "1.0"));
  for (const auto& s : spans) scope_spans += Len(2, s.Encode());
  std::string resource = Attr(1, "service.name", Str("svc"));
  std::string resource_spans = Len(1, resource) + Len(2, scope_spans);
  return Len(1, resource_spans);
}

bj::object Row(std::string_view text) { return json::Parse(text).value().as_object(); }

void ExpectRow(const SpanRow& got, std::string_view want) {
  EXPECT_TRUE(json::Equals(got.row, Row(want)))
      << "got:  " << json::Serialize(got.row) << "\nwant: " << json::Serialize(Row(want));
}

constexpr char kTrace[] = "0af7651916cd43dd8448eb211c80319c";
constexpr char kRoot[] = "b7ad6b7169203331";
constexpr char kChild[] = "00f067aa0ba902b7";
constexpr std::uint64_t kStart = 1'700'000'000'500'000'000;  // 1700000000.5 s
constexpr std::uint64_t kEnd = 1'700'000'002'250'000'000;    // 1700000002.25 s

// The same two-span trace in both encodings: a Braintrust-dialect root, a GenAI child.
PbSpan BraintrustRoot() {
  PbSpan s{kTrace, kRoot, "", "root-task", kStart, kEnd, {}, 0, ""};
  s.attrs = {{"braintrust.input_json", Str(R"({"question":"2+2?"})")},
             {"braintrust.output_json", Str("4")},
             {"braintrust.expected_json", Str(R"("4")")},
             {"braintrust.metadata", Str(R"({"user":"u1"})")},
             {"braintrust.metrics", Str(R"({"custom":1.5})")},
             {"braintrust.scores", Str(R"({"accuracy":1})")},
             {"braintrust.span_attributes", Str(R"({"type":"eval"})")},
             {"braintrust.tags", Len(5, Len(1, Str("a")) + Len(1, Str("b")))},
             {"braintrust.parent", Str("project_name:from-attr")},
             {"http.method", Str("GET")}};
  return s;
}

constexpr char kRootRow[] = R"({
  "id":"b7ad6b7169203331","span_id":"b7ad6b7169203331",
  "root_span_id":"0af7651916cd43dd8448eb211c80319c",
  "created":"2023-11-14T22:13:20.500Z",
  "input":{"question":"2+2?"},"output":4,"expected":"4",
  "scores":{"accuracy":1},"tags":["a","b"],
  "metadata":{"http.method":"GET","user":"u1"},
  "metrics":{"start":1700000000.5,"end":1700000002.25,"custom":1.5},
  "span_attributes":{"name":"root-task","type":"eval"}})";

PbSpan GenAiChild() {
  PbSpan s{kTrace, kChild, kRoot, "chat gpt-4o", kStart, kEnd, {}, 0, ""};
  s.attrs = {
      {"gen_ai.operation.name", Str("chat")},
      {"gen_ai.request.model", Str("gpt-4o")},
      {"gen_ai.response.model", Str("gpt-4o-2024-08-06")},
      {"gen_ai.input.messages",
       Str(R"([{"role":"user","parts":[{"type":"text","content":"hi"}]}])")},
      {"gen_ai.output.messages",
       Str(R"([{"role":"assistant","parts":[{"type":"text","content":"hello"}]}])")},
      {"gen_ai.usage.input_tokens", Int(12)},
      {"gen_ai.usage.output_tokens", Int(5)},
  };
  return s;
}

constexpr char kChildRow[] = R"({
  "id":"00f067aa0ba902b7","span_id":"00f067aa0ba902b7",
  "root_span_id":"0af7651916cd43dd8448eb211c80319c","span_parents":["b7ad6b7169203331"],
  "created":"2023-11-14T22:13:20.500Z",
  "input":[{"role":"user","parts":[{"type":"text","content":"hi"}]}],
  "output":[{"role":"assistant","parts":[{"type":"text","content":"hello"}]}],
  "metadata":{"gen_ai.operation.name":"chat","gen_ai.request.model":"gpt-4o",
              "gen_ai.response.model":"gpt-4o-2024-08-06","gen_ai.usage.input_tokens":12,
              "gen_ai.usage.output_tokens":5,"model":"gpt-4o-2024-08-06"},
  "metrics":{"start":1700000000.5,"end":1700000002.25,"prompt_tokens":12,
             "completion_tokens":5,"tokens":17},
  "span_attributes":{"name":"chat gpt-4o","type":"llm"}})";

// The same request in OTLP/JSON, as @opentelemetry/exporter-trace-otlp-http sends it.
constexpr char kJsonRequest[] = R"({"resourceSpans":[{
  "resource":{"attributes":[{"key":"service.name","value":{"stringValue":"svc"}}]},
  "scopeSpans":[{"scope":{"name":"my-scope","version":"1.0"},"spans":[
   {"traceId":"0AF7651916CD43DD8448EB211C80319C","spanId":"b7ad6b7169203331","parentSpanId":"",
    "name":"root-task","kind":1,"startTimeUnixNano":"1700000000500000000",
    "endTimeUnixNano":1700000002250000000,"attributes":[
     {"key":"braintrust.input_json","value":{"stringValue":"{\"question\":\"2+2?\"}"}},
     {"key":"braintrust.output_json","value":{"stringValue":"4"}},
     {"key":"braintrust.expected_json","value":{"stringValue":"\"4\""}},
     {"key":"braintrust.metadata","value":{"stringValue":"{\"user\":\"u1\"}"}},
     {"key":"braintrust.metrics","value":{"stringValue":"{\"custom\":1.5}"}},
     {"key":"braintrust.scores","value":{"stringValue":"{\"accuracy\":1}"}},
     {"key":"braintrust.span_attributes","value":{"stringValue":"{\"type\":\"eval\"}"}},
     {"key":"braintrust.tags","value":{"arrayValue":{"values":[{"stringValue":"a"},
                                                              {"stringValue":"b"}]}}},
     {"key":"braintrust.parent","value":{"stringValue":"project_name:from-attr"}},
     {"key":"http.method","value":{"stringValue":"GET"}}],
    "events":[],"status":{"code":0}},
   {"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"00f067aa0ba902b7",
    "parentSpanId":"b7ad6b7169203331","name":"chat gpt-4o","kind":3,
    "startTimeUnixNano":"1700000000500000000","endTimeUnixNano":"1700000002250000000",
    "attributes":[
     {"key":"gen_ai.operation.name","value":{"stringValue":"chat"}},
     {"key":"gen_ai.request.model","value":{"stringValue":"gpt-4o"}},
     {"key":"gen_ai.response.model","value":{"stringValue":"gpt-4o-2024-08-06"}},
     {"key":"gen_ai.input.messages","value":{"stringValue":
       "[{\"role\":\"user\",\"parts\":[{\"type\":\"text\",\"content\":\"hi\"}]}]"}},
     {"key":"gen_ai.output.messages","value":{"stringValue":
       "[{\"role\":\"assistant\",\"parts\":[{\"type\":\"text\",\"content\":\"hello\"}]}]"}},
     {"key":"gen_ai.usage.input_tokens","value":{"intValue":"12"}},
     {"key":"gen_ai.usage.output_tokens","value":{"intValue":5}}]}]}]}]})";

TEST(Otlp, ProtobufBraintrustAndGenAiDialects) {
  auto rows = DecodeTraces(PbRequest({BraintrustRoot(), GenAiChild()}), Encoding::kProtobuf);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 2u);
  ExpectRow((*rows)[0], kRootRow);
  EXPECT_EQ((*rows)[0].parent, "project_name:from-attr");
  ExpectRow((*rows)[1], kChildRow);
  EXPECT_EQ((*rows)[1].parent, "");
}

TEST(Otlp, JsonGivesTheSameRowsAsProtobuf) {
  auto rows = DecodeTraces(kJsonRequest, Encoding::kJson);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 2u);
  ExpectRow((*rows)[0], kRootRow);
  EXPECT_EQ((*rows)[0].parent, "project_name:from-attr");
  ExpectRow((*rows)[1], kChildRow);
}

TEST(Otlp, DeprecatedGenAiNamesAndErrorStatus) {
  constexpr char request[] = R"({"resourceSpans":[{"scopeSpans":[{"spans":[
    {"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"1111111111111111",
     "parentSpanId":"0000000000000000","name":"completion",
     "attributes":[
      {"key":"gen_ai.system","value":{"stringValue":"openai"}},
      {"key":"gen_ai.request.model","value":{"stringValue":"gpt-3.5"}},
      {"key":"gen_ai.prompt","value":{"stringValue":"[{\"role\":\"user\",\"content\":\"q\"}]"}},
      {"key":"gen_ai.completion","value":{"stringValue":"plain text answer"}},
      {"key":"gen_ai.usage.prompt_tokens","value":{"intValue":"7"}},
      {"key":"gen_ai.usage.completion_tokens","value":{"intValue":"3"}}],
     "status":{"code":2,"message":"rate limited"}}]}]}]})";
  auto rows = DecodeTraces(request, Encoding::kJson);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 1u);
  ExpectRow((*rows)[0], R"({
    "id":"1111111111111111","span_id":"1111111111111111",
    "root_span_id":"0af7651916cd43dd8448eb211c80319c",
    "input":[{"role":"user","content":"q"}],"output":"plain text answer",
    "error":"rate limited",
    "metadata":{"gen_ai.system":"openai","gen_ai.request.model":"gpt-3.5",
                "gen_ai.usage.prompt_tokens":7,"gen_ai.usage.completion_tokens":3,
                "model":"gpt-3.5"},
    "metrics":{"prompt_tokens":7,"completion_tokens":3,"tokens":10},
    "span_attributes":{"name":"completion","type":"llm"}})");
}

TEST(Otlp, ErrorFallsBackToExceptionEvent) {
  constexpr char request[] = R"({"resourceSpans":[{"scopeSpans":[{"spans":[
    {"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"1111111111111111","name":"x",
     "events":[{"name":"exception","attributes":[
       {"key":"exception.type","value":{"stringValue":"ValueError"}},
       {"key":"exception.message","value":{"stringValue":"bad"}}]}],
     "status":{"code":"STATUS_CODE_ERROR"}}]}]}]})";
  auto rows = DecodeTraces(request, Encoding::kJson);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ((*rows)[0].row.at("error"), "ValueError: bad");
  EXPECT_EQ((*rows)[0].row.at("span_attributes").at("type"), "task");
}

TEST(Otlp, AnyValueKindsLandInMetadata) {
  PbSpan s{kTrace, kRoot, "", "kinds", 0, 0, {}, 0, ""};
  s.attrs = {{"b", Bool(true)},
             {"i", Int(-42)},
             {"d", Dbl(0.25)},
             {"arr", Len(5, Len(1, Int(1)) + Len(1, Str("two")))},
             {"kv", Len(6, Len(1, KV("k", Str("v"))))},
             {"bytes", Len(7, "hi!")},
             {"empty", ""},
             // Not JSON: stays in metadata under its own key (protocol §6).
             {"braintrust.input_json", Str("{not json")},
             {"braintrust.scores", Str(R"({"s":"high"})")}};
  auto rows = DecodeTraces(PbRequest({s}), Encoding::kProtobuf);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ExpectRow((*rows)[0], R"({
    "id":"b7ad6b7169203331","span_id":"b7ad6b7169203331",
    "root_span_id":"0af7651916cd43dd8448eb211c80319c",
    "metadata":{"b":true,"i":-42,"d":0.25,"arr":[1,"two"],"kv":{"k":"v"},"bytes":"aGkh",
                "empty":null,"braintrust.input_json":"{not json",
                "braintrust.scores":"{\"s\":\"high\"}"},
    "span_attributes":{"name":"kinds","type":"task"}})");
}

TEST(Otlp, UnknownFieldsAreSkipped) {
  // trace_state (3), flags (16), links (13), a future field 99 of each wire type.
  std::string extra = Len(3, "k=v") + Fixed64(16, 1) + Len(13, "whatever") + VarintField(99, 5) +
                      Tag(98, 5) + "abcd";
  std::string span = PbSpan{kTrace, kRoot, "", "n", 0, 0, {}, 0, ""}.Encode() + extra;
  std::string req = Len(1, Len(2, Len(2, span)) + Len(3, "schema")) + VarintField(7, 1);
  auto rows = DecodeTraces(req, Encoding::kProtobuf);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(rows->size(), 1u);
}

TEST(Otlp, EmptyRequestsHaveNoRows) {
  EXPECT_TRUE(DecodeTraces("", Encoding::kProtobuf)->empty());
  EXPECT_TRUE(DecodeTraces("{}", Encoding::kJson)->empty());
  EXPECT_TRUE(DecodeTraces(R"({"resourceSpans":[]})", Encoding::kJson)->empty());
}

TEST(Otlp, EveryTruncationOfAProtobufRequestFails) {
  std::string req = PbRequest({BraintrustRoot(), GenAiChild()});
  for (std::size_t n = 1; n < req.size(); ++n) {
    auto rows = DecodeTraces(std::string_view(req).substr(0, n), Encoding::kProtobuf);
    EXPECT_EQ(rows.status().code(), StatusCode::kInvalidArgument) << "prefix " << n;
  }
}

TEST(Otlp, MalformedProtobufFails) {
  std::string span = PbSpan{kTrace, kRoot, "", "n", 0, 0, {}, 0, ""}.Encode();
  auto wrap = [](const std::string& s) { return Len(1, Len(2, Len(2, s))); };
  for (const std::string& bad : {
           std::string("\x0b", 1),                                // field 1, wire type 3 (group)
           std::string("\x00\x01", 2),                            // field number 0
           std::string("\x0a\xff\xff\xff\xff\x0f"),               // length far past the end
           std::string(11, '\xff'),                               // varint longer than 10 bytes
           VarintField(1, 5),                                     // resource_spans as a varint
           wrap(span + VarintField(5, 1)),                        // Span.name as a varint
           wrap(span + Len(7, "12345678")),                       // start time length-delimited
           wrap(Len(1, Bytes("abcd")) + Len(2, Bytes(kRoot))),    // 2-byte trace id
           wrap(Len(2, Bytes(kRoot))),                            // no trace id
           wrap(Len(1, Bytes(kTrace))),                           // no span id
           wrap(span + Len(9, KV("k", Len(3, "not a varint")))),  // AnyValue.int as bytes
       }) {
    EXPECT_EQ(DecodeTraces(bad, Encoding::kProtobuf).status().code(), StatusCode::kInvalidArgument)
        << HexEncode(bad);
  }
}

TEST(Otlp, DeeplyNestedValuesFail) {
  std::string v = Int(1);
  for (std::size_t i = 0; i < value_depth_max + 1; ++i) v = Len(5, Len(1, v));
  PbSpan s{kTrace, kRoot, "", "n", 0, 0, {{"deep", v}}, 0, ""};
  auto rows = DecodeTraces(PbRequest({s}), Encoding::kProtobuf);
  EXPECT_EQ(rows.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(rows.status().message().find("nest"), std::string::npos);
}

TEST(Otlp, MalformedJsonFails) {
  for (const char* bad : {
           "{",
           "[]",
           R"({"resourceSpans":{}})",
           R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"spanId":"b7ad6b7169203331"}]}]}]})",
           R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"xyz",
               "spanId":"b7ad6b7169203331"}]}]}]})",
           R"({"resourceSpans":[{"scopeSpans":[{"spans":[
               {"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"zzzzzzzzzzzzzzzz"}]}]}]})",
           R"({"resourceSpans":[{"scopeSpans":[{"spans":[
               {"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203331",
                "startTimeUnixNano":"soon"}]}]}]})",
           // Attributes as an object (hand-rolled exporters): rejected, not misread.
           R"({"resourceSpans":[{"scopeSpans":[{"spans":[
               {"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203331",
                "attributes":{"a":"b"}}]}]}]})",
           R"({"resourceSpans":[{"scopeSpans":[{"spans":[
               {"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203331",
                "attributes":[{"key":"a","value":{"intValue":"1.5"}}]}]}]}]})",
       }) {
    EXPECT_EQ(DecodeTraces(bad, Encoding::kJson).status().code(), StatusCode::kInvalidArgument)
        << bad;
  }
}

std::string Gzip(std::string_view in) {
  z_stream zs;
  std::memset(&zs, 0, sizeof(zs));
  EXPECT_EQ(deflateInit2(&zs, Z_BEST_SPEED, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY),
            Z_OK);
  std::string out(deflateBound(&zs, in.size()), '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

TEST(Otlp, GunzipRoundTripsAndRejectsDamage) {
  std::string req = PbRequest({BraintrustRoot(), GenAiChild()});
  std::string gz = Gzip(req);
  auto back = Gunzip(gz);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, req);
  EXPECT_EQ(Gunzip(gz.substr(0, gz.size() / 2)).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Gunzip(gz + "trailing").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Gunzip(req).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Gunzip("").status().code(), StatusCode::kInvalidArgument);
}

TEST(Otlp, GunzipBoundsTheInflatedSize) {
  std::string big(inflated_bytes_max + 1, 'a');
  EXPECT_EQ(Gunzip(Gzip(big)).status().code(), StatusCode::kPayloadTooLarge);
}

TEST(Otlp, ParsesParents) {
  auto p = ParseParent("project_id:0b5c6f43-4d57-4b6e-9d4e-9a0f1c2d3e4f");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->kind, ParentKind::kProjectId);
  EXPECT_EQ(p->value, "0b5c6f43-4d57-4b6e-9d4e-9a0f1c2d3e4f");
  p = ParseParent("project_name:my project:x");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->kind, ParentKind::kProjectName);
  EXPECT_EQ(p->value, "my project:x");
  p = ParseParent("experiment_id:0b5c6f43-4d57-4b6e-9d4e-9a0f1c2d3e4f");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->kind, ParentKind::kExperimentId);
  for (const char* bad :
       {"", "project_id:", "project_id:nope", "playground_id:x", "AwICAQ==", "project_name:"}) {
    EXPECT_EQ(ParseParent(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

}  // namespace
}  // namespace arbor::ingest::otlp
