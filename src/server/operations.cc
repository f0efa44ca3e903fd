#include "server/operations.h"

#include <chrono>
#include <iostream>

#include "api/http_client.h"
#include "base/util.h"
#include "json/json.h"
#include "server/backup.h"

namespace arbor::ops {

namespace bj = boost::json;

StatusOr<std::unique_ptr<Operations>> Operations::Start(OperationsDeps deps,
                                                        OperationsOptions options) {
  std::unique_ptr<Operations> ops(new Operations(std::move(deps), std::move(options)));
  Operations* self = ops.get();
  ASSIGN_OR_RETURN(ops->admin_, AdminSocket::Start(
                                    AdminSocketName(ops->deps_.data_dir),
                                    [self](const bj::object& r) { return self->HandleAdmin(r); }));
  ops->retention_ = std::make_unique<RetentionSweeper>(
      ops->deps_.catalog, ops->deps_.engine, ops->deps_.writer, ops->options_.retention_interval_s);
  ops->retention_->Start();
  if (!ops->options_.telemetry_url.empty()) {
    ops->telemetry_ = std::thread([self] { self->TelemetryLoop(); });
  }
  return ops;
}

Operations::Operations(OperationsDeps deps, OperationsOptions options)
    : deps_(std::move(deps)), options_(std::move(options)), started_us_(NowMicros()) {}

Operations::~Operations() { Stop(); }

void Operations::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (telemetry_.joinable()) telemetry_.join();
  if (retention_) retention_->Stop();
  if (admin_) admin_->Stop();
}

// {"op": "backup", "out": "/abs/dir"} -> {"ok": true} or {"ok": false, "error": "..."}.
bj::object Operations::HandleAdmin(const bj::object& request) {
  const bj::value* op = request.if_contains("op");
  const bj::value* out = request.if_contains("out");
  if (op == nullptr || !op->is_string() || op->as_string() != "backup" || out == nullptr ||
      !out->is_string() || out->as_string().empty() || out->as_string()[0] != '/') {
    return {{"ok", false}, {"error", "expected {\"op\":\"backup\",\"out\":\"/absolute/dir\"}"}};
  }
  Status st =
      BackupOnline(deps_.data_dir, deps_.flusher, std::string(out->as_string()), deps_.version);
  if (!st.ok()) return {{"ok", false}, {"error", st.message()}};
  std::cout << "arbor: online backup written to " << out->as_string() << std::endl;
  return {{"ok", true}};
}

bj::object Operations::TelemetryPayload() const {
  std::uint64_t orgs = 0;
  std::uint64_t projects = 0;
  std::uint64_t experiments = 0;
  std::uint64_t datasets = 0;
  if (auto all = deps_.catalog.ListOrgs(); all.ok()) {
    for (const catalog::Org& org : *all) {
      ++orgs;
      auto count = [&](catalog::ObjectKind kind) -> std::uint64_t {
        auto found = deps_.catalog.ListObjects(org.id, kind, {});
        return found.ok() ? found->size() : 0;
      };
      projects += count(catalog::ObjectKind::kProject);
      experiments += count(catalog::ObjectKind::kExperiment);
      datasets += count(catalog::ObjectKind::kDataset);
    }
  }
  std::uint64_t segment_bytes = 0;
  std::uint64_t segment_versions = 0;
  const auto segments = deps_.segments.List();
  for (const storage::SegmentMeta& s : segments) {
    segment_bytes += s.info.bytes;
    segment_versions += s.info.versions;
  }
  const storage::FlusherStats flusher = deps_.flusher.stats();
  return {
      {"schema_version", 1},
      {"arbor_version", deps_.version},
      {"health", "ok"},
      {"uptime_s", (NowMicros() - started_us_) / 1000000},
      {"usage",
       {{"orgs", orgs},
        {"projects", projects},
        {"experiments", experiments},
        {"datasets", datasets},
        {"http_requests", requests_.load(std::memory_order_relaxed)},
        {"rows_deleted_by_retention", retention_ ? retention_->rows_deleted() : 0}}},
      {"storage",
       {{"segments", segments.size()},
        {"segment_bytes", segment_bytes},
        {"segment_row_versions", segment_versions},
        {"wal_bytes_unflushed", deps_.wal.bytes_since_rotation()},
        {"flushes", flusher.flushes},
        {"compactions", flusher.compactions},
        {"flush_failures", flusher.failures}}},
  };
}

void Operations::TelemetryLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    lock.unlock();
    auto sent = api::HttpFetch({.method = "POST",
                                .url = options_.telemetry_url,
                                .headers = {{"Content-Type", "application/json"}},
                                .body = json::Serialize(TelemetryPayload()),
                                .timeout_ms = 5000});
    if (!sent.ok() || sent->status / 100 != 2) {
      std::cerr << "arbor: telemetry not delivered: "
                << (sent.ok() ? "HTTP " + std::to_string(sent->status) : sent.status().message())
                << std::endl;
    }
    lock.lock();
    cv_.wait_for(lock, std::chrono::seconds(options_.telemetry_interval_s),
                 [this] { return stopping_; });
  }
}

}  // namespace arbor::ops
