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
// A row's audit trail (`audit_data`) keeps this many newest entries; an entry names at most
// this many changed paths, and quotes old/new values only up to this many bytes of text.
inline constexpr std::size_t audit_entries_max = 100;
inline constexpr std::size_t audit_changes_max = 32;
inline constexpr std::size_t audit_value_bytes_max = 256;
// Names of orgs and API keys set through the REST API.
inline constexpr std::size_t org_name_bytes_max = 256;
inline constexpr std::size_t api_key_name_bytes_max = 1024;

// Back-pressure: writes wait once this many memtables' worth of WAL awaits flushing, and get
// 503 after waiting this long.
inline constexpr std::uint64_t memtables_unflushed_max = 4;
inline constexpr int ingest_flush_wait_ms = 30'000;

// Operations and hardening (area "ops"). Audit log page size; request ids taken from clients.
inline constexpr std::size_t audit_log_page_max = 1000;
inline constexpr std::size_t request_id_bytes_max = 64;
// Per-key rate limit: off unless --rate-limit-rps is given; burst defaults to twice the rate.
// Buckets remembered at most (idle ones are forgotten first).
inline constexpr std::size_t rate_limit_keys_max = 100'000;
// A query's time limit and the rows it may materialize (--query-timeout-ms, --query-rows-max).
inline constexpr int query_timeout_ms_default = 30'000;
inline constexpr std::size_t query_rows_max_default = 2'000'000;
// HTTP: time to receive a request's headers (also the keep-alive idle time), then its body.
inline constexpr int http_header_timeout_s = 60;
inline constexpr int http_body_timeout_s = 300;

// Local users and UI sessions (area "users"). argon2id at OWASP's minimum (19 MiB, 2 passes,
// 1 lane): 0.15-0.3 s per hash on the 2-core dev machine under load (password_test prints
// it); at most this many hashes run at once, so a burst of sign-ins costs bounded memory.
inline constexpr std::uint32_t password_argon2_memory_kib = 19 * 1024;
inline constexpr std::uint32_t password_argon2_passes = 2;
inline constexpr std::uint32_t password_argon2_lanes = 1;
inline constexpr std::size_t password_hashes_concurrent_max = 2;
inline constexpr std::size_t password_bytes_min = 8;
inline constexpr std::size_t password_bytes_max = 1024;
inline constexpr std::size_t user_email_bytes_max = 320;
inline constexpr std::size_t user_name_bytes_max = 256;
// A session ends after this long without a request, and at the latest this long after
// sign-in; its last-seen time is written at most once per touch interval.
inline constexpr std::int64_t session_idle_s = 24 * 3600;
inline constexpr std::int64_t session_absolute_s = 7 * 24 * 3600;
inline constexpr std::int64_t session_touch_interval_s = 60;
// Sign-in: after this many failures for one email within the window, that email is locked
// for the window (whether or not the account exists). Emails tracked at most.
inline constexpr std::size_t login_failures_max = 5;
inline constexpr std::int64_t login_failure_window_s = 15 * 60;
inline constexpr std::size_t login_failure_emails_max = 10'000;
// Access control: names of roles and groups, and the members, permissions or ACLs one
// request may list.
inline constexpr std::size_t access_name_bytes_max = 256;
inline constexpr std::size_t access_list_items_max = 1000;

}  // namespace arbor::limits
