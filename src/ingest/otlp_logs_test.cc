// OTLP logs: the decoder in both encodings, gen_ai.evaluation.result records as score
// annotations, other records as child rows, and bad input.
#include <gtest/gtest.h>

#include <string>

#include "base/util.h"
#include "ingest/otlp.h"
#include "json/json.h"

namespace arbor::ingest::otlp {
namespace {

namespace bj = boost::json;

constexpr char kTrace[] = "0af7651916cd43dd8448eb211c80319c";
constexpr char kSpan[] = "b7ad6b7169203331";

// ---------------------------------------------------------------------------------------
// A minimal protobuf writer (as in otlp_test.cc).

std::string Varint(std::uint64_t v) {
  std::string out;
  for (; v >= 0x80; v >>= 7) out.push_back(static_cast<char>((v & 0x7F) | 0x80));
  out.push_back(static_cast<char>(v));
  return out;
}
std::string Tag(std::uint32_t field, std::uint32_t wire) { return Varint((field << 3) | wire); }
std::string Len(std::uint32_t field, std::string_view bytes) {
  return Tag(field, 2) + Varint(bytes.size()) + std::string(bytes);
}
std::string VarintField(std::uint32_t field, std::uint64_t v) { return Tag(field, 0) + Varint(v); }
std::string Fixed(std::uint32_t field, std::uint64_t v, int bytes) {
  std::string out = Tag(field, bytes == 8 ? 1 : 5);
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
  return out;
}
std::string Bytes(std::string_view hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}
std::string Str(std::string_view s) { return Len(1, s); }
std::string Dbl(double d) { return Fixed(4, std::bit_cast<std::uint64_t>(d), 8); }
std::string Attr(std::string_view key, const std::string& any_value) {
  return Len(6, Len(1, key) + Len(2, any_value));
}
std::string LogsRequest(const std::vector<std::string>& records) {
  std::string scope_logs = Len(1, Len(1, "my-scope"));
  for (const auto& r : records) scope_logs += Len(2, r);
  std::string resource = Len(1, Len(1, "service.name") + Len(2, Str("svc")));
  return Len(1, Len(1, resource) + Len(2, scope_logs));
}

constexpr std::uint64_t kTime = 1'700'000'000'500'000'000;  // 1700000000.5 s

// The same two records in both encodings: an evaluation of kSpan and an error log line.
std::string PbEvaluation() {
  return Fixed(1, kTime, 8) + Len(9, Bytes(kTrace)) + Len(10, Bytes(kSpan)) +
         Len(12, "gen_ai.evaluation.result") + Attr("gen_ai.evaluation.name", Str("relevance")) +
         Attr("gen_ai.evaluation.score.value", Dbl(0.5)) +
         Attr("gen_ai.evaluation.score.label", Str("partly")) +
         Attr("gen_ai.evaluation.explanation", Str("misses a step"));
}
std::string PbErrorLine() {
  return Fixed(1, kTime, 8) + VarintField(2, 17) + Len(3, "ERROR") + Len(5, Str("db timeout")) +
         Attr("db.system", Str("postgresql")) + Fixed(8, 1, 4) + Len(9, Bytes(kTrace)) +
         Len(10, Bytes(kSpan));
}

constexpr char kJsonLogs[] = R"({"resourceLogs":[{
  "resource":{"attributes":[{"key":"service.name","value":{"stringValue":"svc"}}]},
  "scopeLogs":[{"scope":{"name":"my-scope"},"logRecords":[
    {"timeUnixNano":"1700000000500000000","traceId":"0AF7651916CD43DD8448EB211C80319C",
     "spanId":"b7ad6b7169203331","eventName":"gen_ai.evaluation.result","attributes":[
      {"key":"gen_ai.evaluation.name","value":{"stringValue":"relevance"}},
      {"key":"gen_ai.evaluation.score.value","value":{"doubleValue":0.5}},
      {"key":"gen_ai.evaluation.score.label","value":{"stringValue":"partly"}},
      {"key":"gen_ai.evaluation.explanation","value":{"stringValue":"misses a step"}}]},
    {"timeUnixNano":1700000000500000000,"severityNumber":"SEVERITY_NUMBER_ERROR",
     "severityText":"ERROR","body":{"stringValue":"db timeout"},"flags":1,
     "traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203331",
     "attributes":[{"key":"db.system","value":{"stringValue":"postgresql"}}]}]}]}]})";

constexpr char kEvaluationRow[] = R"({"id":"b7ad6b7169203331","span_id":"b7ad6b7169203331",
  "root_span_id":"0af7651916cd43dd8448eb211c80319c","scores":{"relevance":0.5},
  "metadata":{"evaluations":{"relevance":{"score":0.5,"label":"partly",
                                          "explanation":"misses a step"}}}})";

void ExpectRows(const std::vector<SpanRow>& rows) {
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_TRUE(rows[0].annotation);
  EXPECT_EQ(rows[0].rejected, "");
  EXPECT_TRUE(json::Equals(rows[0].row, json::Parse(kEvaluationRow).value()))
      << json::Serialize(rows[0].row);
  const bj::object& line = rows[1].row;
  EXPECT_FALSE(rows[1].annotation);
  EXPECT_EQ(rows[1].rejected, "");
  std::string id(line.at("id").as_string());
  EXPECT_EQ(id.size(), 16u);
  EXPECT_NE(id, kSpan);
  bj::object want = json::Parse(R"({"root_span_id":"0af7651916cd43dd8448eb211c80319c",
    "span_parents":["b7ad6b7169203331"],"created":"2023-11-14T22:13:20.500Z",
    "output":"db timeout","error":"db timeout",
    "metadata":{"db.system":"postgresql","log.severity_text":"ERROR","log.severity_number":17},
    "metrics":{"start":1700000000.5,"end":1700000000.5},
    "span_attributes":{"name":"ERROR","type":"task"}})")
                        .value()
                        .as_object();
  want["id"] = id;
  want["span_id"] = id;
  EXPECT_TRUE(json::Equals(line, want)) << json::Serialize(line) << "\n" << json::Serialize(want);
}

TEST(OtlpLogs, ProtobufEvaluationAndLogLine) {
  auto rows = DecodeLogs(LogsRequest({PbEvaluation(), PbErrorLine()}), Encoding::kProtobuf);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ExpectRows(*rows);
}

TEST(OtlpLogs, JsonGivesTheSameRowsAsProtobuf) {
  auto rows = DecodeLogs(kJsonLogs, Encoding::kJson);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ExpectRows(*rows);
  auto pb = DecodeLogs(LogsRequest({PbEvaluation(), PbErrorLine()}), Encoding::kProtobuf);
  ASSERT_TRUE(pb.ok());
  // The record id hashes the record: the same record has the same id in both encodings (an
  // exporter retry rewrites the row), another record another id.
  EXPECT_EQ((*rows)[1].row.at("id"), (*pb)[1].row.at("id"));
  auto other = DecodeLogs(LogsRequest({PbErrorLine() + Attr("x", Str("y"))}), Encoding::kProtobuf);
  ASSERT_TRUE(other.ok());
  EXPECT_NE((*other)[0].row.at("id"), (*pb)[1].row.at("id"));
}

TEST(OtlpLogs, EventNameAttributeAndGenAiDetailsRecords) {
  // Older SDKs name events with the event.name attribute; a GenAI inference-details record
  // carries the messages, which map as on a span.
  constexpr char request[] = R"({"resourceLogs":[{"scopeLogs":[{"logRecords":[
    {"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203331","attributes":[
      {"key":"event.name","value":{"stringValue":"gen_ai.evaluation.result"}},
      {"key":"gen_ai.evaluation.name","value":{"stringValue":"f"}},
      {"key":"gen_ai.evaluation.score.value","value":{"intValue":"1"}}]},
    {"eventName":"gen_ai.client.inference.operation.details","attributes":[
      {"key":"gen_ai.request.model","value":{"stringValue":"m"}},
      {"key":"gen_ai.input.messages","value":{"stringValue":"[{\"role\":\"user\"}]"}}]}]}]}]})";
  auto rows = DecodeLogs(request, Encoding::kJson);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_TRUE((*rows)[0].annotation);
  EXPECT_EQ((*rows)[0].row.at("scores"), (bj::object{{"f", 1.0}}));
  const bj::object& details = (*rows)[1].row;
  EXPECT_EQ(details.at("input"), json::Parse(R"([{"role":"user"}])").value());
  EXPECT_EQ(details.at("span_attributes").at("type"), "llm");
  EXPECT_EQ(details.at("span_attributes").at("name"), "gen_ai.client.inference.operation.details");
  EXPECT_EQ(details.at("metadata").at("model"), "m");
  // Without trace context the record is the root of a trace of its own.
  EXPECT_FALSE(details.contains("span_parents"));
  EXPECT_EQ(details.at("root_span_id").as_string().size(), 32u);
}

TEST(OtlpLogs, UnusableRecordsAreRejectedAlone) {
  constexpr char request[] = R"({"resourceLogs":[{"scopeLogs":[{"logRecords":[
    {"eventName":"gen_ai.evaluation.result","attributes":[
      {"key":"gen_ai.evaluation.name","value":{"stringValue":"no span"}},
      {"key":"gen_ai.evaluation.score.value","value":{"doubleValue":1}}]},
    {"eventName":"gen_ai.evaluation.result","traceId":"0af7651916cd43dd8448eb211c80319c",
     "spanId":"b7ad6b7169203331","attributes":[
      {"key":"gen_ai.evaluation.score.value","value":{"doubleValue":1}}]},
    {"eventName":"gen_ai.evaluation.result","traceId":"0af7651916cd43dd8448eb211c80319c",
     "spanId":"b7ad6b7169203331","attributes":[
      {"key":"gen_ai.evaluation.name","value":{"stringValue":"x"}},
      {"key":"gen_ai.evaluation.score.value","value":{"stringValue":"high"}}]},
    {"traceId":"abc","body":{"stringValue":"bad trace id"}},
    {"body":{"stringValue":"fine"}}]}]}]})";
  auto rows = DecodeLogs(request, Encoding::kJson);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 5u);
  EXPECT_NE((*rows)[0].rejected.find("spanId"), std::string::npos) << (*rows)[0].rejected;
  EXPECT_NE((*rows)[1].rejected.find("gen_ai.evaluation.name"), std::string::npos);
  EXPECT_NE((*rows)[2].rejected.find("not a finite number"), std::string::npos);
  EXPECT_NE((*rows)[3].rejected.find("traceId"), std::string::npos);
  EXPECT_EQ((*rows)[4].rejected, "");
  EXPECT_EQ((*rows)[4].row.at("output"), "fine");
}

TEST(OtlpLogs, EveryTruncationOfAProtobufRequestFails) {
  std::string req = LogsRequest({PbEvaluation(), PbErrorLine()});
  for (std::size_t n = 1; n < req.size(); ++n) {
    auto rows = DecodeLogs(std::string_view(req).substr(0, n), Encoding::kProtobuf);
    EXPECT_EQ(rows.status().code(), StatusCode::kInvalidArgument) << "prefix " << n;
  }
}

TEST(OtlpLogs, MalformedRequestsFail) {
  auto wrap = [](const std::string& r) { return Len(1, Len(2, Len(2, r))); };
  for (const std::string& bad : {
           VarintField(1, 5),                   // resource_logs as a varint
           wrap(VarintField(3, 1)),             // severity_text as a varint
           wrap(Len(1, "12345678")),            // time length-delimited
           wrap(Fixed(8, 1, 8)),                // flags as fixed64
           wrap(Len(5, Len(3, "not varint"))),  // body int as bytes
       }) {
    EXPECT_EQ(DecodeLogs(bad, Encoding::kProtobuf).status().code(), StatusCode::kInvalidArgument)
        << HexEncode(bad);
  }
  for (const char* bad : {
           "{",
           R"({"resourceLogs":{}})",
           R"({"resourceLogs":[{"scopeLogs":[{"logRecords":[{"timeUnixNano":"soon"}]}]}]})",
           R"({"resourceLogs":[{"scopeLogs":[{"logRecords":[{"severityNumber":"LOUD"}]}]}]})",
           R"({"resourceLogs":[{"scopeLogs":[{"logRecords":[{"attributes":{"a":"b"}}]}]}]})",
           R"({"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":"text"}]}]}]})",
           R"({"resourceLogs":[{"scopeLogs":[{"logRecords":[{"eventName":7}]}]}]})",
       }) {
    EXPECT_EQ(DecodeLogs(bad, Encoding::kJson).status().code(), StatusCode::kInvalidArgument)
        << bad;
  }
  EXPECT_TRUE(DecodeLogs("", Encoding::kProtobuf)->empty());
  EXPECT_TRUE(DecodeLogs("{}", Encoding::kJson)->empty());
}

}  // namespace
}  // namespace arbor::ingest::otlp
