// Validation of incoming rows (protocol §3.3): routing fields, reserved field types, and the
// control flags that say how a row applies (replace, merge, delete).
#pragma once

#include <boost/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "ingest/audit.h"
#include "json/json.h"

namespace arbor::ingest {

enum class ObjectType { kExperiment, kDataset, kProjectLogs, kPlaygroundLogs };
const char* ObjectTypeName(ObjectType type);  // "experiment", "dataset", "project_logs", ...

struct ObjectRef {
  ObjectType type = ObjectType::kExperiment;
  std::string id;  // experiment id, dataset id, project id or prompt session id
};

// The row-store key of an object; scoped by org so orgs can never address each other's rows.
std::string ObjectKey(const std::string& org_id, const ObjectRef& ref);

struct IncomingRow {
  ObjectRef object;
  std::string id;
  boost::json::object fields;  // user-visible fields, control flags removed
  bool is_merge = false;
  bool is_delete = false;
  json::MergePaths merge_paths;
  std::optional<AuditInfo> audit;  // set when the row carries `_audit_source`
};

// Validates one row; `index` names it in errors. Nothing is written by validation.
// Takes the row by value so a caller that owns it can move it in (no copy on ingest).
StatusOr<IncomingRow> ParseRow(boost::json::value row, std::size_t index);
// Validates every row of a request; the first invalid row rejects the whole request.
StatusOr<std::vector<IncomingRow>> ParseRows(boost::json::array rows);

}  // namespace arbor::ingest
