// `arbor serve` options for operations and hardening (area "ops"): log format, /metrics
// token, audit of reads, per-key rate limits, query budgets and TLS; and the storage gauges
// /metrics shows. Documented in docs/operations/monitoring.md and security.md.
#pragma once

#include <cstdint>
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
  // --history-retention-s: how far back `version` reads see every row version; compaction
  // drops older history (docs/operations/configuration.md).
  std::int64_t history_retention_s = 7 * 86400;
};

// The compaction's history clock at `now_unix_s` (storage/compaction.h): the horizon is the
// last _xact_id of second now - retention; tombstones are due a day after the horizon.
storage::HistoryClock HistoryClockAt(std::int64_t now_unix_s, std::int64_t retention_s);

// Reads the flags through `flag(name)` ("" when absent) and sets the log format.
StatusOr<OpsFlags> ParseOpsFlags(const std::function<std::string(const std::string&)>& flag);

// Registers the scrape-time gauges over the storage engine (memtable, segments, compaction
// backlog, indexing lag, block cache) and the process (RSS, uptime). The referenced objects
// must outlive every scrape (they live until `serve` returns, after the HTTP server stops).
void RegisterStorageMetrics(const storage::Wal& wal, const storage::Segments& segments,
                            const storage::CompactionPolicy& policy,
                            const std::function<storage::HistoryClock()>& history_clock = {});

}  // namespace arbor::serve
