#include "ingest/rows.h"

#include "base/util.h"

namespace arbor::ingest {
namespace {

namespace bj = boost::json;

inline constexpr std::size_t row_id_bytes_max = 1024;

Status RowError(std::size_t index, const std::string& message) {
  return InvalidArgument("row " + std::to_string(index) + ": " + message);
}

bool IsNull(const bj::value* v) { return v == nullptr || v->is_null(); }

Status ExpectType(const bj::object& row, const char* field, bj::kind kind, const char* what,
                  std::size_t index) {
  const bj::value* v = row.if_contains(field);
  if (IsNull(v)) return Status::Ok();
  bool ok = v->kind() == kind || (kind == bj::kind::double_ && (v->is_int64() || v->is_uint64()));
  if (!ok) return RowError(index, std::string("'") + field + "' must be " + what);
  return Status::Ok();
}

Status ExpectStringArray(const bj::object& row, const char* field, std::size_t index) {
  const bj::value* v = row.if_contains(field);
  if (IsNull(v)) return Status::Ok();
  if (!v->is_array())
    return RowError(index, std::string("'") + field + "' must be an array of strings");
  for (const auto& e : v->get_array()) {
    if (!e.is_string())
      return RowError(index, std::string("'") + field + "' must be an array of strings");
  }
  return Status::Ok();
}

Status ExpectNumberMap(const bj::object& row, const char* field, std::size_t index) {
  RETURN_IF_ERROR(ExpectType(row, field, bj::kind::object, "an object", index));
  const bj::value* v = row.if_contains(field);
  if (IsNull(v)) return Status::Ok();
  for (const auto& [k, x] : v->get_object()) {
    if (!x.is_number() && !x.is_null()) {
      return RowError(
          index, std::string("'") + field + "." + std::string(k) + "' must be a number or null");
    }
  }
  return Status::Ok();
}

Status CheckReservedTypes(const bj::object& row, std::size_t index) {
  RETURN_IF_ERROR(ExpectType(row, "_is_merge", bj::kind::bool_, "a boolean", index));
  RETURN_IF_ERROR(ExpectType(row, "_object_delete", bj::kind::bool_, "a boolean", index));
  RETURN_IF_ERROR(ExpectType(row, "created", bj::kind::string, "an ISO-8601 string", index));
  RETURN_IF_ERROR(ExpectType(row, "span_id", bj::kind::string, "a string", index));
  RETURN_IF_ERROR(ExpectType(row, "root_span_id", bj::kind::string, "a string", index));
  RETURN_IF_ERROR(ExpectType(row, "metadata", bj::kind::object, "an object", index));
  RETURN_IF_ERROR(ExpectType(row, "span_attributes", bj::kind::object, "an object", index));
  RETURN_IF_ERROR(ExpectType(row, "context", bj::kind::object, "an object", index));
  RETURN_IF_ERROR(ExpectType(row, "comment", bj::kind::object, "an object", index));
  RETURN_IF_ERROR(ExpectType(row, "origin", bj::kind::object, "an object", index));
  RETURN_IF_ERROR(ExpectType(row, "_audit_source", bj::kind::string, "a string", index));
  RETURN_IF_ERROR(ExpectType(row, "_audit_metadata", bj::kind::object, "an object", index));
  if (const bj::value* src = row.if_contains("_audit_source"); src && src->is_string()) {
    std::string_view s = src->get_string();
    if (s != "app" && s != "api" && s != "external") {
      return RowError(index, "'_audit_source' must be \"app\", \"api\" or \"external\"");
    }
  }
  RETURN_IF_ERROR(ExpectStringArray(row, "span_parents", index));
  RETURN_IF_ERROR(ExpectStringArray(row, "tags", index));
  RETURN_IF_ERROR(ExpectNumberMap(row, "scores", index));
  RETURN_IF_ERROR(ExpectNumberMap(row, "metrics", index));
  return Status::Ok();
}

StatusOr<json::MergePaths> ParseMergePaths(const bj::object& row, std::size_t index) {
  json::MergePaths paths;
  const bj::value* v = row.if_contains("_merge_paths");
  if (IsNull(v)) return paths;
  const char* msg = "'_merge_paths' must be an array of arrays of strings";
  if (!v->is_array()) return RowError(index, msg);
  for (const auto& p : v->get_array()) {
    if (!p.is_array()) return RowError(index, msg);
    std::vector<std::string> path;
    for (const auto& s : p.get_array()) {
      if (!s.is_string()) return RowError(index, msg);
      path.emplace_back(s.get_string());
    }
    paths.push_back(std::move(path));
  }
  return paths;
}

StatusOr<std::string> StringField(const bj::object& row, const char* field, std::size_t index) {
  const bj::value* v = row.if_contains(field);
  if (IsNull(v)) return std::string();
  if (!v->is_string() || v->get_string().empty()) {
    return RowError(index, std::string("'") + field + "' must be a non-empty string");
  }
  return std::string(v->get_string());
}

StatusOr<ObjectRef> ParseRouting(const bj::object& row, std::size_t index) {
  ASSIGN_OR_RETURN(std::string experiment, StringField(row, "experiment_id", index));
  ASSIGN_OR_RETURN(std::string dataset, StringField(row, "dataset_id", index));
  ASSIGN_OR_RETURN(std::string project, StringField(row, "project_id", index));
  ASSIGN_OR_RETURN(std::string session, StringField(row, "prompt_session_id", index));
  ASSIGN_OR_RETURN(std::string log_id, StringField(row, "log_id", index));
  std::vector<ObjectRef> refs;
  if (!experiment.empty()) refs.push_back({ObjectType::kExperiment, experiment});
  if (!dataset.empty()) refs.push_back({ObjectType::kDataset, dataset});
  if (!session.empty()) refs.push_back({ObjectType::kPlaygroundLogs, session});
  // project_id beside an experiment or dataset id is informational (the server sets it);
  // with log_id "g" it names project logs, a second object.
  if (!project.empty() && log_id == "g" && !refs.empty()) {
    refs.push_back({ObjectType::kProjectLogs, project});
  }
  if (!project.empty() && session.empty() && experiment.empty() && dataset.empty()) {
    if (log_id != "g") {
      return RowError(index,
                      "project rows need log_id \"g\" (project logs); prompts and "
                      "functions are written through /v1/prompt and /v1/function");
    }
    refs.push_back({ObjectType::kProjectLogs, project});
  }
  if (refs.empty()) {
    return RowError(index,
                    "no object id: set one of experiment_id, dataset_id, "
                    "project_id with log_id \"g\", or prompt_session_id");
  }
  if (refs.size() > 1) {
    return RowError(index, "several object ids: a row belongs to exactly one object");
  }
  return refs.front();
}

}  // namespace

const char* ObjectTypeName(ObjectType type) {
  switch (type) {
    case ObjectType::kExperiment:
      return "experiment";
    case ObjectType::kDataset:
      return "dataset";
    case ObjectType::kProjectLogs:
      return "project_logs";
    case ObjectType::kPlaygroundLogs:
      return "playground_logs";
  }
  return "unknown";
}

std::string ObjectKey(const std::string& org_id, const ObjectRef& ref) {
  return org_id + "/" + ObjectTypeName(ref.type) + "/" + ref.id;
}

StatusOr<IncomingRow> ParseRow(bj::value value, std::size_t index) {
  if (!value.is_object()) return RowError(index, "each row must be a JSON object");
  bj::object& row = value.get_object();
  RETURN_IF_ERROR(CheckReservedTypes(row, index));
  IncomingRow out;
  ASSIGN_OR_RETURN(out.object, ParseRouting(row, index));
  const bj::value* id = row.if_contains("id");
  if (IsNull(id)) {
    out.id = NewUuid();
  } else if (!id->is_string() || id->get_string().empty() ||
             id->get_string().size() > row_id_bytes_max) {
    return RowError(index, "'id' must be a non-empty string of at most 1024 bytes");
  } else {
    out.id = std::string(id->get_string());
  }
  ASSIGN_OR_RETURN(out.merge_paths, ParseMergePaths(row, index));
  const bj::value* merge = row.if_contains("_is_merge");
  out.is_merge = merge && merge->is_bool() && merge->get_bool();
  const bj::value* del = row.if_contains("_object_delete");
  out.is_delete = del && del->is_bool() && del->get_bool();
  if (const bj::value* src = row.if_contains("_audit_source"); src && src->is_string()) {
    const bj::value* meta = row.if_contains("_audit_metadata");
    out.audit = AuditInfo{.source = std::string(src->get_string()),
                          .metadata = meta ? *meta : bj::value(nullptr)};
  }
  out.fields = std::move(row);
  // Control flags say how to apply the row; audit fields are provenance, not user data, and
  // the audit trail (`audit_data`) is the server's (ingest/audit.h).
  for (const char* k :
       {"_is_merge", "_object_delete", "_merge_paths", "_audit_source", "_audit_metadata",
        "_array_delete", "_xact_id", "_parent_id", "audit_data"}) {
    out.fields.erase(k);
  }
  out.fields["id"] = out.id;
  return out;
}

StatusOr<std::vector<IncomingRow>> ParseRows(bj::array rows) {
  std::vector<IncomingRow> out;
  out.reserve(rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    ASSIGN_OR_RETURN(IncomingRow r, ParseRow(std::move(rows[i]), i));
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace arbor::ingest
