#include "server/ops_flags.h"

#include <cstdlib>

#include "base/limits.h"
#include "base/log.h"
#include "base/metrics.h"
#include "base/util.h"
#include "ingest/xact.h"

namespace arbor::serve {
namespace {

constexpr long long kHistoryRetentionSMax = 10ll * 366 * 86400;
// Tombstones are collected whatever the garbage ratio this long after they pass the horizon,
// which bounds how long deleted (and expired) rows stay on disk.
constexpr std::int64_t kDeletesDueAfterHorizonS = 86400;

// A whole number in [0, max] from --name, or `def`.
StatusOr<long long> NumberFlag(const std::function<std::string(const std::string&)>& flag,
                               const std::string& name, long long def, long long max) {
  std::string text = flag(name);
  if (text.empty()) return def;
  char* end = nullptr;
  long long v = std::strtoll(text.c_str(), &end, 10);
  if (*end != '\0' || v < 0 || v > max) {
    return InvalidArgument("--" + name + " must be a whole number between 0 and " +
                           std::to_string(max));
  }
  return v;
}

StatusOr<std::string> MetricsToken(const std::string& file) {
  std::string token;
  if (!file.empty()) {
    ASSIGN_OR_RETURN(token, ReadFile(file));
  } else if (const char* env = std::getenv("ARBOR_METRICS_TOKEN")) {
    token = env;
  }
  while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back()))) {
    token.pop_back();
  }
  if (!token.empty() && token.size() < 16) {
    return InvalidArgument("the metrics token must be at least 16 characters");
  }
  return token;
}

}  // namespace

StatusOr<OpsFlags> ParseOpsFlags(const std::function<std::string(const std::string&)>& flag) {
  OpsFlags out;
  const std::string format = flag("log-format");
  if (format == "text") {
    log::SetFormat(log::Format::kText);
  } else if (format.empty() || format == "json") {
    log::SetFormat(log::Format::kJson);
  } else {
    return InvalidArgument("--log-format must be json or text");
  }
  const std::string reads = flag("audit-reads");
  if (reads != "" && reads != "on" && reads != "off") {
    return InvalidArgument("--audit-reads must be on or off");
  }
  out.audit_reads = reads == "on";
  ASSIGN_OR_RETURN(out.api.metrics_token, MetricsToken(flag("metrics-token-file")));
  ASSIGN_OR_RETURN(long long rps, NumberFlag(flag, "rate-limit-rps", 0, 1'000'000));
  ASSIGN_OR_RETURN(long long burst, NumberFlag(flag, "rate-limit-burst", 2 * rps, 10'000'000));
  out.api.rate_limit_rps = static_cast<double>(rps);
  out.api.rate_limit_burst = static_cast<double>(burst);
  ASSIGN_OR_RETURN(
      long long timeout_ms,
      NumberFlag(flag, "query-timeout-ms", limits::query_timeout_ms_default, 24ll * 3600 * 1000));
  ASSIGN_OR_RETURN(
      long long rows_max,
      NumberFlag(flag, "query-rows-max", static_cast<long long>(limits::query_rows_max_default),
                 1'000'000'000));
  out.api.query_budget = {.timeout_ms = timeout_ms, .rows_max = static_cast<std::size_t>(rows_max)};
  out.tls_cert_file = flag("tls-cert");
  out.tls_key_file = flag("tls-key");
  if (out.tls_cert_file.empty() != out.tls_key_file.empty()) {
    return InvalidArgument("--tls-cert and --tls-key go together");
  }
  ASSIGN_OR_RETURN(
      out.history_retention_s,
      NumberFlag(flag, "history-retention-s", out.history_retention_s, kHistoryRetentionSMax));
  return out;
}

storage::HistoryClock HistoryClockAt(std::int64_t now_unix_s, std::int64_t retention_s) {
  auto at = [&](std::int64_t ago_s) -> std::uint64_t {
    const std::int64_t t = now_unix_s - ago_s;
    return t > 0 ? ingest::XactAtOrBefore(static_cast<std::uint64_t>(t)) : 0;
  };
  return {.horizon = at(retention_s), .deletes_due = at(retention_s + kDeletesDueAfterHorizonS)};
}

void RegisterStorageMetrics(const storage::Wal& wal, const storage::Segments& segments,
                            const storage::CompactionPolicy& policy,
                            const std::function<storage::HistoryClock()>& history_clock) {
  metrics::Registry& r = metrics::Global();
  using metrics::Type;
  r.AddCallback("arbor_memtable_bytes", "WAL bytes written since the last flush (the memtable).",
                Type::kGauge, [&wal] { return static_cast<double>(wal.bytes_since_rotation()); });
  r.AddCallback("arbor_segments", "Segments in the manifest.", Type::kGauge,
                [&segments] { return static_cast<double>(segments.List().size()); });
  r.AddCallback("arbor_segment_bytes", "Bytes of all segments in the manifest.", Type::kGauge,
                [&segments] {
                  double bytes = 0;
                  for (const auto& s : segments.List()) bytes += static_cast<double>(s.info.bytes);
                  return bytes;
                });
  r.AddCallback("arbor_compaction_backlog_segments",
                "Segments the compaction policy would merge now (0: nothing pending).",
                Type::kGauge, [&segments, policy, history_clock] {
                  auto pick = storage::PickCompaction(
                      segments.List(), policy,
                      history_clock ? history_clock() : storage::HistoryClock{});
                  return pick ? static_cast<double>(pick->size()) : 0.0;
                });
  r.AddCallback("arbor_segment_garbage_versions",
                "Tombstones and shadowed versions in segments, which compaction past the history "
                "horizon can drop (an estimate).",
                Type::kGauge, [&segments] {
                  double garbage = 0;
                  for (const auto& s : segments.List()) {
                    garbage += static_cast<double>(s.garbage.total());
                  }
                  return garbage;
                });
  r.AddCallback("arbor_indexing_lag_seconds",
                "Age of the oldest acknowledged row not yet flushed to a segment.", Type::kGauge,
                [&segments] {
                  metrics::IndexingLag().FlushedUpTo(segments.flushed_xact());
                  return metrics::IndexingLag().AgeSeconds(NowMicros());
                });
  r.AddCallback("arbor_block_cache_hits_total", "Segment block cache hits.", Type::kCounter,
                [&segments] { return static_cast<double>(segments.cache_stats().hits); });
  r.AddCallback("arbor_block_cache_misses_total", "Segment block cache misses.", Type::kCounter,
                [&segments] { return static_cast<double>(segments.cache_stats().misses); });
  r.AddCallback("process_resident_memory_bytes", "Resident memory size in bytes.", Type::kGauge,
                [] { return metrics::ProcessRssBytes(); });
  const double start_s = static_cast<double>(NowMicros()) / 1e6;
  r.AddCallback("process_start_time_seconds", "Start time of the process, unix seconds.",
                Type::kGauge, [start_s] { return start_s; });
  r.AddCallback("arbor_uptime_seconds", "Seconds since the server started.", Type::kGauge,
                [start_s] { return static_cast<double>(NowMicros()) / 1e6 - start_s; });
}

}  // namespace arbor::serve
