// Every bound Arbor enforces, in one place. Units last in names.
#pragma once

#include <cstddef>
#include <cstdint>

namespace arbor::limits {

// HTTP: the largest request body accepted on any route (logs3 overflow uploads included).
inline constexpr std::size_t request_body_bytes_max = 64ull << 20;
// Request line plus headers.
inline constexpr std::size_t http_header_bytes_max = 64u << 10;
// What /version advertises; bigger logs3 batches go through /logs3/overflow.
inline constexpr std::size_t logs3_payload_bytes_max = 32ull << 20;
// Rows in one /logs3 request.
inline constexpr std::size_t logs3_rows_max = 100'000;
// JSON nesting accepted from clients.
inline constexpr std::size_t json_depth_max = 64;
// Open HTTP connections at once.
inline constexpr std::size_t connections_max = 1024;
// Seconds a connection may sit idle or take to send a request.
inline constexpr int http_idle_timeout_s = 60;
// BTQL page size cap.
inline constexpr std::size_t btql_limit_max = 100'000;
inline constexpr std::size_t btql_limit_default = 1000;
// Streamed responses (the web UI's live log tail): how often the producer is polled, how
// many streams may be open at once, and how often an idle stream sends a heartbeat.
inline constexpr int stream_poll_ms = 250;
inline constexpr std::size_t log_tails_max = 16;
inline constexpr int log_tail_heartbeat_s = 5;
// Root spans one log tail poll sends at most (newer ones follow on the next polls).
inline constexpr std::size_t log_tail_rows_max = 500;
// Group commit: requests bundled into one fsync.
inline constexpr std::size_t wal_group_requests_max = 1024;
// A WAL record bigger than this is corruption, not data.
inline constexpr std::uint32_t wal_record_bytes_max = 256u << 20;
// AI secrets: name and value sizes accepted.
inline constexpr std::size_t ai_secret_name_bytes_max = 1024;
inline constexpr std::size_t ai_secret_value_bytes_max = 64u << 10;
// Prompt/function slugs and environment slugs.
inline constexpr std::size_t function_slug_bytes_max = 1024;
// Names of orgs and API keys set through the REST API.
inline constexpr std::size_t org_name_bytes_max = 256;
inline constexpr std::size_t api_key_name_bytes_max = 1024;

// Back-pressure: writes wait once this many memtables' worth of WAL awaits flushing, and get
// 503 after waiting this long.
inline constexpr std::uint64_t memtables_unflushed_max = 4;
inline constexpr int ingest_flush_wait_ms = 30'000;

}  // namespace arbor::limits
