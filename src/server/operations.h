// What `arbor serve` runs beside the HTTP server for operators: the admin socket (online
// backups), the retention sweep and the optional telemetry reporter.
#pragma once

#include <atomic>
#include <boost/json.hpp>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "base/status.h"
#include "catalog/catalog.h"
#include "ingest/writer.h"
#include "query/engine.h"
#include "server/admin_socket.h"
#include "server/retention.h"
#include "storage/flusher.h"
#include "storage/segments.h"
#include "storage/wal.h"

namespace arbor::ops {

struct OperationsDeps {
  std::string data_dir;
  std::string version;
  catalog::Catalog& catalog;
  query::Engine& engine;
  ingest::Writer& writer;
  storage::Wal& wal;
  storage::Segments& segments;
  storage::Flusher& flusher;
};

struct OperationsOptions {
  int retention_interval_s = 3600;
  std::string telemetry_url;  // empty: telemetry off (the default)
  int telemetry_interval_s = 3600;
};

class Operations {
 public:
  static StatusOr<std::unique_ptr<Operations>> Start(OperationsDeps deps,
                                                     OperationsOptions options);
  ~Operations();
  void Stop();
  // Counted for telemetry (one per HTTP request).
  void CountRequest() { requests_.fetch_add(1, std::memory_order_relaxed); }
  // The telemetry document: exactly the keys docs/operations/telemetry.md lists.
  boost::json::object TelemetryPayload() const;

 private:
  Operations(OperationsDeps deps, OperationsOptions options);
  boost::json::object HandleAdmin(const boost::json::object& request);
  void TelemetryLoop();

  OperationsDeps deps_;
  const OperationsOptions options_;
  const std::int64_t started_us_;
  std::atomic<std::uint64_t> requests_{0};
  std::unique_ptr<AdminSocket> admin_;
  std::unique_ptr<RetentionSweeper> retention_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread telemetry_;
};

}  // namespace arbor::ops
