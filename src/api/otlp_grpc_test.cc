// The OTLP/gRPC server on a loopback port, driven by a real gRPC client (GenericStub, raw
// bytes): a valid Export writes its spans; a truncated message, a missing or wrong key and an
// unknown method are refused and write nothing. Runs under ASan/UBSan in `make test`.
#include "api/otlp_grpc.h"

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <future>
#include <string>
#include <utility>
#include <vector>

#include "base/util.h"
#include "ingest/rows.h"
#include "storage/row_store.h"
#include "storage/wal.h"

namespace arbor::api {
namespace {

namespace bj = boost::json;

inline constexpr char trace_method[] =
    "/opentelemetry.proto.collector.trace.v1.TraceService/Export";
inline constexpr char secret[] = "grpc-test-key-0123456789abcdef";

// ---- a minimal protobuf writer: just what an ExportTraceServiceRequest needs.
std::string Varint(std::uint64_t v) {
  std::string out;
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
  return out;
}
std::string Len(int field, const std::string& bytes) {  // wire type 2
  return Varint(static_cast<std::uint64_t>(field) << 3 | 2) + Varint(bytes.size()) + bytes;
}
std::string Fixed64(int field, std::uint64_t v) {  // wire type 1
  std::string out = Varint(static_cast<std::uint64_t>(field) << 3 | 1);
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
  return out;
}
std::string Bytes(std::initializer_list<int> bs) {
  std::string out;
  for (int b : bs) out.push_back(static_cast<char>(b));
  return out;
}
// Span.attributes (field 9): KeyValue{1 key, 2 AnyValue{1 string_value}}.
std::string StringAttr(const std::string& key, const std::string& value) {
  return Len(9, Len(1, key) + Len(2, Len(1, value)));
}

const std::string trace_id = Bytes({0x5b, 0x8e, 0xfc, 0xa1, 0x4e, 0x2d, 0x4c, 0x1f, 0x9a, 0x3b,
                                    0x11, 0x22, 0x33, 0x44, 0x55, 0x66});
const std::string root_id = Bytes({0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08});
const std::string child_id = Bytes({0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11});

// Span fields: 1 trace_id, 2 span_id, 4 parent_span_id, 5 name, 7/8 start/end (fixed64),
// 9 attributes. Request: 1 resource_spans > 2 scope_spans > 2 spans.
std::string Request() {
  const std::uint64_t t0 = 1767225600ull * 1000000000ull;
  std::string root = Len(1, trace_id) + Len(2, root_id) + Len(5, "agent") + Fixed64(7, t0) +
                     Fixed64(8, t0 + 2000000000ull) + StringAttr("input.value", "what is 2+2?") +
                     StringAttr("output.value", "four");
  std::string child = Len(1, trace_id) + Len(2, child_id) + Len(4, root_id) + Len(5, "chat") +
                      Fixed64(7, t0 + 100000000ull) + Fixed64(8, t0 + 900000000ull) +
                      StringAttr("gen_ai.request.model", "gpt-4o") +
                      StringAttr("gen_ai.operation.name", "chat");
  return Len(1, Len(2, Len(2, root) + Len(2, child)));
}

std::string Hex(const std::string& bytes) { return HexEncode(bytes); }

class OtlpGrpcTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("arbor-grpc-" + NewUuid());
    std::filesystem::create_directories(dir_);
    catalog_ = std::move(catalog::OpenSqliteCatalog(dir_ + "/catalog.db").value());
    org_ = catalog_->CreateOrg("o")->id;
    auth_ = std::make_unique<control::Auth>(*catalog_);
    ASSERT_TRUE(auth_->CreateKey(org_, "k", secret).ok());
    registry_ = std::make_unique<control::Registry>(*catalog_);
    project_ = registry_->RegisterProject(org_, "grpc-test")->id;
    store_ = std::make_unique<storage::RowStore>();
    writer_ = std::make_unique<ingest::Writer>(*catalog_, *store_);
    wal_ = std::move(storage::Wal::Open({.dir = dir_ + "/wal"}, [&](std::string_view p) {
                       return writer_->Replay(p);
                     }).value());
    writer_->Attach(wal_.get());
    auto server = OtlpGrpcServer::Start(
        "127.0.0.1:0", OtlpGrpcDeps{.auth = *auth_, .registry = *registry_, .writer = *writer_});
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(server).value();
    ASSERT_GT(server_->port(), 0);
    channel_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()),
                                   grpc::InsecureChannelCredentials());
  }

  void TearDown() override {
    server_.reset();
    writer_.reset();
    wal_.reset();
    std::filesystem::remove_all(dir_);
  }

  struct Reply {
    grpc::Status status;
    std::string body;
  };

  Reply Call(const std::string& method, const std::string& body,
             std::vector<std::pair<std::string, std::string>> metadata) {
    grpc::GenericStub stub(channel_);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    for (const auto& [k, v] : metadata) ctx.AddMetadata(k, v);
    grpc::Slice slice(body);
    grpc::ByteBuffer request(&slice, 1);
    grpc::ByteBuffer response;
    std::promise<grpc::Status> done;
    stub.UnaryCall(&ctx, method, grpc::StubOptions(), &request, &response,
                   [&done](grpc::Status s) { done.set_value(std::move(s)); });
    Reply r{done.get_future().get(), ""};
    std::vector<grpc::Slice> slices;
    if (r.status.ok() && response.Dump(&slices).ok()) {
      for (const auto& s : slices)
        r.body.append(reinterpret_cast<const char*>(s.begin()), s.size());
    }
    return r;
  }

  std::vector<std::pair<std::string, std::string>> Auth() {
    return {{"authorization", std::string("Bearer ") + secret},
            {"x-bt-parent", "project_id:" + project_}};
  }

  std::vector<bj::object> Rows() {
    const auto* rows = store_->Find(
        ingest::ObjectKey(org_, {.type = ingest::ObjectType::kProjectLogs, .id = project_}));
    std::vector<bj::object> out;
    if (rows == nullptr) return out;
    auto scanned = rows->ScanAll(writer_->visible_xact());
    EXPECT_TRUE(scanned.ok());
    if (!scanned.ok()) return out;
    for (const auto& r : *scanned) out.push_back(*r.row);
    return out;
  }

  std::string dir_, org_, project_;
  std::unique_ptr<catalog::Catalog> catalog_;
  std::unique_ptr<control::Auth> auth_;
  std::unique_ptr<control::Registry> registry_;
  std::unique_ptr<storage::RowStore> store_;
  std::unique_ptr<ingest::Writer> writer_;
  std::unique_ptr<storage::Wal> wal_;
  std::unique_ptr<OtlpGrpcServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
};

TEST_F(OtlpGrpcTest, ExportWritesTheSpansAsOneTrace) {
  Reply r = Call(trace_method, Request(), Auth());
  ASSERT_TRUE(r.status.ok()) << r.status.error_code() << " " << r.status.error_message();
  EXPECT_EQ(r.body, "");  // an ExportTraceServiceResponse without partial_success
  std::vector<bj::object> rows = Rows();
  ASSERT_EQ(rows.size(), 2u);
  for (const bj::object& row : rows) {
    EXPECT_EQ(row.at("root_span_id").as_string(), Hex(trace_id));
    if (row.at("id").as_string() == Hex(root_id)) {
      EXPECT_EQ(row.at("input").as_string(), "what is 2+2?");
      EXPECT_EQ(row.at("output").as_string(), "four");
      EXPECT_EQ(row.at("span_attributes").at("name").as_string(), "agent");
      EXPECT_FALSE(row.contains("span_parents"));
    } else {
      EXPECT_EQ(row.at("id").as_string(), Hex(child_id));
      EXPECT_EQ(row.at("span_parents").as_array(), bj::array({bj::value(Hex(root_id))}));
      EXPECT_EQ(row.at("span_attributes").at("type").as_string(), "llm");
      EXPECT_EQ(row.at("metadata").at("model").as_string(), "gpt-4o");
      EXPECT_NEAR(row.at("metrics").at("end").to_number<double>(), 1767225600.9, 1e-6);
    }
  }
}

TEST_F(OtlpGrpcTest, TruncatedMessageIsInvalidArgumentAndWritesNothing) {
  std::string body = Request();
  Reply r = Call(trace_method, body.substr(0, body.size() - 7), Auth());
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_FALSE(r.status.error_message().empty());
  EXPECT_TRUE(Rows().empty());
}

TEST_F(OtlpGrpcTest, MissingOrWrongKeyIsUnauthenticatedAndWritesNothing) {
  Reply none = Call(trace_method, Request(), {{"x-bt-parent", "project_id:" + project_}});
  EXPECT_EQ(none.status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  Reply wrong =
      Call(trace_method, Request(),
           {{"authorization", "Bearer not-a-key"}, {"x-bt-parent", "project_id:" + project_}});
  EXPECT_EQ(wrong.status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(Rows().empty());
  // The same request with the key goes through: the refusals were about auth alone.
  EXPECT_TRUE(Call(trace_method, Request(), Auth()).status.ok());
  EXPECT_EQ(Rows().size(), 2u);
}

TEST_F(OtlpGrpcTest, UnknownMethodIsUnimplemented) {
  Reply r =
      Call("/opentelemetry.proto.collector.metrics.v1.MetricsService/Export", Request(), Auth());
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_TRUE(Rows().empty());
}

}  // namespace
}  // namespace arbor::api
