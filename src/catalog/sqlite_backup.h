// A consistent copy of a live SQLite catalog, taken with SQLite's online backup API while
// the server keeps writing to it (used by `arbor backup`).
#pragma once

#include <string>

#include "base/status.h"

namespace arbor::catalog {

// Copies the database at `src_path` into a new file `dst_path` (which must not exist) in one
// read transaction, so the copy is one committed state of the source, then fsyncs it.
Status BackupSqliteFile(const std::string& src_path, const std::string& dst_path);

}  // namespace arbor::catalog
