// Metadata: orgs, API keys, and the named objects rows belong to (projects, experiments,
// datasets). An interface so PostgreSQL can replace SQLite for scale-out.
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"

namespace arbor::catalog {

struct Org {
  std::string id;
  std::string name;
  std::string created;
};

struct ApiKey {
  std::string id;
  std::string org_id;
  std::string name;
  std::string key_hash;  // SHA-256 hex of the secret; the secret itself is never stored
  std::string created;
  bool revoked = false;
  std::string user_id;  // the user the key acts for; empty: a service token or an older key
  std::string role;     // org role of a service token; empty: an owner key (made before roles)
};

enum class ObjectKind { kProject, kExperiment, kDataset };
const char* ObjectKindName(ObjectKind kind);

// A project, experiment or dataset. Kind-specific fields live in `data`.
struct CatalogObject {
  std::string id;
  std::string org_id;
  ObjectKind kind = ObjectKind::kProject;
  std::string project_id;  // empty for projects
  std::string name;
  std::string created;
  std::int64_t seq = 0;  // creation order, assigned by the catalog
  boost::json::object data;
};

struct ObjectFilter {
  std::optional<std::string> project_id;
  std::optional<std::string> name;
};

// One version of a prompt or function (protocol §4.8). `data` holds the client's fields
// (name, description, prompt_data, function_data, tags, ...); the rest is ours.
struct FunctionRecord {
  std::string id;
  std::string org_id;
  std::string project_id;
  std::string kind;  // "prompt" or "function"
  std::string slug;  // unique among the live functions of a project
  std::string created;
  std::int64_t seq = 0;
  std::uint64_t xact_id = 0;  // the version, in the data plane's _xact_id space
  boost::json::object data;
};

struct FunctionFilter {
  std::optional<std::string> project_id;
  std::optional<std::string> slug;
  std::optional<std::string> kind;
  std::optional<std::uint64_t> version;    // as of this _xact_id
  std::optional<std::string> environment;  // the version pinned to this environment
};

// An AI provider secret. The value is stored only sealed (control/secret_box).
struct AiSecretRecord {
  std::string id;
  std::string org_id;
  std::string project_id;  // empty for org-level secrets
  std::string name;
  boost::json::value type;      // string or null
  boost::json::value metadata;  // object or null
  std::string preview;          // masked, never the value
  std::string sealed_value;     // hex: nonce | ciphertext | tag under the data key
  std::string wrapped_key;      // hex: the data key sealed under the master key
  std::string created;
  std::string updated_at;
};

// Users, sessions and org membership (area "users", migration v3).
// A local user. Emails are unique ignoring ASCII case; `password_hash` is an argon2id encoded
// string (empty for users who cannot sign in with a password, e.g. OIDC-only).
struct User {
  std::string id;
  std::string email;
  std::string name;
  std::string password_hash;
  std::string created;
  bool disabled = false;
};

struct OrgMember {
  std::string org_id;
  std::string user_id;
  std::string role;  // "owner" | "admin" | "editor" | "viewer"
  std::string created;
};

// A UI session. Only the SHA-256 of the cookie's token is stored.
struct Session {
  std::string token_hash;
  std::string user_id;
  std::string org_id;
  std::int64_t created_us = 0;
  std::int64_t last_seen_us = 0;
  std::int64_t expires_us = 0;  // absolute expiry
};

// Audit log (area "ops", migration v5). Who did what to which target, and how it ended. Never
// secret values or request bodies.
struct AuditEvent {
  std::int64_t seq = 0;  // assigned by the catalog; the listing's cursor
  std::string time;      // ISO-8601, assigned by the catalog
  std::int64_t time_us = 0;
  std::string org_id;
  std::string actor_type;  // "api_key" | "user" | "anonymous"
  std::string actor_id;    // the key id (or user id for sessions)
  std::string user_id;
  std::string role;
  std::string action;  // e.g. "api_key.create", "ai_secret.read", "user.login_failed"
  std::string target_type;
  std::string target_id;
  std::string request_id;
  std::string client_ip;
  std::string outcome;  // "ok" | "denied" | "error"
};

struct AuditQuery {
  std::size_t limit = 100;
  std::int64_t before_seq = 0;  // 0: from the newest
  std::string action;           // exact, or a prefix ending in ".*"; empty: any
  std::string actor;            // key id or user id; empty: any
  std::int64_t since_us = 0;
};

// Retention (area "backup", migration v6): rows of one kind of object of a project expire
// max_age_days after their `created` time.
struct RetentionPolicy {
  std::string org_id;
  std::string project_id;
  std::string object_type;  // "project_logs" or "experiment"
  std::int64_t max_age_days = 0;
  std::string updated;
};

// Access control (area "access", migration v4; statements in sqlite_access.cc).
// A custom role (kind "role": data member_permissions, member_roles) or a group (kind "group":
// data member_users, member_groups), protocol §5 /v1/role and /v1/group.
struct AccessObject {
  std::string id;
  std::string org_id;
  std::string kind;  // "role" | "group"
  std::string name;
  std::string created;
  boost::json::object data;  // description and members
};

// A grant on one object (/v1/acl): exactly one of user_id and group_id is set, and exactly one
// of permission and role_id.
struct AclRecord {
  std::string id;
  std::string org_id;
  std::string object_type;  // "organization" | "project" | ...
  std::string object_id;
  std::string user_id;
  std::string group_id;
  std::string permission;
  std::string role_id;
  std::string restrict_object_type;
  std::string created;
};

struct AclFilter {
  std::optional<std::string> id;
  std::optional<std::string> object_type;
  std::optional<std::string> object_id;
};

class Catalog {
 public:
  virtual ~Catalog() = default;

  virtual StatusOr<Org> CreateOrg(const std::string& name) = 0;
  virtual StatusOr<Org> GetOrg(const std::string& id) = 0;
  virtual StatusOr<Org> FindOrgByName(const std::string& name) = 0;
  virtual StatusOr<std::vector<Org>> ListOrgs() = 0;
  // AlreadyExists when another org has the name; NotFound for an unknown id.
  virtual Status RenameOrg(const std::string& id, const std::string& name) = 0;

  virtual Status CreateApiKey(const ApiKey& key) = 0;
  virtual StatusOr<ApiKey> FindApiKeyByHash(const std::string& key_hash) = 0;
  virtual StatusOr<std::vector<ApiKey>> ListApiKeys() = 0;
  virtual Status RevokeApiKey(const std::string& id) = 0;

  // Inserts `object`, assigning `seq`. AlreadyExists when a live object of the same kind and
  // name exists in the same org and project.
  virtual StatusOr<CatalogObject> CreateObject(CatalogObject object) = 0;
  virtual StatusOr<CatalogObject> GetObject(const std::string& org_id, ObjectKind kind,
                                            const std::string& id) = 0;
  // Live objects of the org in creation order.
  virtual StatusOr<std::vector<CatalogObject>> ListObjects(const std::string& org_id,
                                                           ObjectKind kind,
                                                           const ObjectFilter& filter) = 0;
  virtual Status UpdateObject(const CatalogObject& object) = 0;
  virtual Status DeleteObject(const std::string& org_id, ObjectKind kind,
                              const std::string& id) = 0;

  // Prompts and functions. Every change appends a version whose xact_id is at least
  // `min_xact` and above every version stored before; `environments` pin that version.
  // AlreadyExists when the slug is taken by another live function of the project.
  virtual StatusOr<FunctionRecord> CreateFunction(FunctionRecord record, std::uint64_t min_xact,
                                                  const std::vector<std::string>& environments) = 0;
  virtual StatusOr<FunctionRecord> AddFunctionVersion(
      FunctionRecord record, std::uint64_t min_xact,
      const std::vector<std::string>& environments) = 0;
  // The newest version (or the one the filter's version/environment selects) of one function.
  virtual StatusOr<FunctionRecord> GetFunction(const std::string& org_id, const std::string& id,
                                               const FunctionFilter& filter) = 0;
  // Live functions of the org in creation order, each at the version the filter selects;
  // functions with no such version are left out.
  virtual StatusOr<std::vector<FunctionRecord>> ListFunctions(const std::string& org_id,
                                                              const FunctionFilter& filter) = 0;
  // Every version of one live function, newest first; NotFound when the org has no such
  // live function.
  virtual StatusOr<std::vector<FunctionRecord>> ListFunctionVersions(const std::string& org_id,
                                                                     const std::string& id) = 0;
  virtual Status DeleteFunction(const std::string& org_id, const std::string& id) = 0;

  // AI secrets. AlreadyExists when the org (and project) has a secret of that name.
  virtual Status CreateAiSecret(const AiSecretRecord& secret) = 0;
  virtual Status UpdateAiSecret(const AiSecretRecord& secret) = 0;
  virtual StatusOr<AiSecretRecord> GetAiSecret(const std::string& org_id,
                                               const std::string& id) = 0;
  // Secrets of one org (empty org_id: every org, for key rotation), in creation order.
  virtual StatusOr<std::vector<AiSecretRecord>> ListAiSecrets(const std::string& org_id) = 0;
  virtual Status DeleteAiSecret(const std::string& org_id, const std::string& id) = 0;
  // Replaces the wrapped data keys (id -> wrapped_key) in one transaction: all or none.
  virtual Status RewrapAiSecrets(const std::vector<std::pair<std::string, std::string>>& keys) = 0;

  // Users, sessions and org membership (area "users"; statements in sqlite_users.cc).
  // AlreadyExists when another user has the email (any case).
  virtual Status CreateUser(const User& user) = 0;
  virtual StatusOr<User> GetUser(const std::string& id) = 0;
  virtual StatusOr<User> FindUserByEmail(const std::string& email) = 0;
  // Members of the org, in creation order of the users.
  virtual StatusOr<std::vector<User>> ListOrgUsers(const std::string& org_id) = 0;
  // Replaces name, password_hash and disabled; NotFound for an unknown id.
  virtual Status UpdateUser(const User& user) = 0;
  // AlreadyExists when the user is already a member.
  virtual Status AddOrgMember(const std::string& org_id, const std::string& user_id,
                              const std::string& role) = 0;
  // NotFound if not a member.
  virtual Status SetOrgMemberRole(const std::string& org_id, const std::string& user_id,
                                  const std::string& role) = 0;
  // NotFound if not a member; the user's sessions in that org end too.
  virtual Status RemoveOrgMember(const std::string& org_id, const std::string& user_id) = 0;
  virtual StatusOr<std::vector<OrgMember>> ListOrgMembers(const std::string& org_id) = 0;
  virtual StatusOr<std::vector<OrgMember>> ListUserOrgs(const std::string& user_id) = 0;
  virtual Status CreateSession(const Session& session) = 0;
  virtual StatusOr<Session> FindSession(const std::string& token_hash) = 0;
  virtual Status TouchSession(const std::string& token_hash, std::int64_t last_seen_us) = 0;
  virtual Status DeleteSession(const std::string& token_hash) = 0;
  // Ends every session of the user (disabled, password changed); expired ones are purged too.
  virtual Status DeleteUserSessions(const std::string& user_id, std::int64_t now_us) = 0;

  // Retention policies (area "backup"; statements in sqlite_retention.cc).
  // Inserts or replaces; max_age_days 0 removes the policy.
  virtual Status SetRetentionPolicy(const RetentionPolicy& policy) = 0;
  // Policies of one org (empty org_id: every org, for the background sweep).
  virtual StatusOr<std::vector<RetentionPolicy>> ListRetentionPolicies(
      const std::string& org_id) = 0;

  // Audit log (area "ops"; statements in sqlite_audit.cc). Append-only.
  virtual StatusOr<AuditEvent> AppendAuditEvent(const AuditEvent& event) = 0;
  // The org's events, newest first.
  virtual StatusOr<std::vector<AuditEvent>> ListAuditEvents(const std::string& org_id,
                                                            const AuditQuery& query) = 0;

  // Access control (area "access"; statements in sqlite_access.cc). AlreadyExists for a
  // duplicate role or group name, or an identical ACL.
  virtual Status CreateAccessObject(const AccessObject& object) = 0;
  virtual Status UpdateAccessObject(const AccessObject& object) = 0;
  // Roles or groups of the org in creation order; `id` non-empty: only that one.
  virtual StatusOr<std::vector<AccessObject>> ListAccessObjects(const std::string& org_id,
                                                                const std::string& kind,
                                                                const std::string& id) = 0;
  // NotFound for an unknown id; ACLs naming the role or group are deleted with it.
  virtual Status DeleteAccessObject(const std::string& org_id, const std::string& kind,
                                    const std::string& id) = 0;
  virtual Status CreateAcl(const AclRecord& acl) = 0;
  virtual StatusOr<std::vector<AclRecord>> ListAcls(const std::string& org_id,
                                                    const AclFilter& filter) = 0;
  virtual Status DeleteAcl(const std::string& org_id, const std::string& id) = 0;
};

// Opens (creating if needed) an SQLite catalog at `path`, with durable commits.
StatusOr<std::unique_ptr<Catalog>> OpenSqliteCatalog(const std::string& path);

}  // namespace arbor::catalog
