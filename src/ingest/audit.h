// The audit trail of a row (protocol §3.6, §4.1 `audit_log`): writes that carry
// `_audit_source` ("app" | "api" | "external") and `_audit_metadata` (feedback, comments, the
// web UI's review) add an entry to the row's `audit_data`, a server-owned field that readers
// see but writers cannot set. Entry format in docs/api.md.
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <string>

namespace arbor::ingest {

struct IncomingRow;

// `{source, metadata}` from a row's `_audit_source` / `_audit_metadata`; key_id and user_id
// are added by the API from the request's principal.
struct AuditInfo {
  std::string source;
  boost::json::value metadata;  // object or null
  std::string key_id;
  std::string user_id;
};

// Sets `row["audit_data"]`: the previous version's trail (kept across replaces), plus an entry
// for this write when it carries audit info. `old` is the previous version (or null).
void UpdateAuditTrail(boost::json::object& row, const boost::json::object* old,
                      const IncomingRow& in, std::uint64_t xact);

// BTQL/fetch `audit_log: true`: one row per audit entry of each row (oldest first), with the
// row's id and object fields; rows without a trail contribute nothing.
boost::json::array AuditLogRows(const boost::json::array& rows);

}  // namespace arbor::ingest
