// The SQLite side of access control (catalog migration 4): custom roles and groups, ACLs, and
// the owner and role of API keys. The SqliteCatalog calls these with its connection, holding
// its lock.
#pragma once

#include <sqlite3.h>

#include <string>
#include <vector>

#include "base/status.h"
#include "catalog/catalog.h"

namespace arbor::catalog::sqlite_access {

extern const char* const kSchema;

Status CreateAccessObject(sqlite3* db, const AccessObject& object);
Status UpdateAccessObject(sqlite3* db, const AccessObject& object);
// Live objects of one kind of the org, in creation order; `id` non-empty: only that one.
StatusOr<std::vector<AccessObject>> ListAccessObjects(sqlite3* db, const std::string& org_id,
                                                      const std::string& kind,
                                                      const std::string& id);
Status DeleteAccessObject(sqlite3* db, const std::string& org_id, const std::string& kind,
                          const std::string& id);

Status CreateAcl(sqlite3* db, const AclRecord& acl);
StatusOr<std::vector<AclRecord>> ListAcls(sqlite3* db, const std::string& org_id,
                                          const AclFilter& filter);
Status DeleteAcl(sqlite3* db, const std::string& org_id, const std::string& id);

}  // namespace arbor::catalog::sqlite_access
