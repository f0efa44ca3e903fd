#include "api/otlp_grpc.h"

#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/grpcpp.h>

#include <cctype>
#include <string_view>
#include <utility>
#include <vector>

#include "api/otlp_export.h"
#include "api/row_writes.h"
#include "base/limits.h"
#include "control/access.h"
#include "ingest/otlp.h"
#include "ingest/rows.h"

namespace arbor::api {

namespace {

namespace bj = boost::json;

inline constexpr std::string_view trace_export_method =
    "/opentelemetry.proto.collector.trace.v1.TraceService/Export";
inline constexpr std::string_view logs_export_method =
    "/opentelemetry.proto.collector.logs.v1.LogsService/Export";

grpc::StatusCode GrpcCode(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return grpc::StatusCode::OK;
    case StatusCode::kInvalidArgument:
      return grpc::StatusCode::INVALID_ARGUMENT;
    case StatusCode::kUnauthenticated:
      return grpc::StatusCode::UNAUTHENTICATED;
    case StatusCode::kPermissionDenied:
      return grpc::StatusCode::PERMISSION_DENIED;
    case StatusCode::kNotFound:
      return grpc::StatusCode::NOT_FOUND;
    case StatusCode::kAlreadyExists:
      return grpc::StatusCode::ALREADY_EXISTS;
    case StatusCode::kFailedPrecondition:
      return grpc::StatusCode::FAILED_PRECONDITION;
    case StatusCode::kPayloadTooLarge:
    case StatusCode::kResourceExhausted:
      return grpc::StatusCode::RESOURCE_EXHAUSTED;
    case StatusCode::kUnavailable:
      return grpc::StatusCode::UNAVAILABLE;
    case StatusCode::kDeadlineExceeded:
      return grpc::StatusCode::DEADLINE_EXCEEDED;
    case StatusCode::kDataLoss:
      return grpc::StatusCode::DATA_LOSS;
    case StatusCode::kInternal:
      return grpc::StatusCode::INTERNAL;
  }
  return grpc::StatusCode::UNKNOWN;
}

grpc::Status ToGrpc(const Status& st) {
  return grpc::Status(GrpcCode(st.code()), std::string(st.message()));
}

// The value of a metadata key (gRPC lower-cases keys), or empty.
std::string Metadata(const grpc::GenericCallbackServerContext* ctx, std::string_view key) {
  const auto& md = ctx->client_metadata();
  auto it = md.find(grpc::string_ref(key.data(), key.size()));
  if (it == md.end()) return {};
  return std::string(it->second.data(), it->second.size());
}

std::string Secret(const grpc::GenericCallbackServerContext* ctx) {
  std::string auth = Metadata(ctx, "authorization");
  std::string secret;
  if (auth.rfind("Bearer ", 0) == 0) secret = auth.substr(7);
  if (secret.empty()) secret = Metadata(ctx, "x-api-key");
  while (!secret.empty() && std::isspace(static_cast<unsigned char>(secret.back()))) {
    secret.pop_back();
  }
  return secret;
}

// One unary Export call over the generic bidi API: read one message, answer one, finish.
// The export runs on gRPC's callback thread; it blocks for the WAL fsync like an HTTP worker.
class ExportReactor final : public grpc::ServerGenericBidiReactor {
 public:
  ExportReactor(grpc::GenericCallbackServerContext* ctx, const OtlpGrpcDeps& deps, bool logs)
      : ctx_(ctx), deps_(deps), logs_(logs) {
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "no request message"));
      return;
    }
    auto response = Export();
    if (!response.ok()) {
      Finish(ToGrpc(response.status()));
      return;
    }
    grpc::Slice slice(*response);
    response_ = grpc::ByteBuffer(&slice, 1);
    StartWrite(&response_);
  }

  void OnWriteDone(bool ok) override {
    Finish(ok ? grpc::Status::OK : grpc::Status(grpc::StatusCode::UNAVAILABLE, "write failed"));
  }

  void OnDone() override { delete this; }

 private:
  StatusOr<std::string> Export() {
    ASSIGN_OR_RETURN(control::Principal who, deps_.auth.Authenticate(Secret(ctx_)));
    // An export writes rows: editors, or members that ACLs make editors on each row's object
    // (checked with the rows, api/row_writes.h).
    std::vector<grpc::Slice> slices;
    if (grpc::Status st = request_.Dump(&slices); !st.ok()) {
      return InvalidArgument("unreadable request message: " + st.error_message());
    }
    std::string body;
    for (const grpc::Slice& s : slices) {
      body.append(reinterpret_cast<const char*>(s.begin()), s.size());
    }
    const RowWriter write = [this, &who](bj::array rows) {
      return WriteRowsAs(deps_.writer, deps_.registry.catalog(), who, std::move(rows));
    };
    ASSIGN_OR_RETURN(
        OtlpResult result,
        ExportOtlp(deps_.registry, who, write, body, ingest::otlp::Encoding::kProtobuf, logs_,
                   Metadata(ctx_, "x-bt-parent"), Metadata(ctx_, "x-project-name")));
    return ingest::otlp::ExportResponse(ingest::otlp::Encoding::kProtobuf, logs_, result.rejected,
                                        result.message);
  }

  grpc::GenericCallbackServerContext* ctx_;
  const OtlpGrpcDeps& deps_;
  const bool logs_;
  grpc::ByteBuffer request_;
  grpc::ByteBuffer response_;
};

class UnimplementedReactor final : public grpc::ServerGenericBidiReactor {
 public:
  explicit UnimplementedReactor(const std::string& method) {
    Finish(grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                        "unknown method " + method + ": arbor serves " +
                            std::string(trace_export_method) + " and " +
                            std::string(logs_export_method)));
  }
  void OnDone() override { delete this; }
};

class OtlpService final : public grpc::CallbackGenericService {
 public:
  explicit OtlpService(OtlpGrpcDeps deps) : deps_(deps) {}

  grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext* ctx) override {
    const std::string& method = ctx->method();
    if (method == trace_export_method) return new ExportReactor(ctx, deps_, false);
    if (method == logs_export_method) return new ExportReactor(ctx, deps_, true);
    return new UnimplementedReactor(method);
  }

 private:
  OtlpGrpcDeps deps_;
};

}  // namespace

struct OtlpGrpcServer::Impl {
  explicit Impl(OtlpGrpcDeps deps) : service(deps) {}
  OtlpService service;
  std::unique_ptr<grpc::Server> server;
  int port = 0;
};

OtlpGrpcServer::OtlpGrpcServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

OtlpGrpcServer::~OtlpGrpcServer() { Shutdown(); }

StatusOr<std::unique_ptr<OtlpGrpcServer>> OtlpGrpcServer::Start(const std::string& host_port,
                                                                OtlpGrpcDeps deps) {
  auto impl = std::make_unique<Impl>(deps);
  grpc::ServerBuilder builder;
  // gRPC sets SO_REUSEPORT by default: a second server on the same port would then share (and
  // load-balance) it instead of failing to bind.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.AddListeningPort(host_port, grpc::InsecureServerCredentials(), &impl->port);
  builder.RegisterCallbackGenericService(&impl->service);
  // The same bound as an HTTP body; a bigger message fails with RESOURCE_EXHAUSTED.
  builder.SetMaxReceiveMessageSize(static_cast<int>(limits::request_body_bytes_max));
  impl->server = builder.BuildAndStart();
  if (impl->server == nullptr || impl->port == 0) {
    return Unavailable("cannot serve OTLP/gRPC on " + host_port +
                       " (address in use or invalid; --otlp-grpc-listen off disables it)");
  }
  return std::unique_ptr<OtlpGrpcServer>(new OtlpGrpcServer(std::move(impl)));
}

int OtlpGrpcServer::port() const { return impl_->port; }

void OtlpGrpcServer::Shutdown() {
  if (impl_ && impl_->server) {
    impl_->server->Shutdown();
    impl_->server->Wait();
    impl_->server.reset();
  }
}

}  // namespace arbor::api
