#include "catalog/sqlite_users.h"

#include "base/util.h"
#include "catalog/sqlite_stmt.h"

namespace arbor::catalog::sqlite_users {

// Emails compare with NOCASE (ASCII case folding), which is what makes "Ann@x.io" and
// "ann@x.io" one account. Sessions keep times as integers: expiry checks compare them.
const char* const kSchema = R"sql(
CREATE TABLE users (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE,
  email TEXT NOT NULL COLLATE NOCASE UNIQUE, name TEXT NOT NULL, password_hash TEXT NOT NULL,
  created TEXT NOT NULL, disabled INTEGER NOT NULL DEFAULT 0);
CREATE TABLE org_members (
  org_id TEXT NOT NULL REFERENCES orgs(id), user_id TEXT NOT NULL REFERENCES users(id),
  role TEXT NOT NULL, created TEXT NOT NULL, PRIMARY KEY (org_id, user_id));
CREATE INDEX org_members_by_user ON org_members(user_id);
CREATE TABLE sessions (
  token_hash TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users(id),
  org_id TEXT NOT NULL REFERENCES orgs(id), created_us INTEGER NOT NULL,
  last_seen_us INTEGER NOT NULL, expires_us INTEGER NOT NULL);
CREATE INDEX sessions_by_user ON sessions(user_id);
)sql";

namespace {

Status SqlError(sqlite3* db, const std::string& what) {
  return Internal("sqlite " + what + ": " + sqlite3_errmsg(db));
}

// A statement that must change exactly one row.
Status ChangeOne(sqlite3* db, Stmt& s, const std::string& what, const std::string& missing) {
  if (s.Step() != SQLITE_DONE) return SqlError(db, what);
  if (sqlite3_changes(db) == 0) return NotFound(missing);
  return Status::Ok();
}

User UserFrom(Stmt& s) {
  return User{.id = s.Text(0),
              .email = s.Text(1),
              .name = s.Text(2),
              .password_hash = s.Text(3),
              .created = s.Text(4),
              .disabled = s.Int(5) != 0};
}

constexpr const char* kUserColumns = "id, email, name, password_hash, created, disabled";

}  // namespace

Status CreateUser(sqlite3* db, const User& user) {
  Stmt s(db,
         "INSERT INTO users (id, email, name, password_hash, created, disabled) "
         "VALUES (?,?,?,?,?,?)");
  s.Bind(1, user.id).Bind(2, user.email).Bind(3, user.name).Bind(4, user.password_hash);
  s.Bind(5, user.created).Bind(6, std::int64_t{user.disabled ? 1 : 0});
  int rc = s.Step();
  if (rc == SQLITE_CONSTRAINT)
    return AlreadyExists("a user with email '" + user.email + "' exists");
  if (rc != SQLITE_DONE) return SqlError(db, "create user");
  return Status::Ok();
}

StatusOr<User> FindUser(sqlite3* db, const char* column, const std::string& value) {
  std::string sql = std::string("SELECT ") + kUserColumns + " FROM users WHERE " + column + " = ?";
  Stmt s(db, sql.c_str());
  s.Bind(1, value);
  int rc = s.Step();
  if (rc == SQLITE_ROW) return UserFrom(s);
  if (rc != SQLITE_DONE) return SqlError(db, "find user");
  return NotFound("user not found");
}

StatusOr<std::vector<User>> ListOrgUsers(sqlite3* db, const std::string& org_id) {
  Stmt s(db,
         "SELECT u.id, u.email, u.name, u.password_hash, u.created, u.disabled FROM users u "
         "JOIN org_members m ON m.user_id = u.id WHERE m.org_id = ? ORDER BY u.seq");
  s.Bind(1, org_id);
  std::vector<User> out;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) out.push_back(UserFrom(s));
  if (rc != SQLITE_DONE) return SqlError(db, "list users");
  return out;
}

Status UpdateUser(sqlite3* db, const User& user) {
  Stmt s(db, "UPDATE users SET name = ?, password_hash = ?, disabled = ? WHERE id = ?");
  s.Bind(1, user.name).Bind(2, user.password_hash);
  s.Bind(3, std::int64_t{user.disabled ? 1 : 0}).Bind(4, user.id);
  return ChangeOne(db, s, "update user", "user " + user.id + " not found");
}

Status AddOrgMember(sqlite3* db, const std::string& org_id, const std::string& user_id,
                    const std::string& role) {
  {
    Stmt dup(db, "SELECT 1 FROM org_members WHERE org_id = ? AND user_id = ?");
    dup.Bind(1, org_id).Bind(2, user_id);
    if (dup.Step() == SQLITE_ROW) return AlreadyExists("user is already a member of the org");
  }
  Stmt s(db, "INSERT INTO org_members (org_id, user_id, role, created) VALUES (?,?,?,?)");
  s.Bind(1, org_id).Bind(2, user_id).Bind(3, role).Bind(4, FormatIsoTime(NowMicros()));
  int rc = s.Step();
  // With foreign keys on, an unknown org or user fails the constraint.
  if (rc == SQLITE_CONSTRAINT) return NotFound("no such org or user");
  if (rc != SQLITE_DONE) return SqlError(db, "add org member");
  return Status::Ok();
}

Status SetOrgMemberRole(sqlite3* db, const std::string& org_id, const std::string& user_id,
                        const std::string& role) {
  Stmt s(db, "UPDATE org_members SET role = ? WHERE org_id = ? AND user_id = ?");
  s.Bind(1, role).Bind(2, org_id).Bind(3, user_id);
  return ChangeOne(db, s, "set member role", "user " + user_id + " is not a member of the org");
}

Status RemoveOrgMember(sqlite3* db, const std::string& org_id, const std::string& user_id) {
  Stmt s(db, "DELETE FROM org_members WHERE org_id = ? AND user_id = ?");
  s.Bind(1, org_id).Bind(2, user_id);
  RETURN_IF_ERROR(
      ChangeOne(db, s, "remove member", "user " + user_id + " is not a member of the org"));
  Stmt end(db, "DELETE FROM sessions WHERE org_id = ? AND user_id = ?");
  end.Bind(1, org_id).Bind(2, user_id);
  if (end.Step() != SQLITE_DONE) return SqlError(db, "end member sessions");
  return Status::Ok();
}

StatusOr<std::vector<OrgMember>> ListMembers(sqlite3* db, const char* column,
                                             const std::string& value) {
  std::string sql = std::string("SELECT org_id, user_id, role, created FROM org_members WHERE ") +
                    column + " = ? ORDER BY created, rowid";
  Stmt s(db, sql.c_str());
  s.Bind(1, value);
  std::vector<OrgMember> out;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) {
    out.push_back(
        {.org_id = s.Text(0), .user_id = s.Text(1), .role = s.Text(2), .created = s.Text(3)});
  }
  if (rc != SQLITE_DONE) return SqlError(db, "list org members");
  return out;
}

Status CreateSession(sqlite3* db, const Session& session) {
  Stmt s(db,
         "INSERT INTO sessions (token_hash, user_id, org_id, created_us, last_seen_us, "
         "expires_us) VALUES (?,?,?,?,?,?)");
  s.Bind(1, session.token_hash).Bind(2, session.user_id).Bind(3, session.org_id);
  s.Bind(4, session.created_us).Bind(5, session.last_seen_us).Bind(6, session.expires_us);
  if (s.Step() != SQLITE_DONE) return SqlError(db, "create session");
  return Status::Ok();
}

StatusOr<Session> FindSession(sqlite3* db, const std::string& token_hash) {
  Stmt s(db,
         "SELECT token_hash, user_id, org_id, created_us, last_seen_us, expires_us "
         "FROM sessions WHERE token_hash = ?");
  s.Bind(1, token_hash);
  int rc = s.Step();
  if (rc == SQLITE_DONE) return NotFound("no such session");
  if (rc != SQLITE_ROW) return SqlError(db, "find session");
  return Session{.token_hash = s.Text(0),
                 .user_id = s.Text(1),
                 .org_id = s.Text(2),
                 .created_us = s.Int(3),
                 .last_seen_us = s.Int(4),
                 .expires_us = s.Int(5)};
}

Status TouchSession(sqlite3* db, const std::string& token_hash, std::int64_t last_seen_us) {
  Stmt s(db, "UPDATE sessions SET last_seen_us = ? WHERE token_hash = ?");
  s.Bind(1, last_seen_us).Bind(2, token_hash);
  return ChangeOne(db, s, "touch session", "no such session");
}

Status DeleteSession(sqlite3* db, const std::string& token_hash) {
  Stmt s(db, "DELETE FROM sessions WHERE token_hash = ?");
  s.Bind(1, token_hash);
  if (s.Step() != SQLITE_DONE) return SqlError(db, "delete session");
  return Status::Ok();
}

Status DeleteUserSessions(sqlite3* db, const std::string& user_id, std::int64_t now_us) {
  Stmt s(db, "DELETE FROM sessions WHERE user_id = ? OR expires_us <= ?");
  s.Bind(1, user_id).Bind(2, now_us);
  if (s.Step() != SQLITE_DONE) return SqlError(db, "delete sessions");
  return Status::Ok();
}

}  // namespace arbor::catalog::sqlite_users
