// The HTTP/1.1 server (Boost.Beast): keep-alive, bounded bodies, idle timeouts, CORS, and
// graceful shutdown that lets in-flight requests (and their WAL commits) finish.
//
// Threads: `io_threads` run the sockets; handlers run on a pool of `worker_threads`
// because a write blocks until its WAL group is fsynced.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "api/http.h"
#include "base/status.h"

namespace arbor::api {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8000;
  int io_threads = 2;
  int worker_threads = 32;
  // PEM files; both set: the listener speaks HTTPS only (TLS 1.2+). Empty: plain HTTP.
  std::string tls_cert_file;
  std::string tls_key_file;
};

using Handler = std::function<Response(const Request&)>;

class HttpServer {
 public:
  static StatusOr<std::unique_ptr<HttpServer>> Start(const ServerOptions& options, Handler handler);
  ~HttpServer();

  int port() const;
  // Stops accepting, waits for in-flight requests, then stops all threads.
  void Shutdown();
  // Blocks until Shutdown() has completed.
  void Wait();

  struct Impl;

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace arbor::api
