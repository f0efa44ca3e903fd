// The SQLite side of users, org membership and UI sessions: their tables (catalog migration 3)
// and statements. The SqliteCatalog calls these with its connection, holding its lock.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "catalog/catalog.h"

namespace arbor::catalog::sqlite_users {

extern const char* const kSchema;

Status CreateUser(sqlite3* db, const User& user);
// `column` is "id" or "email"; NotFound when no user matches.
StatusOr<User> FindUser(sqlite3* db, const char* column, const std::string& value);
StatusOr<std::vector<User>> ListOrgUsers(sqlite3* db, const std::string& org_id);
Status UpdateUser(sqlite3* db, const User& user);

Status AddOrgMember(sqlite3* db, const std::string& org_id, const std::string& user_id,
                    const std::string& role);
Status SetOrgMemberRole(sqlite3* db, const std::string& org_id, const std::string& user_id,
                        const std::string& role);
Status RemoveOrgMember(sqlite3* db, const std::string& org_id, const std::string& user_id);
// `column` is "org_id" or "user_id".
StatusOr<std::vector<OrgMember>> ListMembers(sqlite3* db, const char* column,
                                             const std::string& value);

Status CreateSession(sqlite3* db, const Session& session);
StatusOr<Session> FindSession(sqlite3* db, const std::string& token_hash);
Status TouchSession(sqlite3* db, const std::string& token_hash, std::int64_t last_seen_us);
Status DeleteSession(sqlite3* db, const std::string& token_hash);
Status DeleteUserSessions(sqlite3* db, const std::string& user_id, std::int64_t now_us);

}  // namespace arbor::catalog::sqlite_users
