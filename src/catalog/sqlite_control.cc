#include "catalog/sqlite_control.h"

#include <algorithm>

#include "catalog/sqlite_stmt.h"
#include "json/json.h"

namespace arbor::catalog::sqlite_control {

const char* const kSchema = R"sql(
CREATE TABLE IF NOT EXISTS functions (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, org_id TEXT NOT NULL,
  project_id TEXT NOT NULL, kind TEXT NOT NULL, slug TEXT NOT NULL, created TEXT NOT NULL,
  deleted INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS functions_by_slug ON functions(org_id, project_id, slug);
CREATE TABLE IF NOT EXISTS function_versions (
  function_id TEXT NOT NULL, xact_id INTEGER NOT NULL, slug TEXT NOT NULL, data TEXT NOT NULL,
  PRIMARY KEY (function_id, xact_id));
CREATE TABLE IF NOT EXISTS function_environments (
  function_id TEXT NOT NULL, environment TEXT NOT NULL, xact_id INTEGER NOT NULL,
  PRIMARY KEY (function_id, environment));
CREATE TABLE IF NOT EXISTS ai_secrets (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, org_id TEXT NOT NULL,
  project_id TEXT NOT NULL, name TEXT NOT NULL, type TEXT NOT NULL, metadata TEXT NOT NULL,
  preview TEXT NOT NULL, sealed_value TEXT NOT NULL, wrapped_key TEXT NOT NULL,
  created TEXT NOT NULL, updated_at TEXT NOT NULL, UNIQUE (org_id, project_id, name));
)sql";

namespace {

Status SqlError(sqlite3* db, const std::string& what) {
  return Internal("sqlite " + what + ": " + sqlite3_errmsg(db));
}

// BEGIN IMMEDIATE ... COMMIT, rolled back unless Commit() succeeds.
class Txn {
 public:
  explicit Txn(sqlite3* db) : db_(db) {
    ok_ = sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) == SQLITE_OK;
  }
  ~Txn() {
    if (ok_ && !committed_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }
  Txn(const Txn&) = delete;
  Txn& operator=(const Txn&) = delete;

  Status Begun() const { return ok_ ? Status::Ok() : SqlError(db_, "begin"); }
  Status Commit() {
    if (sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
      return SqlError(db_, "commit");
    }
    committed_ = true;
    return Status::Ok();
  }

 private:
  sqlite3* db_;
  bool ok_ = false;
  bool committed_ = false;
};

boost::json::value ParseOr(const std::string& text, boost::json::value fallback) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(text, ec);
  return ec ? fallback : v;
}

// Another live function of the project already uses `slug`.
StatusOr<bool> SlugTaken(sqlite3* db, const FunctionRecord& r) {
  Stmt s(db,
         "SELECT 1 FROM functions WHERE org_id = ? AND project_id = ? AND slug = ? "
         "AND deleted = 0 AND id != ?");
  s.Bind(1, r.org_id).Bind(2, r.project_id).Bind(3, r.slug).Bind(4, r.id);
  int rc = s.Step();
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return SqlError(db, "slug lookup");
  return rc == SQLITE_ROW;
}

// Appends the version (xact above every stored one) and pins it to `environments`.
Status InsertVersion(sqlite3* db, FunctionRecord& r, std::uint64_t min_xact,
                     const std::vector<std::string>& environments) {
  Stmt top(db, "SELECT COALESCE(MAX(xact_id), 0) FROM function_versions");
  if (top.Step() != SQLITE_ROW) return SqlError(db, "max version");
  r.xact_id = std::max<std::uint64_t>(min_xact, static_cast<std::uint64_t>(top.Int(0)) + 1);
  Stmt s(db, "INSERT INTO function_versions (function_id, xact_id, slug, data) VALUES (?,?,?,?)");
  s.Bind(1, r.id).Bind(2, static_cast<std::int64_t>(r.xact_id)).Bind(3, r.slug);
  s.Bind(4, json::Serialize(r.data));
  if (s.Step() != SQLITE_DONE) return SqlError(db, "insert function version");
  for (const std::string& env : environments) {
    Stmt e(db,
           "INSERT OR REPLACE INTO function_environments (function_id, environment, xact_id) "
           "VALUES (?,?,?)");
    e.Bind(1, r.id).Bind(2, env).Bind(3, static_cast<std::int64_t>(r.xact_id));
    if (e.Step() != SQLITE_DONE) return SqlError(db, "pin environment");
  }
  return Status::Ok();
}

Status SlugConflict(const FunctionRecord& r) {
  return AlreadyExists("a " + r.kind + " with slug '" + r.slug + "' already exists in project " +
                       r.project_id);
}

AiSecretRecord SecretFrom(Stmt& s) {
  AiSecretRecord r;
  r.id = s.Text(0);
  r.org_id = s.Text(1);
  r.project_id = s.Text(2);
  r.name = s.Text(3);
  r.type = ParseOr(s.Text(4), nullptr);
  r.metadata = ParseOr(s.Text(5), nullptr);
  r.preview = s.Text(6);
  r.sealed_value = s.Text(7);
  r.wrapped_key = s.Text(8);
  r.created = s.Text(9);
  r.updated_at = s.Text(10);
  return r;
}

}  // namespace

StatusOr<FunctionRecord> CreateFunction(sqlite3* db, FunctionRecord record, std::uint64_t min_xact,
                                        const std::vector<std::string>& environments) {
  Txn txn(db);
  RETURN_IF_ERROR(txn.Begun());
  ASSIGN_OR_RETURN(bool taken, SlugTaken(db, record));
  if (taken) return SlugConflict(record);
  Stmt s(db,
         "INSERT INTO functions (id, org_id, project_id, kind, slug, created) "
         "VALUES (?,?,?,?,?,?)");
  s.Bind(1, record.id).Bind(2, record.org_id).Bind(3, record.project_id).Bind(4, record.kind);
  s.Bind(5, record.slug).Bind(6, record.created);
  if (s.Step() != SQLITE_DONE) return SqlError(db, "create function");
  record.seq = sqlite3_last_insert_rowid(db);
  RETURN_IF_ERROR(InsertVersion(db, record, min_xact, environments));
  RETURN_IF_ERROR(txn.Commit());
  return record;
}

StatusOr<FunctionRecord> AddFunctionVersion(sqlite3* db, FunctionRecord record,
                                            std::uint64_t min_xact,
                                            const std::vector<std::string>& environments) {
  Txn txn(db);
  RETURN_IF_ERROR(txn.Begun());
  ASSIGN_OR_RETURN(bool taken, SlugTaken(db, record));
  if (taken) return SlugConflict(record);
  Stmt s(db, "UPDATE functions SET slug = ? WHERE id = ? AND org_id = ? AND deleted = 0");
  s.Bind(1, record.slug).Bind(2, record.id).Bind(3, record.org_id);
  if (s.Step() != SQLITE_DONE) return SqlError(db, "update function");
  if (sqlite3_changes(db) == 0) return NotFound(record.kind + " " + record.id + " not found");
  RETURN_IF_ERROR(InsertVersion(db, record, min_xact, environments));
  RETURN_IF_ERROR(txn.Commit());
  return record;
}

StatusOr<std::vector<FunctionRecord>> ListFunctions(sqlite3* db, const std::string& org_id,
                                                    const std::string& id,
                                                    const FunctionFilter& filter) {
  // Per live function, the version the filter selects: the one pinned to the environment,
  // else the newest at or below the version (newest of all without one).
  Stmt s(db,
         "SELECT f.seq, f.id, f.org_id, f.project_id, f.kind, f.created, v.xact_id, v.slug, "
         "v.data FROM functions f JOIN function_versions v ON v.function_id = f.id "
         "WHERE f.org_id = ?1 AND f.deleted = 0 AND (?2 IS NULL OR f.id = ?2) "
         "AND (?3 IS NULL OR f.project_id = ?3) AND (?4 IS NULL OR f.kind = ?4) "
         "AND v.xact_id = (CASE WHEN ?6 IS NOT NULL THEN (SELECT e.xact_id FROM "
         "function_environments e WHERE e.function_id = f.id AND e.environment = ?6) "
         "ELSE (SELECT MAX(w.xact_id) FROM function_versions w WHERE w.function_id = f.id "
         "AND (?5 IS NULL OR w.xact_id <= ?5)) END) "
         "AND (?7 IS NULL OR v.slug = ?7) ORDER BY f.seq");
  if (!s.valid()) return SqlError(db, "prepare list functions");
  s.Bind(1, org_id);
  if (!id.empty()) s.Bind(2, id);
  if (filter.project_id) s.Bind(3, *filter.project_id);
  if (filter.kind) s.Bind(4, *filter.kind);
  if (filter.version) s.Bind(5, static_cast<std::int64_t>(*filter.version));
  if (filter.environment) s.Bind(6, *filter.environment);
  if (filter.slug) s.Bind(7, *filter.slug);
  std::vector<FunctionRecord> out;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) {
    FunctionRecord r;
    r.seq = s.Int(0);
    r.id = s.Text(1);
    r.org_id = s.Text(2);
    r.project_id = s.Text(3);
    r.kind = s.Text(4);
    r.created = s.Text(5);
    r.xact_id = static_cast<std::uint64_t>(s.Int(6));
    r.slug = s.Text(7);
    boost::json::value data = ParseOr(s.Text(8), boost::json::object());
    if (data.is_object()) r.data = std::move(data.get_object());
    out.push_back(std::move(r));
  }
  if (rc != SQLITE_DONE) return SqlError(db, "list functions");
  return out;
}

StatusOr<std::vector<FunctionRecord>> ListFunctionVersions(sqlite3* db, const std::string& org_id,
                                                           const std::string& id) {
  Stmt s(db,
         "SELECT f.seq, f.project_id, f.kind, f.created, v.xact_id, v.slug, v.data "
         "FROM functions f JOIN function_versions v ON v.function_id = f.id "
         "WHERE f.org_id = ? AND f.id = ? AND f.deleted = 0 ORDER BY v.xact_id DESC");
  if (!s.valid()) return SqlError(db, "prepare list function versions");
  s.Bind(1, org_id).Bind(2, id);
  std::vector<FunctionRecord> out;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) {
    FunctionRecord r{.id = id, .org_id = org_id};
    r.seq = s.Int(0);
    r.project_id = s.Text(1);
    r.kind = s.Text(2);
    r.created = s.Text(3);
    r.xact_id = static_cast<std::uint64_t>(s.Int(4));
    r.slug = s.Text(5);
    boost::json::value data = ParseOr(s.Text(6), boost::json::object());
    if (data.is_object()) r.data = std::move(data.get_object());
    out.push_back(std::move(r));
  }
  if (rc != SQLITE_DONE) return SqlError(db, "list function versions");
  if (out.empty()) return NotFound("function " + id + " not found");
  return out;
}

Status DeleteFunction(sqlite3* db, const std::string& org_id, const std::string& id) {
  Stmt s(db, "UPDATE functions SET deleted = 1 WHERE id = ? AND org_id = ? AND deleted = 0");
  s.Bind(1, id).Bind(2, org_id);
  if (s.Step() != SQLITE_DONE) return SqlError(db, "delete function");
  if (sqlite3_changes(db) == 0) return NotFound("function " + id + " not found");
  return Status::Ok();
}

Status CreateAiSecret(sqlite3* db, const AiSecretRecord& r) {
  Stmt s(db,
         "INSERT INTO ai_secrets (id, org_id, project_id, name, type, metadata, preview, "
         "sealed_value, wrapped_key, created, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)");
  s.Bind(1, r.id).Bind(2, r.org_id).Bind(3, r.project_id).Bind(4, r.name);
  s.Bind(5, json::Serialize(r.type)).Bind(6, json::Serialize(r.metadata)).Bind(7, r.preview);
  s.Bind(8, r.sealed_value).Bind(9, r.wrapped_key).Bind(10, r.created).Bind(11, r.updated_at);
  int rc = s.Step();
  if (rc == SQLITE_CONSTRAINT) return AlreadyExists("an AI secret named '" + r.name + "' exists");
  if (rc != SQLITE_DONE) return SqlError(db, "create ai secret");
  return Status::Ok();
}

Status UpdateAiSecret(sqlite3* db, const AiSecretRecord& r) {
  Stmt s(db,
         "UPDATE ai_secrets SET name = ?, type = ?, metadata = ?, preview = ?, "
         "sealed_value = ?, wrapped_key = ?, updated_at = ? WHERE id = ? AND org_id = ?");
  s.Bind(1, r.name).Bind(2, json::Serialize(r.type)).Bind(3, json::Serialize(r.metadata));
  s.Bind(4, r.preview).Bind(5, r.sealed_value).Bind(6, r.wrapped_key).Bind(7, r.updated_at);
  s.Bind(8, r.id).Bind(9, r.org_id);
  int rc = s.Step();
  if (rc == SQLITE_CONSTRAINT) return AlreadyExists("an AI secret named '" + r.name + "' exists");
  if (rc != SQLITE_DONE) return SqlError(db, "update ai secret");
  if (sqlite3_changes(db) == 0) return NotFound("AI secret " + r.id + " not found");
  return Status::Ok();
}

StatusOr<std::vector<AiSecretRecord>> ListAiSecrets(sqlite3* db, const std::string& org_id,
                                                    const std::string& id) {
  Stmt s(db,
         "SELECT id, org_id, project_id, name, type, metadata, preview, sealed_value, "
         "wrapped_key, created, updated_at FROM ai_secrets "
         "WHERE (?1 IS NULL OR org_id = ?1) AND (?2 IS NULL OR id = ?2) ORDER BY seq");
  if (!org_id.empty()) s.Bind(1, org_id);
  if (!id.empty()) s.Bind(2, id);
  std::vector<AiSecretRecord> out;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) out.push_back(SecretFrom(s));
  if (rc != SQLITE_DONE) return SqlError(db, "list ai secrets");
  return out;
}

Status DeleteAiSecret(sqlite3* db, const std::string& org_id, const std::string& id) {
  Stmt s(db, "DELETE FROM ai_secrets WHERE id = ? AND org_id = ?");
  s.Bind(1, id).Bind(2, org_id);
  if (s.Step() != SQLITE_DONE) return SqlError(db, "delete ai secret");
  if (sqlite3_changes(db) == 0) return NotFound("AI secret " + id + " not found");
  return Status::Ok();
}

Status RewrapAiSecrets(sqlite3* db, const std::vector<std::pair<std::string, std::string>>& keys) {
  Txn txn(db);
  RETURN_IF_ERROR(txn.Begun());
  for (const auto& [id, wrapped] : keys) {
    Stmt s(db, "UPDATE ai_secrets SET wrapped_key = ? WHERE id = ?");
    s.Bind(1, wrapped).Bind(2, id);
    if (s.Step() != SQLITE_DONE) return SqlError(db, "rewrap ai secret");
    if (sqlite3_changes(db) == 0) return NotFound("AI secret " + id + " vanished during rotation");
  }
  return txn.Commit();
}

}  // namespace arbor::catalog::sqlite_control
