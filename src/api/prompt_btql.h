// BTQL over prompts and functions: `from: project_prompts('<project id>')` (and
// `project_functions`), which the JS SDK's getPromptVersions sends with `audit_log: true` to
// list a prompt's versions. They live in the catalog, not the row store, so the API answers
// them from control::Functions. Filters: none, or `id`/`slug` equality (AND-ed).
#pragma once

#include <boost/json.hpp>
#include <optional>
#include <string>

#include "base/status.h"
#include "control/functions.h"

namespace arbor::api {

// Nullopt when the query's source is not project_prompts/project_functions. Otherwise the
// `data` rows: each live function at its newest version, or with `audit_log` one row per
// version (oldest first) with `audit_data: {"action": "upsert"}`.
std::optional<StatusOr<boost::json::array>> ProjectFunctionsBtql(control::Functions& functions,
                                                                 const std::string& org_id,
                                                                 const boost::json::object& ast,
                                                                 bool audit_log);

}  // namespace arbor::api
