#include "catalog/migrations.h"

#include <string>

#include "catalog/sqlite_access.h"
#include "catalog/sqlite_audit.h"
#include "catalog/sqlite_control.h"
#include "catalog/sqlite_retention.h"
#include "catalog/sqlite_stmt.h"
#include "catalog/sqlite_users.h"

namespace arbor::catalog {
namespace {

// Version 1: the first release's tables. Written with IF NOT EXISTS because catalogs of that
// release recorded version 1 before later tables existed.
constexpr const char* kV1Core = R"sql(
CREATE TABLE IF NOT EXISTS orgs (
  id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, created TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS api_keys (
  id TEXT PRIMARY KEY, org_id TEXT NOT NULL REFERENCES orgs(id), name TEXT NOT NULL,
  key_hash TEXT NOT NULL UNIQUE, created TEXT NOT NULL, revoked INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS objects (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, org_id TEXT NOT NULL,
  kind TEXT NOT NULL, project_id TEXT NOT NULL, name TEXT NOT NULL, created TEXT NOT NULL,
  deleted INTEGER NOT NULL DEFAULT 0, data TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS objects_by_name ON objects(org_id, kind, project_id, name);
)sql";

Status Exec(sqlite3* db, const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown";
    sqlite3_free(err);
    return Internal("sqlite: " + msg);
  }
  return Status::Ok();
}

Status Apply(sqlite3* db, const Migration& m) {
  RETURN_IF_ERROR(Exec(db, "BEGIN IMMEDIATE"));
  Status s = Exec(db, m.sql);
  if (s.ok()) s = Exec(db, "DELETE FROM schema_version");
  if (s.ok()) {
    s = Exec(db, "INSERT INTO schema_version VALUES (" + std::to_string(m.version) + ")");
  }
  if (s.ok()) s = Exec(db, "COMMIT");
  if (!s.ok()) {
    sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    return Internal("catalog migration " + std::to_string(m.version) + " (" + m.name +
                    ") failed: " + s.message());
  }
  return Status::Ok();
}

}  // namespace

const std::vector<Migration>& CatalogMigrations() {
  static const std::vector<Migration> migrations = {
      {1, "orgs, API keys, objects", kV1Core},
      {2, "prompts, functions, AI secrets", sqlite_control::kSchema},
      {3, "users, org members, sessions", sqlite_users::kSchema},
      {4, "roles, groups, ACLs, API key owners and roles", sqlite_access::kSchema},
      {5, "audit log", sqlite_audit::kSchema},
      {6, "retention policies", sqlite_retention::kSchema},
  };
  return migrations;
}

StatusOr<int> SchemaVersion(sqlite3* db) {
  RETURN_IF_ERROR(Exec(db, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)"));
  Stmt s(db, "SELECT max(version) FROM schema_version");
  if (s.Step() != SQLITE_ROW) return Internal("cannot read schema_version");
  return static_cast<int>(s.Int(0));
}

Status Migrate(sqlite3* db, const std::vector<Migration>& migrations) {
  ASSIGN_OR_RETURN(int version, SchemaVersion(db));
  int latest = migrations.empty() ? 0 : migrations.back().version;
  if (version > latest) {
    return FailedPrecondition("catalog schema version " + std::to_string(version) +
                              " is newer than this binary supports (" + std::to_string(latest) +
                              ")");
  }
  int previous = 0;
  for (const Migration& m : migrations) {
    ARBOR_CHECK(m.version > previous);  // the list is append-only and ordered
    previous = m.version;
    if (m.version > version) RETURN_IF_ERROR(Apply(db, m));
  }
  return Status::Ok();
}

}  // namespace arbor::catalog
