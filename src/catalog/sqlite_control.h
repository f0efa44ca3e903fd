// The SQLite side of prompts/functions and AI secrets: their tables and statements. The
// SqliteCatalog calls these with its connection, holding its lock.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "catalog/catalog.h"

namespace arbor::catalog::sqlite_control {

// Tables added to an existing catalog with CREATE ... IF NOT EXISTS, so older data dirs
// gain them at open.
extern const char* const kSchema;

StatusOr<FunctionRecord> CreateFunction(sqlite3* db, FunctionRecord record, std::uint64_t min_xact,
                                        const std::vector<std::string>& environments);
StatusOr<FunctionRecord> AddFunctionVersion(sqlite3* db, FunctionRecord record,
                                            std::uint64_t min_xact,
                                            const std::vector<std::string>& environments);
StatusOr<std::vector<FunctionRecord>> ListFunctions(sqlite3* db, const std::string& org_id,
                                                    const std::string& id,
                                                    const FunctionFilter& filter);
StatusOr<std::vector<FunctionRecord>> ListFunctionVersions(sqlite3* db, const std::string& org_id,
                                                           const std::string& id);
Status DeleteFunction(sqlite3* db, const std::string& org_id, const std::string& id);

Status CreateAiSecret(sqlite3* db, const AiSecretRecord& secret);
Status UpdateAiSecret(sqlite3* db, const AiSecretRecord& secret);
StatusOr<std::vector<AiSecretRecord>> ListAiSecrets(sqlite3* db, const std::string& org_id,
                                                    const std::string& id);
Status DeleteAiSecret(sqlite3* db, const std::string& org_id, const std::string& id);
Status RewrapAiSecrets(sqlite3* db, const std::vector<std::pair<std::string, std::string>>& keys);

}  // namespace arbor::catalog::sqlite_control
