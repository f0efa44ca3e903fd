// `arbor serve` options for operations and hardening (area "ops"): log format, /metrics
// token, audit of reads, per-key rate limits, query budgets and TLS; and the storage gauges
// /metrics shows. Documented in docs/operations/monitoring.md and security.md.
#pragma once

#include <functional>
#include <string>

#include "api/ops.h"
#include "base/status.h"
#include "storage/compaction.h"
#include "storage/segments.h"
#include "storage/wal.h"

namespace arbor::serve {

struct OpsFlags {
  api::OpsOptions api;
  bool audit_reads = false;
  std::string tls_cert_file;  // both set: HTTPS on --listen
  std::string tls_key_file;
};

// Reads the flags through `flag(name)` ("" when absent) and sets the log format.
StatusOr<OpsFlags> ParseOpsFlags(const std::function<std::string(const std::string&)>& flag);

// Registers the scrape-time gauges over the storage engine (memtable, segments, compaction
// backlog, indexing lag, block cache) and the process (RSS, uptime). The referenced objects
// must outlive every scrape (they live until `serve` returns, after the HTTP server stops).
void RegisterStorageMetrics(const storage::Wal& wal, const storage::Segments& segments,
                            const storage::CompactionPolicy& policy);

}  // namespace arbor::serve
