#include <sqlite3.h>

#include <mutex>

#include "base/util.h"
#include "catalog/catalog.h"
#include "catalog/migrations.h"
#include "catalog/sqlite_access.h"
#include "catalog/sqlite_audit.h"
#include "catalog/sqlite_control.h"
#include "catalog/sqlite_retention.h"
#include "catalog/sqlite_stmt.h"
#include "catalog/sqlite_users.h"
#include "json/json.h"

namespace arbor::catalog {

const char* ObjectKindName(ObjectKind kind) {
  switch (kind) {
    case ObjectKind::kProject:
      return "project";
    case ObjectKind::kExperiment:
      return "experiment";
    case ObjectKind::kDataset:
      return "dataset";
  }
  return "unknown";
}

namespace {

class SqliteCatalog final : public Catalog {
 public:
  explicit SqliteCatalog(sqlite3* db) : db_(db) {}
  ~SqliteCatalog() override { sqlite3_close(db_); }

  Status Init() {
    RETURN_IF_ERROR(
        Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
             "PRAGMA busy_timeout=5000; PRAGMA foreign_keys=ON;"));
    return Migrate(db_, CatalogMigrations());
  }

  StatusOr<Org> CreateOrg(const std::string& name) override {
    std::lock_guard<std::mutex> lock(mu_);
    Org org{.id = NewUuid(), .name = name, .created = FormatIsoTime(NowMicros())};
    Stmt s(db_, "INSERT INTO orgs (id, name, created) VALUES (?, ?, ?)");
    s.Bind(1, org.id).Bind(2, org.name).Bind(3, org.created);
    int rc = s.Step();
    if (rc == SQLITE_CONSTRAINT) return AlreadyExists("an org named '" + name + "' exists");
    if (rc != SQLITE_DONE) return Error("create org");
    return org;
  }

  StatusOr<Org> GetOrg(const std::string& id) override {
    return OneOrg("SELECT id, name, created FROM orgs WHERE id = ?", id);
  }

  StatusOr<Org> FindOrgByName(const std::string& name) override {
    return OneOrg("SELECT id, name, created FROM orgs WHERE name = ?", name);
  }

  StatusOr<std::vector<Org>> ListOrgs() override {
    std::lock_guard<std::mutex> lock(mu_);
    Stmt s(db_, "SELECT id, name, created FROM orgs ORDER BY created");
    std::vector<Org> out;
    while (s.Step() == SQLITE_ROW) out.push_back({s.Text(0), s.Text(1), s.Text(2)});
    return out;
  }

  Status RenameOrg(const std::string& id, const std::string& name) override {
    std::lock_guard<std::mutex> lock(mu_);
    Stmt s(db_, "UPDATE orgs SET name = ? WHERE id = ?");
    s.Bind(1, name).Bind(2, id);
    int rc = s.Step();
    if (rc == SQLITE_CONSTRAINT) return AlreadyExists("an org named '" + name + "' exists");
    if (rc != SQLITE_DONE) return Error("rename org");
    if (sqlite3_changes(db_) == 0) return NotFound("org " + id + " not found");
    return Status::Ok();
  }

  Status CreateApiKey(const ApiKey& key) override {
    std::lock_guard<std::mutex> lock(mu_);
    Stmt s(db_,
           "INSERT INTO api_keys (id, org_id, name, key_hash, created, user_id, role) "
           "VALUES (?,?,?,?,?,NULLIF(?,''),NULLIF(?,''))");
    s.Bind(1, key.id).Bind(2, key.org_id).Bind(3, key.name).Bind(4, key.key_hash);
    s.Bind(5, key.created).Bind(6, key.user_id).Bind(7, key.role);
    if (s.Step() != SQLITE_DONE) return Error("create api key");
    return Status::Ok();
  }

  StatusOr<ApiKey> FindApiKeyByHash(const std::string& key_hash) override {
    std::lock_guard<std::mutex> lock(mu_);
    Stmt s(db_,
           "SELECT id, org_id, name, key_hash, created, revoked, user_id, role FROM api_keys "
           "WHERE key_hash = ?");
    s.Bind(1, key_hash);
    if (s.Step() != SQLITE_ROW) return NotFound("no such API key");
    return KeyFrom(s);
  }

  StatusOr<std::vector<ApiKey>> ListApiKeys() override {
    std::lock_guard<std::mutex> lock(mu_);
    Stmt s(db_,
           "SELECT id, org_id, name, key_hash, created, revoked, user_id, role FROM api_keys "
           "ORDER BY created");
    std::vector<ApiKey> out;
    while (s.Step() == SQLITE_ROW) out.push_back(KeyFrom(s));
    return out;
  }

  Status RevokeApiKey(const std::string& id) override {
    std::lock_guard<std::mutex> lock(mu_);
    Stmt s(db_, "UPDATE api_keys SET revoked = 1 WHERE id = ?");
    s.Bind(1, id);
    if (s.Step() != SQLITE_DONE) return Error("revoke api key");
    if (sqlite3_changes(db_) == 0) return NotFound("no API key with id " + id);
    return Status::Ok();
  }

  StatusOr<CatalogObject> CreateObject(CatalogObject object) override {
    std::lock_guard<std::mutex> lock(mu_);
    {
      Stmt dup(db_,
               "SELECT 1 FROM objects WHERE org_id = ? AND kind = ? AND project_id = ? "
               "AND name = ? AND deleted = 0");
      dup.Bind(1, object.org_id).Bind(2, std::string(ObjectKindName(object.kind)));
      dup.Bind(3, object.project_id).Bind(4, object.name);
      if (dup.Step() == SQLITE_ROW) {
        return AlreadyExists(std::string(ObjectKindName(object.kind)) + " '" + object.name +
                             "' already exists");
      }
    }
    Stmt s(db_,
           "INSERT INTO objects (id, org_id, kind, project_id, name, created, data) "
           "VALUES (?,?,?,?,?,?,?)");
    s.Bind(1, object.id).Bind(2, object.org_id).Bind(3, std::string(ObjectKindName(object.kind)));
    s.Bind(4, object.project_id).Bind(5, object.name).Bind(6, object.created);
    s.Bind(7, json::Serialize(object.data));
    if (s.Step() != SQLITE_DONE) return Error("create object");
    object.seq = sqlite3_last_insert_rowid(db_);
    return object;
  }

  StatusOr<CatalogObject> GetObject(const std::string& org_id, ObjectKind kind,
                                    const std::string& id) override {
    std::lock_guard<std::mutex> lock(mu_);
    Stmt s(db_,
           "SELECT seq, id, org_id, kind, project_id, name, created, data FROM objects "
           "WHERE id = ? AND org_id = ? AND kind = ? AND deleted = 0");
    s.Bind(1, id).Bind(2, org_id).Bind(3, std::string(ObjectKindName(kind)));
    if (s.Step() != SQLITE_ROW) {
      return NotFound(std::string(ObjectKindName(kind)) + " " + id + " not found");
    }
    return ObjectFrom(s, kind);
  }

  StatusOr<std::vector<CatalogObject>> ListObjects(const std::string& org_id, ObjectKind kind,
                                                   const ObjectFilter& filter) override {
    std::lock_guard<std::mutex> lock(mu_);
    Stmt s(db_,
           "SELECT seq, id, org_id, kind, project_id, name, created, data FROM objects "
           "WHERE org_id = ? AND kind = ? AND deleted = 0 AND (? IS NULL OR project_id = ?) "
           "AND (? IS NULL OR name = ?) ORDER BY seq");
    s.Bind(1, org_id).Bind(2, std::string(ObjectKindName(kind)));
    BindOptional(s, 3, filter.project_id);
    BindOptional(s, 5, filter.name);
    std::vector<CatalogObject> out;
    while (s.Step() == SQLITE_ROW) out.push_back(ObjectFrom(s, kind));
    return out;
  }

  Status UpdateObject(const CatalogObject& object) override {
    std::lock_guard<std::mutex> lock(mu_);
    Stmt s(db_,
           "UPDATE objects SET name = ?, data = ? WHERE id = ? AND org_id = ? "
           "AND deleted = 0");
    s.Bind(1, object.name).Bind(2, json::Serialize(object.data));
    s.Bind(3, object.id).Bind(4, object.org_id);
    if (s.Step() != SQLITE_DONE) return Error("update object");
    if (sqlite3_changes(db_) == 0) return NotFound("object " + object.id + " not found");
    return Status::Ok();
  }

  Status DeleteObject(const std::string& org_id, ObjectKind kind, const std::string& id) override {
    std::lock_guard<std::mutex> lock(mu_);
    Stmt s(db_, "UPDATE objects SET deleted = 1 WHERE id = ? AND org_id = ? AND kind = ?");
    s.Bind(1, id).Bind(2, org_id).Bind(3, std::string(ObjectKindName(kind)));
    if (s.Step() != SQLITE_DONE) return Error("delete object");
    if (sqlite3_changes(db_) == 0) return NotFound("object " + id + " not found");
    return Status::Ok();
  }

  // Prompts, functions and AI secrets: statements in sqlite_control.cc.
  StatusOr<FunctionRecord> CreateFunction(FunctionRecord record, std::uint64_t min_xact,
                                          const std::vector<std::string>& envs) override {
    std::lock_guard<std::mutex> lock(mu_);
    return sqlite_control::CreateFunction(db_, std::move(record), min_xact, envs);
  }
  StatusOr<FunctionRecord> AddFunctionVersion(FunctionRecord record, std::uint64_t min_xact,
                                              const std::vector<std::string>& envs) override {
    std::lock_guard<std::mutex> lock(mu_);
    return sqlite_control::AddFunctionVersion(db_, std::move(record), min_xact, envs);
  }
  StatusOr<FunctionRecord> GetFunction(const std::string& org_id, const std::string& id,
                                       const FunctionFilter& filter) override {
    std::lock_guard<std::mutex> lock(mu_);
    ASSIGN_OR_RETURN(auto found, sqlite_control::ListFunctions(db_, org_id, id, filter));
    if (found.empty()) return NotFound("function " + id + " not found");
    return std::move(found.front());
  }
  StatusOr<std::vector<FunctionRecord>> ListFunctions(const std::string& org_id,
                                                      const FunctionFilter& filter) override {
    std::lock_guard<std::mutex> lock(mu_);
    return sqlite_control::ListFunctions(db_, org_id, "", filter);
  }
  StatusOr<std::vector<FunctionRecord>> ListFunctionVersions(const std::string& org_id,
                                                             const std::string& id) override {
    std::lock_guard<std::mutex> lock(mu_);
    return sqlite_control::ListFunctionVersions(db_, org_id, id);
  }
  Status DeleteFunction(const std::string& org_id, const std::string& id) override {
    std::lock_guard<std::mutex> lock(mu_);
    return sqlite_control::DeleteFunction(db_, org_id, id);
  }
  Status CreateAiSecret(const AiSecretRecord& secret) override {
    std::lock_guard<std::mutex> lock(mu_);
    return sqlite_control::CreateAiSecret(db_, secret);
  }
  Status UpdateAiSecret(const AiSecretRecord& secret) override {
    std::lock_guard<std::mutex> lock(mu_);
    return sqlite_control::UpdateAiSecret(db_, secret);
  }
  StatusOr<AiSecretRecord> GetAiSecret(const std::string& org_id, const std::string& id) override {
    if (org_id.empty() || id.empty()) return NotFound("AI secret " + id + " not found");
    std::lock_guard<std::mutex> lock(mu_);
    ASSIGN_OR_RETURN(auto found, sqlite_control::ListAiSecrets(db_, org_id, id));
    if (found.empty()) return NotFound("AI secret " + id + " not found");
    return std::move(found.front());
  }
  StatusOr<std::vector<AiSecretRecord>> ListAiSecrets(const std::string& org_id) override {
    std::lock_guard<std::mutex> lock(mu_);
    return sqlite_control::ListAiSecrets(db_, org_id, "");
  }
  Status DeleteAiSecret(const std::string& org_id, const std::string& id) override {
    std::lock_guard<std::mutex> lock(mu_);
    return sqlite_control::DeleteAiSecret(db_, org_id, id);
  }
  Status RewrapAiSecrets(const std::vector<std::pair<std::string, std::string>>& keys) override {
    std::lock_guard<std::mutex> lock(mu_);
    return sqlite_control::RewrapAiSecrets(db_, keys);
  }

  // Users, org membership and sessions: statements in sqlite_users.cc.
  Status CreateUser(const User& user) override {
    std::lock_guard<std::mutex> lock(mu_);
    return sqlite_users::CreateUser(db_, user);
  }
  StatusOr<User> GetUser(const std::string& id) override {
    std::lock_guard<std::mutex> lock(mu_);
    return sqlite_users::FindUser(db_, "id", id);
  }
  StatusOr<User> FindUserByEmail(const std::string& email) override {
    std::lock_guard<std::mutex> lock(mu_);
    return sqlite_users::FindUser(db_, "email", email);
  }
  StatusOr<std::vector<User>> ListOrgUsers(const std::string& org_id) override {
    std::lock_guard<std::mutex> lock(mu_);
    return sqlite_users::ListOrgUsers(db_, org_id);
  }
  Status UpdateUser(const User& user) override {
    std::lock_guard<std::mutex> lock(mu_);
    return sqlite_users::UpdateUser(db_, user);
  }
  Status AddOrgMember(const std::string& org_id, const std::string& user_id,
                      const std::string& role) override {
    std::lock_guard<std::mutex> lock(mu_);
    return sqlite_users::AddOrgMember(db_, org_id, user_id, role);
  }
  Status SetOrgMemberRole(const std::string& org_id, const std::string& user_id,
                          const std::string& role) override {
    std::lock_guard<std::mutex> lock(mu_);
    return sqlite_users::SetOrgMemberRole(db_, org_id, user_id, role);
  }
  Status RemoveOrgMember(const std::string& org_id, const std::string& user_id) override {
    std::lock_guard<std::mutex> lock(mu_);
    return sqlite_users::RemoveOrgMember(db_, org_id, user_id);
  }
  StatusOr<std::vector<OrgMember>> ListOrgMembers(const std::string& org_id) override {
    std::lock_guard<std::mutex> lock(mu_);
    return sqlite_users::ListMembers(db_, "org_id", org_id);
  }
  StatusOr<std::vector<OrgMember>> ListUserOrgs(const std::string& user_id) override {
    std::lock_guard<std::mutex> lock(mu_);
    return sqlite_users::ListMembers(db_, "user_id", user_id);
  }
  Status CreateSession(const Session& session) override {
    std::lock_guard<std::mutex> lock(mu_);
    return sqlite_users::CreateSession(db_, session);
  }
  StatusOr<Session> FindSession(const std::string& token_hash) override {
    std::lock_guard<std::mutex> lock(mu_);
    return sqlite_users::FindSession(db_, token_hash);
  }
  Status TouchSession(const std::string& token_hash, std::int64_t last_seen_us) override {
    std::lock_guard<std::mutex> lock(mu_);
    return sqlite_users::TouchSession(db_, token_hash, last_seen_us);
  }
  Status DeleteSession(const std::string& token_hash) override {
    std::lock_guard<std::mutex> lock(mu_);
    return sqlite_users::DeleteSession(db_, token_hash);
  }
  Status DeleteUserSessions(const std::string& user_id, std::int64_t now_us) override {
    std::lock_guard<std::mutex> lock(mu_);
    return sqlite_users::DeleteUserSessions(db_, user_id, now_us);
  }

  // Audit log: statements in sqlite_audit.cc.
  StatusOr<AuditEvent> AppendAuditEvent(const AuditEvent& event) override {
    std::lock_guard<std::mutex> lock(mu_);
    return sqlite_audit::Append(db_, event);
  }
  StatusOr<std::vector<AuditEvent>> ListAuditEvents(const std::string& org_id,
                                                    const AuditQuery& query) override {
    std::lock_guard<std::mutex> lock(mu_);
    return sqlite_audit::List(db_, org_id, query);
  }

  Status CreateAccessObject(const AccessObject& object) override {
    std::lock_guard<std::mutex> lock(mu_);
    return sqlite_access::CreateAccessObject(db_, object);
  }
  Status UpdateAccessObject(const AccessObject& object) override {
    std::lock_guard<std::mutex> lock(mu_);
    return sqlite_access::UpdateAccessObject(db_, object);
  }
  StatusOr<std::vector<AccessObject>> ListAccessObjects(const std::string& org_id,
                                                        const std::string& kind,
                                                        const std::string& id) override {
    std::lock_guard<std::mutex> lock(mu_);
    return sqlite_access::ListAccessObjects(db_, org_id, kind, id);
  }
  Status DeleteAccessObject(const std::string& org_id, const std::string& kind,
                            const std::string& id) override {
    std::lock_guard<std::mutex> lock(mu_);
    return sqlite_access::DeleteAccessObject(db_, org_id, kind, id);
  }
  Status CreateAcl(const AclRecord& acl) override {
    std::lock_guard<std::mutex> lock(mu_);
    return sqlite_access::CreateAcl(db_, acl);
  }
  StatusOr<std::vector<AclRecord>> ListAcls(const std::string& org_id,
                                            const AclFilter& filter) override {
    std::lock_guard<std::mutex> lock(mu_);
    return sqlite_access::ListAcls(db_, org_id, filter);
  }
  Status DeleteAcl(const std::string& org_id, const std::string& id) override {
    std::lock_guard<std::mutex> lock(mu_);
    return sqlite_access::DeleteAcl(db_, org_id, id);
  }

  // Retention policies: statements in sqlite_retention.cc.
  Status SetRetentionPolicy(const RetentionPolicy& policy) override {
    std::lock_guard<std::mutex> lock(mu_);
    return sqlite_retention::SetRetentionPolicy(db_, policy);
  }
  StatusOr<std::vector<RetentionPolicy>> ListRetentionPolicies(const std::string& org_id) override {
    std::lock_guard<std::mutex> lock(mu_);
    return sqlite_retention::ListRetentionPolicies(db_, org_id);
  }

 private:
  Status Exec(const std::string& sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      std::string msg = err ? err : "unknown";
      sqlite3_free(err);
      return Internal("sqlite: " + msg);
    }
    return Status::Ok();
  }

  Status Error(const std::string& what) {
    return Internal("sqlite " + what + ": " + sqlite3_errmsg(db_));
  }

  static void BindOptional(Stmt& s, int i, const std::optional<std::string>& v) {
    if (v) {
      s.Bind(i, *v).Bind(i + 1, *v);
    }
  }

  StatusOr<Org> OneOrg(const char* sql, const std::string& arg) {
    std::lock_guard<std::mutex> lock(mu_);
    Stmt s(db_, sql);
    s.Bind(1, arg);
    if (s.Step() != SQLITE_ROW) return NotFound("org not found");
    return Org{s.Text(0), s.Text(1), s.Text(2)};
  }

  static ApiKey KeyFrom(Stmt& s) {
    return ApiKey{.id = s.Text(0),
                  .org_id = s.Text(1),
                  .name = s.Text(2),
                  .key_hash = s.Text(3),
                  .created = s.Text(4),
                  .revoked = s.Int(5) != 0,
                  .user_id = s.Text(6),
                  .role = s.Text(7)};
  }

  static CatalogObject ObjectFrom(Stmt& s, ObjectKind kind) {
    CatalogObject o;
    o.seq = s.Int(0);
    o.id = s.Text(1);
    o.org_id = s.Text(2);
    o.kind = kind;
    o.project_id = s.Text(4);
    o.name = s.Text(5);
    o.created = s.Text(6);
    boost::system::error_code ec;
    boost::json::value data = boost::json::parse(s.Text(7), ec);
    if (!ec && data.is_object()) o.data = std::move(data.get_object());
    return o;
  }

  std::mutex mu_;  // one connection, used by one thread at a time
  sqlite3* db_;
};

}  // namespace

StatusOr<std::unique_ptr<Catalog>> OpenSqliteCatalog(const std::string& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                      nullptr) != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return Internal("cannot open catalog " + path + ": " + msg);
  }
  auto catalog = std::make_unique<SqliteCatalog>(db);
  RETURN_IF_ERROR(catalog->Init());
  return std::unique_ptr<Catalog>(std::move(catalog));
}

}  // namespace arbor::catalog
