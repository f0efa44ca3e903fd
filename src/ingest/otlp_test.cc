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
           wrap(span + Len(9, KV("k", Len(3, "not a varint")))),  // AnyValue.int as bytes
       }) {
    EXPECT_EQ(DecodeTraces(bad, Encoding::kProtobuf).status().code(), StatusCode::kInvalidArgument)
        << HexEncode(bad);
  }
}

// A well-formed span without usable ids is rejected alone (partial_success at the route),
// next to the good span of the same request.
TEST(Otlp, SpansWithoutUsableIdsAreRejectedAlone) {
  std::string good = PbSpan{kTrace, kRoot, "", "n", 0, 0, {}, 0, ""}.Encode();
  auto wrap = [](const std::string& s) { return Len(1, Len(2, Len(2, s))); };
  for (const std::string& bad : {
           Len(1, Bytes("abcd")) + Len(2, Bytes(kRoot)),  // 2-byte trace id
           Len(2, Bytes(kRoot)),                          // no trace id
           Len(1, Bytes(kTrace)),                         // no span id
       }) {
    auto rows = DecodeTraces(wrap(good) + wrap(bad), Encoding::kProtobuf);
    ASSERT_TRUE(rows.ok()) << rows.status().ToString();
    ASSERT_EQ(rows->size(), 2u);
    EXPECT_EQ((*rows)[0].rejected, "");
    EXPECT_NE((*rows)[1].rejected, "") << HexEncode(bad);
  }
  for (const char* bad : {
           R"({"spanId":"b7ad6b7169203331"})",
           R"({"traceId":"xyz","spanId":"b7ad6b7169203331"})",
           R"({"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"zzzzzzzzzzzzzzzz"})",
       }) {
    std::string body = std::string(R"({"resourceSpans":[{"scopeSpans":[{"spans":[)") + bad +
                       R"(,{"traceId":"0af7651916cd43dd8448eb211c80319c",
                            "spanId":"b7ad6b7169203331"}]}]}]})";
    auto rows = DecodeTraces(body, Encoding::kJson);
    ASSERT_TRUE(rows.ok()) << rows.status().ToString();
    ASSERT_EQ(rows->size(), 2u);
    EXPECT_NE((*rows)[0].rejected.find("Id"), std::string::npos) << (*rows)[0].rejected;
    EXPECT_EQ((*rows)[1].rejected, "");
  }
}

TEST(Otlp, ExportResponsesCarryPartialSuccess) {
  EXPECT_EQ(ExportResponse(Encoding::kJson, false, 0, ""), "{}");
  EXPECT_EQ(ExportResponse(Encoding::kProtobuf, true, 0, ""), "");
  EXPECT_EQ(json::Parse(ExportResponse(Encoding::kJson, false, 2, "why")).value(),
            json::Parse(R"({"partialSuccess":{"rejectedSpans":2,"errorMessage":"why"}})").value());
  EXPECT_EQ(
      json::Parse(ExportResponse(Encoding::kJson, true, 1, "x")).value(),
      json::Parse(R"({"partialSuccess":{"rejectedLogRecords":1,"errorMessage":"x"}})").value());
  EXPECT_EQ(ExportResponse(Encoding::kProtobuf, false, 300, "why"),
            Len(1, VarintField(1, 300) + Len(2, "why")));
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
  p = ParseParent("playground_id:ps-1");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->kind, ParentKind::kPlaygroundId);
  EXPECT_EQ(p->value, "ps-1");
  EXPECT_EQ(p->span_id, "");
  for (const char* bad : {"", "project_id:", "project_id:nope", "playground_id:", "AwICAQ==",
                          "project_name:", "not a parent", "experiment_id:x"}) {
    EXPECT_EQ(ParseParent(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

// ---------------------------------------------------------------------------------------
// Span export strings (protocol §7.5), built byte by byte from the layout: version,
// object type, packed-field count, packed fields (id byte + raw bytes), JSON remainder.

std::string B64(std::string_view in) {
  static constexpr char table[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (std::size_t i = 0; i < in.size(); i += 3) {
    std::uint32_t n = static_cast<std::uint32_t>(static_cast<std::uint8_t>(in[i])) << 16;
    if (i + 1 < in.size())
      n |= static_cast<std::uint32_t>(static_cast<std::uint8_t>(in[i + 1])) << 8;
    if (i + 2 < in.size()) n |= static_cast<std::uint8_t>(in[i + 2]);
    out.push_back(table[(n >> 18) & 63]);
    out.push_back(table[(n >> 12) & 63]);
    out.push_back(i + 1 < in.size() ? table[(n >> 6) & 63] : '=');
    out.push_back(i + 2 < in.size() ? table[n & 63] : '=');
  }
  return out;
}
std::string Header(int version, int object_type, int packed) {
  return {static_cast<char>(version), static_cast<char>(object_type), static_cast<char>(packed)};
}
std::string Packed(int field, std::string_view hex) {
  return std::string(1, static_cast<char>(field)) + Bytes(hex);
}

constexpr char kExpUuid[] = "0b5c6f43-4d57-4b6e-9d4e-9a0f1c2d3e4f";
constexpr char kExpHex[] = "0b5c6f434d574b6e9d4e9a0f1c2d3e4f";
constexpr char kRowHex[] = "11111111222243338444555555555555";
constexpr char kSpanUuid[] = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee";
constexpr char kSpanHex[] = "aaaaaaaabbbb4ccc8dddeeeeeeeeeeee";
constexpr char kRootUuid[] = "fedcba98-7654-4321-8fed-cba987654321";
constexpr char kRootHex[] = "fedcba98765443218fedcba987654321";

TEST(Otlp, ParsesUuidPackedSpanExports) {
  // v3, experiment, all four ids packed as UUIDs, no JSON.
  std::string blob = Header(3, 1, 4) + Packed(1, kExpHex) + Packed(2, kRowHex) +
                     Packed(3, kSpanHex) + Packed(4, kRootHex);
  auto p = ParseParent(B64(blob));
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->kind, ParentKind::kExperimentId);
  EXPECT_EQ(p->value, kExpUuid);
  EXPECT_EQ(p->span_id, kSpanUuid);
  EXPECT_EQ(p->root_span_id, kRootUuid);
  // The row id is carried but not used: rows hang under the span, not the row.

  // v3, project logs: the UUID object id packed, hex span ids (not UUIDs) in the JSON.
  blob = Header(3, 2, 1) + Packed(1, kExpHex) +
         R"({"row_id":"r1","span_id":"b7ad6b7169203331","root_span_id":")" + kTrace + R"("})";
  p = ParseParent(B64(blob));
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->kind, ParentKind::kProjectId);
  EXPECT_EQ(p->value, kExpUuid);
  EXPECT_EQ(p->span_id, "b7ad6b7169203331");
  EXPECT_EQ(p->root_span_id, kTrace);

  // v3, playground logs, object alone; unpadded base64 is accepted too.
  blob = Header(3, 3, 1) + Packed(1, kExpHex);
  std::string text = B64(blob);
  while (text.back() == '=') text.pop_back();
  p = ParseParent(text);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->kind, ParentKind::kPlaygroundId);
  EXPECT_EQ(p->value, kExpUuid);
  EXPECT_EQ(p->span_id, "");
}

TEST(Otlp, ParsesHexPackedSpanExports) {
  // v4, project logs: span_id as 8 raw bytes, root_span_id as 16; object_id and row_id in
  // the JSON (v4 never packs them).
  std::string blob = Header(4, 2, 2) + Packed(3, kRoot) + Packed(4, kTrace) + R"({"object_id":")" +
                     kExpUuid + R"(","row_id":"row-1"})";
  auto p = ParseParent(B64(blob));
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->kind, ParentKind::kProjectId);
  EXPECT_EQ(p->value, kExpUuid);
  EXPECT_EQ(p->span_id, kRoot);
  EXPECT_EQ(p->root_span_id, kTrace);

  // v4, a logger that has not registered its project yet: compute_object_metadata_args. The
  // literal is the same blob spelled out (04 02 00 + JSON), as the JS SDK sends it.
  blob = Header(4, 2, 0) + R"({"compute_object_metadata_args":{"project_name":"otel demo"}})";
  constexpr char literal[] =
      "BAIAeyJjb21wdXRlX29iamVjdF9tZXRhZGF0YV9hcmdzIjp7InByb2plY3RfbmFtZSI6Im90ZWwgZGVtbyJ9fQ==";
  ASSERT_EQ(B64(blob), literal);
  p = ParseParent(literal);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->kind, ParentKind::kProjectName);
  EXPECT_EQ(p->value, "otel demo");
  EXPECT_EQ(p->span_id, "");

  // compute_object_metadata_args.project_id is a project id.
  blob = Header(4, 2, 0) + R"({"compute_object_metadata_args":{"project_id":")" + kExpUuid +
         R"("},"propagated_event":{"span_attributes":{"purpose":"scorer"}}})";
  p = ParseParent(B64(blob));
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->kind, ParentKind::kProjectId);
  EXPECT_EQ(p->value, kExpUuid);

  // v4, experiment with non-hex span ids: they stay in the JSON.
  blob = Header(4, 1, 0) + R"({"object_id":")" + kExpUuid +
         R"(","row_id":"x","span_id":"s-1","root_span_id":"r-1"})";
  p = ParseParent(B64(blob));
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->kind, ParentKind::kExperimentId);
  EXPECT_EQ(p->span_id, "s-1");
  EXPECT_EQ(p->root_span_id, "r-1");
}

TEST(Otlp, RejectsBadSpanExports) {
  const std::string obj = std::string(R"({"object_id":")") + kExpUuid + R"("})";
  for (const std::string& blob : {
           Header(2, 2, 0) + obj,                     // legacy version
           Header(5, 2, 0) + obj,                     // future version
           Header(4, 4, 0) + obj,                     // unknown object type
           std::string("\x04\x02", 2),                // short header
           Header(3, 2, 1) + Packed(1, "0b5c6f43"),   // packed UUID cut short
           Header(4, 2, 2) + Packed(3, kRoot),        // count says two, one given
           Header(4, 2, 1) + Packed(9, kRoot) + obj,  // unknown packed field
           Header(4, 2, 0) + "[1]",                   // JSON not an object
           Header(4, 2, 0) + "{oops",                 // JSON broken
           Header(4, 2, 0) + R"({"object_id":7})",    // id not a string
           Header(4, 2, 0),                           // project logs with no project
           Header(4, 1, 0) + R"({"compute_object_metadata_args":{"project_name":"p"}})",
           Header(4, 3, 0) + "{}",  // playground with no id
           Header(4, 2, 0) + R"({"object_id":"not-a-uuid"})",
           Header(4, 2, 1) + Packed(3, kRoot) + obj,  // span_id without root_span_id
           Header(4, 2, 0) + R"({"compute_object_metadata_args":"p"})",
       }) {
    EXPECT_EQ(ParseParent(B64(blob)).status().code(), StatusCode::kInvalidArgument)
        << HexEncode(blob);
  }
  EXPECT_EQ(ParseParent("BAIA$$$$").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseParent("BAIAe").status().code(), StatusCode::kInvalidArgument);
}

TEST(Otlp, ExportedSpanParentNestsTheTrace) {
  std::string blob = Header(4, 2, 2) + Packed(3, "1234567890abcdef") +
                     Packed(4, "00112233445566778899aabbccddeeff") + R"({"object_id":")" +
                     kExpUuid + R"("})";
  auto parent = ParseParent(B64(blob));
  ASSERT_TRUE(parent.ok()) << parent.status().ToString();
  auto rows = DecodeTraces(PbRequest({BraintrustRoot(), GenAiChild()}), Encoding::kProtobuf);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  for (auto& r : *rows) NestUnder(*parent, r.row);
  // The OTel root hangs under the exported span; its child keeps its OTel parent. Both take
  // the exported root_span_id, so the whole trace is one Braintrust trace.
  EXPECT_EQ(json::Serialize((*rows)[0].row.at("span_parents")), R"(["1234567890abcdef"])");
  EXPECT_EQ((*rows)[0].row.at("root_span_id"), "00112233445566778899aabbccddeeff");
  EXPECT_EQ(json::Serialize((*rows)[1].row.at("span_parents")), R"(["b7ad6b7169203331"])");
  EXPECT_EQ((*rows)[1].row.at("root_span_id"), "00112233445566778899aabbccddeeff");

  // A parent without a span (plain forms, object-only exports) leaves rows alone.
  auto plain = ParseParent(std::string("project_id:") + kExpUuid);
  ASSERT_TRUE(plain.ok());
  auto again = DecodeTraces(PbRequest({BraintrustRoot()}), Encoding::kProtobuf);
  ASSERT_TRUE(again.ok());
  NestUnder(*plain, (*again)[0].row);
  ExpectRow((*again)[0], kRootRow);
}

// ---------------------------------------------------------------------------------------
// Phoenix routing: x-project-name header and resource openinference.project.name.

TEST(Otlp, ResourceProjectNameAndParentPrecedence) {
  constexpr char request[] = R"({"resourceSpans":[
    {"resource":{"attributes":[{"key":"openinference.project.name",
                                "value":{"stringValue":"phoenix-proj"}}]},
     "scopeSpans":[{"spans":[{"traceId":"0af7651916cd43dd8448eb211c80319c",
                              "spanId":"1111111111111111","name":"a"}]}]},
    {"scopeSpans":[{"spans":[{"traceId":"0af7651916cd43dd8448eb211c80319c",
                              "spanId":"2222222222222222","name":"b"}]}]}]})";
  auto rows = DecodeTraces(request, Encoding::kJson);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].project_name, "phoenix-proj");
  EXPECT_EQ((*rows)[1].project_name, "");
  // The resource attribute routes, it is not stored.
  EXPECT_FALSE((*rows)[0].row.contains("metadata"));

  // Protobuf, with the resource after the spans on the wire.
  std::string scope = Len(2, PbSpan{kTrace, kRoot, "", "n", 0, 0, {}, 0, ""}.Encode());
  std::string resource = Attr(1, "openinference.project.name", Str("pb-proj"));
  auto pb = DecodeTraces(Len(1, Len(2, scope) + Len(1, resource)), Encoding::kProtobuf);
  ASSERT_TRUE(pb.ok()) << pb.status().ToString();
  EXPECT_EQ((*pb)[0].project_name, "pb-proj");

  SpanRow r = (*rows)[0];
  EXPECT_EQ(ParentFor(r, "", ""), "project_name:phoenix-proj");
  EXPECT_EQ(ParentFor(r, "", "hdr"), "project_name:hdr");
  EXPECT_EQ(ParentFor(r, "project_name:bt", "hdr"), "project_name:bt");
  r.parent = "experiment_id:x";
  EXPECT_EQ(ParentFor(r, "project_name:bt", "hdr"), "experiment_id:x");
  EXPECT_EQ(ParentFor((*rows)[1], "", ""), "");
  EXPECT_EQ(ParentFor((*rows)[1], "", "hdr"), "project_name:hdr");
}

// ---------------------------------------------------------------------------------------
// OpenInference dialect.

TEST(Otlp, OpenInferenceLlmSpan) {
  PbSpan s{kTrace, kChild, kRoot, "ChatCompletion", kStart, kEnd, {}, 0, ""};
  s.attrs = {
      {"openinference.span.kind", Str("LLM")},
      {"llm.model_name", Str("gpt-4o-mini")},
      {"llm.provider", Str("openai")},
      {"input.value", Str(R"({"messages":[{"role":"user","content":"weather?"}]})")},
      {"input.mime_type", Str("application/json")},
      {"llm.input_messages.0.message.role", Str("system")},
      {"llm.input_messages.0.message.content", Str("be brief")},
      {"llm.input_messages.1.message.role", Str("user")},
      {"llm.input_messages.1.message.contents.0.message_content.type", Str("text")},
      {"llm.input_messages.1.message.contents.0.message_content.text", Str("weather?")},
      {"llm.input_messages.1.message.contents.1.message_content.type", Str("image")},
      {"llm.input_messages.1.message.contents.1.message_content.image.image.url",
       Str("https://x/y.png")},
      {"llm.output_messages.0.message.role", Str("assistant")},
      {"llm.output_messages.0.message.tool_calls.0.tool_call.id", Str("call_1")},
      {"llm.output_messages.0.message.tool_calls.0.tool_call.function.name", Str("weather")},
      {"llm.output_messages.0.message.tool_calls.0.tool_call.function.arguments",
       Str(R"({"city":"Paris"})")},
      {"llm.token_count.prompt", Int(20)},
      {"llm.token_count.completion", Int(8)},
      {"llm.token_count.total", Int(28)},
      {"llm.token_count.prompt_details.cache_read", Int(4)},
  };
  auto rows = DecodeTraces(PbRequest({s}), Encoding::kProtobuf);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ExpectRow((*rows)[0], R"({
    "id":"00f067aa0ba902b7","span_id":"00f067aa0ba902b7",
    "root_span_id":"0af7651916cd43dd8448eb211c80319c","span_parents":["b7ad6b7169203331"],
    "created":"2023-11-14T22:13:20.500Z",
    "input":[{"role":"system","content":"be brief"},
             {"role":"user","content":[{"type":"text","text":"weather?"},
                                       {"type":"image_url","image_url":{"url":"https://x/y.png"}}]}],
    "output":[{"role":"assistant","tool_calls":[{"id":"call_1","type":"function",
               "function":{"name":"weather","arguments":"{\"city\":\"Paris\"}"}}]}],
    "metadata":{"openinference.span.kind":"LLM","llm.model_name":"gpt-4o-mini",
                "llm.provider":"openai","model":"gpt-4o-mini",
                "input.value":"{\"messages\":[{\"role\":\"user\",\"content\":\"weather?\"}]}",
                "input.mime_type":"application/json",
                "llm.token_count.prompt":20,"llm.token_count.completion":8,
                "llm.token_count.total":28,"llm.token_count.prompt_details.cache_read":4},
    "metrics":{"start":1700000000.5,"end":1700000002.25,"prompt_tokens":20,
               "completion_tokens":8,"tokens":28,"prompt_cached_tokens":4},
    "span_attributes":{"name":"ChatCompletion","type":"llm"}})");
}

TEST(Otlp, OpenInferenceValuesAndSpanKinds) {
  constexpr char request[] = R"({"resourceSpans":[{"scopeSpans":[{"spans":[
    {"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"1111111111111111","name":"chain",
     "attributes":[
      {"key":"openinference.span.kind","value":{"stringValue":"CHAIN"}},
      {"key":"input.value","value":{"stringValue":"{\"q\":1}"}},
      {"key":"input.mime_type","value":{"stringValue":"application/json"}},
      {"key":"output.value","value":{"stringValue":"{\"not\":\"parsed\"}"}},
      {"key":"output.mime_type","value":{"stringValue":"text/plain"}}]},
    {"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"2222222222222222","name":"tool",
     "parentSpanId":"1111111111111111","attributes":[
      {"key":"openinference.span.kind","value":{"stringValue":"TOOL"}},
      {"key":"input.value","value":{"stringValue":"{broken"}},
      {"key":"input.mime_type","value":{"stringValue":"application/json"}},
      {"key":"output.value","value":{"stringValue":"sunny"}}]},
    {"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"3333333333333333","name":"r",
     "attributes":[{"key":"openinference.span.kind","value":{"stringValue":"RETRIEVER"}},
      {"key":"braintrust.input_json","value":{"stringValue":"\"explicit\""}},
      {"key":"input.value","value":{"stringValue":"ignored"}}]},
    {"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"4444444444444444","name":"a",
     "attributes":[{"key":"openinference.span.kind","value":{"stringValue":"AGENT"}}]},
    {"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"5555555555555555","name":"e",
     "attributes":[{"key":"openinference.span.kind","value":{"stringValue":"EVALUATOR"}},
      {"key":"llm.token_count.prompt","value":{"intValue":"3"}},
      {"key":"llm.token_count.completion","value":{"stringValue":"2"}}]}]}]}]})";
  auto rows = DecodeTraces(request, Encoding::kJson);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 5u);
  ExpectRow((*rows)[0], R"({
    "id":"1111111111111111","span_id":"1111111111111111",
    "root_span_id":"0af7651916cd43dd8448eb211c80319c",
    "input":{"q":1},"output":"{\"not\":\"parsed\"}",
    "metadata":{"openinference.span.kind":"CHAIN"},
    "span_attributes":{"name":"chain","type":"task"}})");
  ExpectRow((*rows)[1], R"({
    "id":"2222222222222222","span_id":"2222222222222222",
    "root_span_id":"0af7651916cd43dd8448eb211c80319c","span_parents":["1111111111111111"],
    "input":"{broken","output":"sunny",
    "metadata":{"openinference.span.kind":"TOOL"},
    "span_attributes":{"name":"tool","type":"tool"}})");
  ExpectRow((*rows)[2], R"({
    "id":"3333333333333333","span_id":"3333333333333333",
    "root_span_id":"0af7651916cd43dd8448eb211c80319c",
    "input":"explicit","metadata":{"openinference.span.kind":"RETRIEVER","input.value":"ignored"},
    "span_attributes":{"name":"r","type":"function"}})");
  EXPECT_EQ((*rows)[3].row.at("span_attributes").at("type"), "task");
  EXPECT_EQ((*rows)[4].row.at("span_attributes").at("type"), "score");
  EXPECT_EQ(json::Serialize((*rows)[4].row.at("metrics")),
            R"({"prompt_tokens":3,"completion_tokens":2,"tokens":5})");
}

}  // namespace
}  // namespace arbor::ingest::otlp
