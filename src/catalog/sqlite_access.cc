#include "catalog/sqlite_access.h"

#include "catalog/sqlite_stmt.h"
#include "json/json.h"

namespace arbor::catalog::sqlite_access {

// Keys made before roles existed get NULL owner and role: they act as owner keys.
const char* const kSchema = R"sql(
ALTER TABLE api_keys ADD COLUMN user_id TEXT;
ALTER TABLE api_keys ADD COLUMN role TEXT;
CREATE TABLE access_objects (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, org_id TEXT NOT NULL,
  kind TEXT NOT NULL, name TEXT NOT NULL, created TEXT NOT NULL, data TEXT NOT NULL,
  UNIQUE (org_id, kind, name));
CREATE TABLE acls (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, org_id TEXT NOT NULL,
  object_type TEXT NOT NULL, object_id TEXT NOT NULL, user_id TEXT NOT NULL,
  group_id TEXT NOT NULL, permission TEXT NOT NULL, role_id TEXT NOT NULL,
  restrict_object_type TEXT NOT NULL, created TEXT NOT NULL,
  UNIQUE (org_id, object_type, object_id, user_id, group_id, permission, role_id,
          restrict_object_type));
CREATE INDEX acls_by_object ON acls(org_id, object_type, object_id);
)sql";

namespace {

Status SqlError(sqlite3* db, const std::string& what) {
  return Internal("sqlite " + what + ": " + sqlite3_errmsg(db));
}

bool IsConstraint(sqlite3* db) { return sqlite3_errcode(db) == SQLITE_CONSTRAINT; }

AccessObject ObjectFrom(Stmt& s) {
  AccessObject o{.id = s.Text(0),
                 .org_id = s.Text(1),
                 .kind = s.Text(2),
                 .name = s.Text(3),
                 .created = s.Text(4)};
  auto data = json::Parse(s.Text(5));
  if (data.ok() && data->is_object()) o.data = std::move(data->get_object());
  return o;
}

AclRecord AclFrom(Stmt& s) {
  return AclRecord{.id = s.Text(0),
                   .org_id = s.Text(1),
                   .object_type = s.Text(2),
                   .object_id = s.Text(3),
                   .user_id = s.Text(4),
                   .group_id = s.Text(5),
                   .permission = s.Text(6),
                   .role_id = s.Text(7),
                   .restrict_object_type = s.Text(8),
                   .created = s.Text(9)};
}

}  // namespace

Status CreateAccessObject(sqlite3* db, const AccessObject& o) {
  Stmt s(db,
         "INSERT INTO access_objects (id, org_id, kind, name, created, data) "
         "VALUES (?,?,?,?,?,?)");
  s.Bind(1, o.id).Bind(2, o.org_id).Bind(3, o.kind).Bind(4, o.name).Bind(5, o.created);
  s.Bind(6, json::Serialize(o.data));
  if (s.Step() == SQLITE_DONE) return Status::Ok();
  if (IsConstraint(db)) return AlreadyExists("a " + o.kind + " named '" + o.name + "' exists");
  return SqlError(db, "create " + o.kind);
}

Status UpdateAccessObject(sqlite3* db, const AccessObject& o) {
  Stmt s(db, "UPDATE access_objects SET name = ?, data = ? WHERE id = ? AND org_id = ?");
  s.Bind(1, o.name).Bind(2, json::Serialize(o.data)).Bind(3, o.id).Bind(4, o.org_id);
  if (s.Step() != SQLITE_DONE) {
    if (IsConstraint(db)) return AlreadyExists("a " + o.kind + " named '" + o.name + "' exists");
    return SqlError(db, "update " + o.kind);
  }
  if (sqlite3_changes(db) == 0) return NotFound("no " + o.kind + " with id " + o.id);
  return Status::Ok();
}

StatusOr<std::vector<AccessObject>> ListAccessObjects(sqlite3* db, const std::string& org_id,
                                                      const std::string& kind,
                                                      const std::string& id) {
  Stmt s(db,
         "SELECT id, org_id, kind, name, created, data FROM access_objects "
         "WHERE org_id = ? AND kind = ? AND (? = '' OR id = ?) ORDER BY seq");
  s.Bind(1, org_id).Bind(2, kind).Bind(3, id).Bind(4, id);
  std::vector<AccessObject> out;
  while (s.Step() == SQLITE_ROW) out.push_back(ObjectFrom(s));
  return out;
}

// Grants that name a deleted role or group go with it.
Status DeleteAccessObject(sqlite3* db, const std::string& org_id, const std::string& kind,
                          const std::string& id) {
  Stmt s(db, "DELETE FROM access_objects WHERE org_id = ? AND kind = ? AND id = ?");
  s.Bind(1, org_id).Bind(2, kind).Bind(3, id);
  if (s.Step() != SQLITE_DONE) return SqlError(db, "delete " + kind);
  if (sqlite3_changes(db) == 0) return NotFound("no " + kind + " with id " + id);
  Stmt acls(db, "DELETE FROM acls WHERE org_id = ? AND (group_id = ? OR role_id = ?)");
  acls.Bind(1, org_id).Bind(2, id).Bind(3, id);
  if (acls.Step() != SQLITE_DONE) return SqlError(db, "delete ACLs of " + kind);
  return Status::Ok();
}

Status CreateAcl(sqlite3* db, const AclRecord& a) {
  Stmt s(db,
         "INSERT INTO acls (id, org_id, object_type, object_id, user_id, group_id, permission, "
         "role_id, restrict_object_type, created) VALUES (?,?,?,?,?,?,?,?,?,?)");
  s.Bind(1, a.id).Bind(2, a.org_id).Bind(3, a.object_type).Bind(4, a.object_id);
  s.Bind(5, a.user_id).Bind(6, a.group_id).Bind(7, a.permission).Bind(8, a.role_id);
  s.Bind(9, a.restrict_object_type).Bind(10, a.created);
  if (s.Step() == SQLITE_DONE) return Status::Ok();
  if (IsConstraint(db)) return AlreadyExists("an identical ACL exists");
  return SqlError(db, "create ACL");
}

StatusOr<std::vector<AclRecord>> ListAcls(sqlite3* db, const std::string& org_id,
                                          const AclFilter& f) {
  Stmt s(db,
         "SELECT id, org_id, object_type, object_id, user_id, group_id, permission, role_id, "
         "restrict_object_type, created FROM acls WHERE org_id = ? "
         "AND (?2 IS NULL OR id = ?2) AND (?3 IS NULL OR object_type = ?3) "
         "AND (?4 IS NULL OR object_id = ?4) ORDER BY seq");
  s.Bind(1, org_id);
  if (f.id) s.Bind(2, *f.id);
  if (f.object_type) s.Bind(3, *f.object_type);
  if (f.object_id) s.Bind(4, *f.object_id);
  std::vector<AclRecord> out;
  while (s.Step() == SQLITE_ROW) out.push_back(AclFrom(s));
  return out;
}

Status DeleteAcl(sqlite3* db, const std::string& org_id, const std::string& id) {
  Stmt s(db, "DELETE FROM acls WHERE org_id = ? AND id = ?");
  s.Bind(1, org_id).Bind(2, id);
  if (s.Step() != SQLITE_DONE) return SqlError(db, "delete ACL");
  if (sqlite3_changes(db) == 0) return NotFound("no ACL with id " + id);
  return Status::Ok();
}

}  // namespace arbor::catalog::sqlite_access
