#include "catalog/sqlite_retention.h"

#include "base/util.h"
#include "catalog/sqlite_stmt.h"

namespace arbor::catalog::sqlite_retention {

// Version 6: one row per project and kind of object whose rows expire. Rows older than
// max_age_days (by their `created`) are deleted by the server's retention sweep.
const char* const kSchema = R"sql(
CREATE TABLE retention_policies (
  org_id TEXT NOT NULL, project_id TEXT NOT NULL, object_type TEXT NOT NULL,
  max_age_days INTEGER NOT NULL, updated TEXT NOT NULL,
  PRIMARY KEY (project_id, object_type));
CREATE INDEX retention_policies_by_org ON retention_policies(org_id);
)sql";

Status SetRetentionPolicy(sqlite3* db, const RetentionPolicy& policy) {
  if (policy.max_age_days <= 0) {
    Stmt s(db, "DELETE FROM retention_policies WHERE project_id = ? AND object_type = ?");
    s.Bind(1, policy.project_id).Bind(2, policy.object_type);
    if (s.Step() != SQLITE_DONE) return Internal(std::string("sqlite: ") + sqlite3_errmsg(db));
    return Status::Ok();
  }
  Stmt s(db,
         "INSERT OR REPLACE INTO retention_policies "
         "(org_id, project_id, object_type, max_age_days, updated) VALUES (?, ?, ?, ?, ?)");
  s.Bind(1, policy.org_id)
      .Bind(2, policy.project_id)
      .Bind(3, policy.object_type)
      .Bind(4, policy.max_age_days)
      .Bind(5, FormatIsoTime(NowMicros()));
  if (s.Step() != SQLITE_DONE) return Internal(std::string("sqlite: ") + sqlite3_errmsg(db));
  return Status::Ok();
}

StatusOr<std::vector<RetentionPolicy>> ListRetentionPolicies(sqlite3* db,
                                                             const std::string& org_id) {
  Stmt s(db,
         "SELECT org_id, project_id, object_type, max_age_days, updated FROM retention_policies "
         "WHERE ? = '' OR org_id = ? ORDER BY project_id, object_type");
  s.Bind(1, org_id).Bind(2, org_id);
  std::vector<RetentionPolicy> out;
  int rc = 0;
  while ((rc = s.Step()) == SQLITE_ROW) {
    out.push_back({.org_id = s.Text(0),
                   .project_id = s.Text(1),
                   .object_type = s.Text(2),
                   .max_age_days = s.Int(3),
                   .updated = s.Text(4)});
  }
  if (rc != SQLITE_DONE) return Internal(std::string("sqlite: ") + sqlite3_errmsg(db));
  return out;
}

}  // namespace arbor::catalog::sqlite_retention
