// OTLP over gRPC: the TraceService and LogsService Export methods on their own port (default
// 127.0.0.1:4317). A generic gRPC service takes the raw request bytes, so the hand-written
// decoder of ingest/otlp does the work and no .proto or generated code is involved. Auth comes
// from the `authorization: Bearer <key>` or `x-api-key` metadata, routing from `x-bt-parent`
// (and Phoenix's `x-project-name`), exactly as over HTTP (api/otlp_export.h).
#pragma once

#include <memory>
#include <string>

#include "base/status.h"
#include "control/auth.h"
#include "control/registry.h"
#include "ingest/writer.h"

namespace arbor::api {

struct OtlpGrpcDeps {
  control::Auth& auth;
  control::Registry& registry;
  ingest::Writer& writer;
};

class OtlpGrpcServer {
 public:
  // Binds HOST:PORT (port 0 picks a free one) and starts serving.
  static StatusOr<std::unique_ptr<OtlpGrpcServer>> Start(const std::string& host_port,
                                                         OtlpGrpcDeps deps);
  ~OtlpGrpcServer();
  OtlpGrpcServer(const OtlpGrpcServer&) = delete;
  OtlpGrpcServer& operator=(const OtlpGrpcServer&) = delete;

  int port() const;
  // Stops accepting calls and waits for the running ones.
  void Shutdown();

 private:
  struct Impl;
  explicit OtlpGrpcServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace arbor::api
