#include "catalog/sqlite_backup.h"

#include <sqlite3.h>

#include <filesystem>

namespace arbor::catalog {
namespace {

struct Db {
  sqlite3* db = nullptr;
  ~Db() { sqlite3_close(db); }
};

Status OpenDb(const std::string& path, int flags, Db& out) {
  if (sqlite3_open_v2(path.c_str(), &out.db, flags, nullptr) != SQLITE_OK) {
    return Internal("cannot open " + path + ": " +
                    (out.db ? sqlite3_errmsg(out.db) : "out of memory"));
  }
  sqlite3_busy_timeout(out.db, 10000);
  return Status::Ok();
}

}  // namespace

Status BackupSqliteFile(const std::string& src_path, const std::string& dst_path) {
  if (std::filesystem::exists(dst_path)) return AlreadyExists(dst_path + " already exists");
  Db src;
  Db dst;
  RETURN_IF_ERROR(OpenDb(src_path, SQLITE_OPEN_READONLY, src));
  RETURN_IF_ERROR(OpenDb(dst_path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, dst));
  sqlite3_backup* backup = sqlite3_backup_init(dst.db, "main", src.db, "main");
  if (backup == nullptr) return Internal(std::string("sqlite backup: ") + sqlite3_errmsg(dst.db));
  // -1: every page in one step, i.e. one read transaction on the source (WAL mode lets the
  // server keep committing meanwhile); BUSY/LOCKED only while another connection checkpoints.
  int rc = SQLITE_OK;
  for (int tries = 0; tries < 100; ++tries) {
    rc = sqlite3_backup_step(backup, -1);
    if (rc != SQLITE_BUSY && rc != SQLITE_LOCKED) break;
    sqlite3_sleep(50);
  }
  sqlite3_backup_finish(backup);
  if (rc != SQLITE_DONE) return Internal(std::string("sqlite backup: ") + sqlite3_errstr(rc));
  // The copy is a standalone file: no -wal beside it.
  if (sqlite3_exec(dst.db, "PRAGMA journal_mode=DELETE", nullptr, nullptr, nullptr) != SQLITE_OK) {
    return Internal(std::string("sqlite backup: ") + sqlite3_errmsg(dst.db));
  }
  return Status::Ok();
}

}  // namespace arbor::catalog
