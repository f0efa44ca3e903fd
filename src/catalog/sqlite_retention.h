// The SQLite side of retention policies (migration v6): their table and statements. The
// SqliteCatalog calls these with its connection, holding its lock.
#pragma once

#include <sqlite3.h>

#include <string>
#include <vector>

#include "base/status.h"
#include "catalog/catalog.h"

namespace arbor::catalog::sqlite_retention {

extern const char* const kSchema;

// Inserts or replaces the policy of (project, object_type); max_age_days == 0 removes it.
Status SetRetentionPolicy(sqlite3* db, const RetentionPolicy& policy);
// Policies of one org (empty org_id: every org, for the background sweep), by project.
StatusOr<std::vector<RetentionPolicy>> ListRetentionPolicies(sqlite3* db,
                                                             const std::string& org_id);

}  // namespace arbor::catalog::sqlite_retention
