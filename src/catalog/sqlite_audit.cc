#include "catalog/sqlite_audit.h"

#include <string>

#include "base/util.h"
#include "catalog/sqlite_stmt.h"

namespace arbor::catalog::sqlite_audit {

// Append-only: rows are never updated or deleted by the server (retention: kept; see
// docs/operations/audit.md). The index serves the API's org-scoped, newest-first listing.
const char* const kSchema = R"sql(
CREATE TABLE audit_log (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, time TEXT NOT NULL, time_us INTEGER NOT NULL,
  org_id TEXT NOT NULL, actor_type TEXT NOT NULL, actor_id TEXT NOT NULL, user_id TEXT NOT NULL,
  role TEXT NOT NULL, action TEXT NOT NULL, target_type TEXT NOT NULL, target_id TEXT NOT NULL,
  request_id TEXT NOT NULL, client_ip TEXT NOT NULL, outcome TEXT NOT NULL);
CREATE INDEX audit_log_by_org ON audit_log(org_id, seq);
)sql";

StatusOr<AuditEvent> Append(sqlite3* db, AuditEvent e) {
  if (e.time_us == 0) e.time_us = NowMicros();
  e.time = FormatIsoTime(e.time_us);
  Stmt s(db,
         "INSERT INTO audit_log (time, time_us, org_id, actor_type, actor_id, user_id, role, "
         "action, target_type, target_id, request_id, client_ip, outcome) "
         "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  s.Bind(1, e.time).Bind(2, e.time_us).Bind(3, e.org_id).Bind(4, e.actor_type);
  s.Bind(5, e.actor_id).Bind(6, e.user_id).Bind(7, e.role).Bind(8, e.action);
  s.Bind(9, e.target_type).Bind(10, e.target_id).Bind(11, e.request_id).Bind(12, e.client_ip);
  s.Bind(13, e.outcome);
  if (s.Step() != SQLITE_DONE) return Internal(std::string("sqlite: ") + sqlite3_errmsg(db));
  e.seq = sqlite3_last_insert_rowid(db);
  return e;
}

StatusOr<std::vector<AuditEvent>> List(sqlite3* db, const std::string& org_id,
                                       const AuditQuery& q) {
  // Optional filters are bound as NULL-or-value so one statement serves every combination.
  Stmt s(db,
         "SELECT seq, time, time_us, org_id, actor_type, actor_id, user_id, role, action, "
         "target_type, target_id, request_id, client_ip, outcome FROM audit_log "
         "WHERE org_id = ?1 AND (?2 = 0 OR seq < ?2) AND (?3 = '' OR action = ?3 OR "
         "(substr(?3, -2) = '.*' AND substr(action, 1, length(?3) - 1) = substr(?3, 1, "
         "length(?3) - 1))) AND (?4 = '' OR actor_id = ?4 OR user_id = ?4) "
         "AND time_us >= ?5 ORDER BY seq DESC LIMIT ?6");
  s.Bind(1, org_id).Bind(2, q.before_seq).Bind(3, q.action).Bind(4, q.actor);
  s.Bind(5, q.since_us).Bind(6, static_cast<std::int64_t>(q.limit));
  std::vector<AuditEvent> out;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) {
    out.push_back(AuditEvent{.seq = s.Int(0),
                             .time = s.Text(1),
                             .time_us = s.Int(2),
                             .org_id = s.Text(3),
                             .actor_type = s.Text(4),
                             .actor_id = s.Text(5),
                             .user_id = s.Text(6),
                             .role = s.Text(7),
                             .action = s.Text(8),
                             .target_type = s.Text(9),
                             .target_id = s.Text(10),
                             .request_id = s.Text(11),
                             .client_ip = s.Text(12),
                             .outcome = s.Text(13)});
  }
  if (rc != SQLITE_DONE) return Internal(std::string("sqlite: ") + sqlite3_errmsg(db));
  return out;
}

}  // namespace arbor::catalog::sqlite_audit
