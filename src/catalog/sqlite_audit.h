// The SQLite side of the audit log: its table (catalog migration 5) and statements. The
// SqliteCatalog calls these with its connection, holding its lock.
#pragma once

#include <sqlite3.h>

#include <vector>

#include "base/status.h"
#include "catalog/catalog.h"

namespace arbor::catalog::sqlite_audit {

extern const char* const kSchema;

// Appends `event`; its seq and (when empty) time are assigned here.
StatusOr<AuditEvent> Append(sqlite3* db, AuditEvent event);
// Events of one org, newest first, matching `query`.
StatusOr<std::vector<AuditEvent>> List(sqlite3* db, const std::string& org_id,
                                       const AuditQuery& query);

}  // namespace arbor::catalog::sqlite_audit
