// Versioned catalog migrations. The catalog's schema is the list of migrations below, applied
// in order at open: each runs in its own transaction together with the bump of
// schema_version, so an interrupted upgrade leaves the catalog at the last whole version.
// A catalog newer than this binary is refused rather than guessed at.
#pragma once

#include <sqlite3.h>

#include <vector>

#include "base/status.h"

namespace arbor::catalog {

struct Migration {
  int version;       // strictly increasing, from 1
  const char* name;  // what it adds, for the log
  const char* sql;   // statements run in one transaction
};

// Every migration this binary knows, in version order.
const std::vector<Migration>& CatalogMigrations();

// The catalog's version (0 for an empty file).
StatusOr<int> SchemaVersion(sqlite3* db);

// Applies every migration above the catalog's version. FailedPrecondition when the catalog
// was written by a newer binary.
Status Migrate(sqlite3* db, const std::vector<Migration>& migrations);

}  // namespace arbor::catalog
