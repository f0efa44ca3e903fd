#include "api/row_writes.h"

#include <set>
#include <string>
#include <utility>

#include "base/limits.h"
#include "control/access.h"

namespace arbor::api {

namespace {

using catalog::ObjectKind;
using ingest::ObjectType;

// The ACL object a row's destination is, with its project.
StatusOr<control::ObjectRef> RowObject(catalog::Catalog& catalog, const std::string& org_id,
                                       const ingest::ObjectRef& dest) {
  switch (dest.type) {
    case ObjectType::kProjectLogs:
      return control::ObjectRef{.type = "project_log", .id = dest.id, .project_id = dest.id};
    case ObjectType::kExperiment:
    case ObjectType::kDataset: {
      const bool experiment = dest.type == ObjectType::kExperiment;
      ASSIGN_OR_RETURN(
          auto object,
          catalog.GetObject(org_id, experiment ? ObjectKind::kExperiment : ObjectKind::kDataset,
                            dest.id));
      return control::ObjectRef{.type = experiment ? "experiment" : "dataset",
                                .id = dest.id,
                                .project_id = object.project_id};
    }
    case ObjectType::kPlaygroundLogs:
      break;
  }
  return PermissionDenied("writing playground logs needs the editor role");
}

}  // namespace

Status CheckRowWrites(catalog::Catalog& catalog, const control::Principal& who,
                      const std::vector<ingest::IncomingRow>& rows) {
  const control::Role want = control::MinRole(control::Need::kWrite);
  if (control::ParseRole(who.role) >= want) return Status::Ok();
  std::set<std::pair<ObjectType, std::string>> seen;
  std::vector<control::ObjectRef> objects;
  for (const ingest::IncomingRow& row : rows) {
    if (!seen.emplace(row.object.type, row.object.id).second) continue;
    ASSIGN_OR_RETURN(control::ObjectRef object, RowObject(catalog, who.org_id, row.object));
    objects.push_back(std::move(object));
  }
  control::Access access(catalog);
  return access.RequireObjects(who, control::Need::kWrite, objects);
}

StatusOr<std::uint64_t> WriteRowsAs(ingest::Writer& writer, catalog::Catalog& catalog,
                                    const control::Principal& who, boost::json::array rows) {
  if (rows.size() > limits::logs3_rows_max) {
    return PayloadTooLarge("at most " + std::to_string(limits::logs3_rows_max) +
                           " rows per request");
  }
  ASSIGN_OR_RETURN(auto parsed, ingest::ParseRows(std::move(rows)));
  RETURN_IF_ERROR(CheckRowWrites(catalog, who, parsed));
  // Audit entries name the API key (and user) that wrote them (ingest/audit.h).
  for (auto& r : parsed) {
    if (!r.audit) continue;
    r.audit->key_id = who.key_id;
    r.audit->user_id = who.user_id;
  }
  return writer.Write(who.org_id, std::move(parsed));
}

}  // namespace arbor::api
