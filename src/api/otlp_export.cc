#include "api/otlp_export.h"

#include <map>
#include <utility>
#include <vector>

namespace arbor::api {

namespace bj = boost::json;
namespace otlp = ingest::otlp;

namespace {

// Routing fields for one parent; project names resolve (get-or-create) once per request.
// An exported-span parent also nests the row under that span.
class ParentResolver {
 public:
  ParentResolver(control::Registry& registry, const std::string& org_id, bool create_projects)
      : registry_(registry), org_id_(org_id), create_projects_(create_projects) {}

  Status Route(const std::string& parent_text, bj::object& row) {
    auto it = cache_.find(parent_text);
    if (it == cache_.end()) {
      ASSIGN_OR_RETURN(otlp::Parent parent, otlp::ParseParent(parent_text));
      ASSIGN_OR_RETURN(bj::object routing, Resolve(parent));
      it = cache_.emplace(parent_text, Resolved{std::move(parent), std::move(routing)}).first;
    }
    for (const auto& kv : it->second.routing) row[kv.key()] = kv.value();
    otlp::NestUnder(it->second.parent, row);
    return Status::Ok();
  }

 private:
  struct Resolved {
    otlp::Parent parent;
    bj::object routing;
  };

  StatusOr<bj::object> Resolve(const otlp::Parent& parent) {
    switch (parent.kind) {
      case otlp::ParentKind::kExperimentId:
        return bj::object{{"experiment_id", parent.value}};
      case otlp::ParentKind::kProjectId:
        return bj::object{{"project_id", parent.value}, {"log_id", "g"}};
      case otlp::ParentKind::kProjectName: {
        ASSIGN_OR_RETURN(auto project,
                         registry_.ResolveProject(org_id_, "", parent.value, create_projects_));
        return bj::object{{"project_id", project.id}, {"log_id", "g"}};
      }
      case otlp::ParentKind::kPlaygroundId:
        return bj::object{{"prompt_session_id", parent.value}, {"log_id", "x"}};
    }
    return Internal("unknown parent kind");
  }

  control::Registry& registry_;
  const std::string& org_id_;
  bool create_projects_;
  std::map<std::string, Resolved> cache_;
};

// Rejects (by setting `rejected`) every row without a usable parent: its own attribute, the
// headers, its resource (otlp::ParentFor). Returns how many rows are rejected in all and the
// first reason, for partial_success.
std::pair<std::size_t, std::string> CheckParents(std::vector<otlp::SpanRow>& spans,
                                                 const std::string& header,
                                                 const std::string& project_header) {
  std::size_t rejected = 0;
  std::string first;
  for (auto& s : spans) {
    if (s.rejected.empty()) {
      std::string text = otlp::ParentFor(s, header, project_header);
      if (text.empty()) {
        s.rejected = "no parent for span " + std::string(s.row.at("span_id").as_string()) +
                     ": send the x-bt-parent header (project_id:<uuid>, project_name:<name>, "
                     "experiment_id:<uuid>, playground_id:<id> or an exported span), a "
                     "braintrust.parent attribute, an x-project-name header or an "
                     "openinference.project.name resource attribute";
      } else if (auto parsed = otlp::ParseParent(text); !parsed.ok()) {
        s.rejected = parsed.status().message();
      }
    }
    if (s.rejected.empty()) continue;
    if (rejected++ == 0) first = s.rejected;
  }
  return {rejected, first};
}

}  // namespace

StatusOr<OtlpResult> ExportOtlp(control::Registry& registry, const control::Principal& who,
                                const RowWriter& write, std::string_view body,
                                otlp::Encoding encoding, bool logs, const std::string& bt_parent,
                                const std::string& project_name) {
  auto decoded = logs ? otlp::DecodeLogs(body, encoding) : otlp::DecodeTraces(body, encoding);
  if (!decoded.ok()) return decoded.status();
  std::vector<otlp::SpanRow>& spans = *decoded;
  auto [rejected, first] = CheckParents(spans, bt_parent, project_name);
  if (rejected > 0 && rejected == spans.size()) {
    return InvalidArgument(
        (rejected == 1 ? std::string() : "all " + std::to_string(rejected) + " rejected; ") +
        first);
  }
  OtlpResult result;
  if (rejected > 0) {
    result.rejected = rejected;
    result.message = std::to_string(rejected) + (logs ? " log records" : " spans") +
                     " rejected; the first because: " + first;
  }
  if (spans.empty()) return result;

  ParentResolver resolver(registry, who.org_id, control::MayCreateProjects(who));
  bj::array rows;
  rows.reserve(spans.size() - rejected);
  for (auto& s : spans) {
    if (!s.rejected.empty()) continue;
    RETURN_IF_ERROR(resolver.Route(otlp::ParentFor(s, bt_parent, project_name), s.row));
    // Merged, so a span and the scores that annotate it land in either order, and a re-sent
    // span updates its row.
    s.row["_is_merge"] = true;
    if (s.annotation) s.row.erase("span_parents");
    rows.push_back(std::move(s.row));
  }
  RETURN_IF_ERROR(write(std::move(rows)).status());
  return result;
}

}  // namespace arbor::api
