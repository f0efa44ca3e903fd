#include "api/routes_langfuse.h"

#include <string>
#include <utility>

#include "api/basic_auth.h"
#include "ingest/langfuse.h"
#include "ingest/otlp.h"
#include "json/json.h"

namespace arbor::api {

namespace {

namespace bj = boost::json;
namespace otlp = ingest::otlp;

inline constexpr int http_multi_status = 207;
inline constexpr int http_accepted = 202;

// The routing fields of the batch's object.
StatusOr<bj::object> Routing(const Call& c, control::Registry& registry) {
  std::string parent = c.request.Header("x-bt-parent");
  if (parent.empty()) {
    auto basic = ParseBasicAuth(c.request.Header("authorization"));
    if (!basic || basic->user.empty()) {
      return InvalidArgument(
          "name the project: the Basic auth user name (the Langfuse public key) is taken as a "
          "project name, or send x-bt-parent: project_id:<uuid> | project_name:<name> | "
          "experiment_id:<uuid>");
    }
    parent = "project_name:" + basic->user;
  }
  ASSIGN_OR_RETURN(otlp::Parent p, otlp::ParseParent(parent));
  switch (p.kind) {
    case otlp::ParentKind::kExperimentId:
      return bj::object{{"experiment_id", p.value}};
    case otlp::ParentKind::kProjectId:
      return bj::object{{"project_id", p.value}, {"log_id", "g"}};
    case otlp::ParentKind::kProjectName: {
      ASSIGN_OR_RETURN(auto project,
                       registry.ResolveProject(c.principal.org_id, "", p.value,
                                               control::MayCreateProjects(c.principal)));
      return bj::object{{"project_id", project.id}, {"log_id", "g"}};
    }
    case otlp::ParentKind::kPlaygroundId:
      break;
  }
  return InvalidArgument("Langfuse batches go to a project or an experiment, not a playground");
}

Response Ingest(const Call& c, control::Registry& registry, const RowWriter& write) {
  auto body = json::Parse(c.request.body);
  if (!body.ok()) return Error(body.status());
  auto batch = ingest::langfuse::MapBatch(*body);
  if (!batch.ok()) return Error(batch.status());
  bj::array rows;
  if (!batch->rows.empty()) {
    auto routing = Routing(c, registry);
    if (!routing.ok()) return Error(routing.status());
    for (auto& row : batch->rows) {
      for (const auto& kv : *routing) row[kv.key()] = kv.value();
      row["_is_merge"] = true;  // creates and updates of one id merge, in either order
      rows.push_back(std::move(row));
    }
    // One atomic write: when it fails, no event was stored and the whole request fails.
    if (auto xact = write(std::move(rows)); !xact.ok()) return Error(xact.status());
  }
  bj::array successes, errors;
  for (const auto& r : batch->results) {
    if (r.status == 201) {
      successes.push_back(bj::object{{"id", r.id}, {"status", r.status}});
    } else {
      errors.push_back(bj::object{
          {"id", r.id}, {"status", r.status}, {"message", r.message}, {"error", r.message}});
    }
  }
  return Json(bj::object{{"successes", std::move(successes)}, {"errors", std::move(errors)}},
              http_multi_status);
}

// POST /api/public/scores (the v5 SDKs' score batches): a JSON array of score bodies, the
// same as score-create events; 202 {"message":"Accepted"}, or 207 with the rejected ones.
Response Scores(const Call& c, control::Registry& registry, const RowWriter& write) {
  auto body = json::Parse(c.request.body);
  if (!body.ok()) return Error(body.status());
  if (!body->is_array()) return Error(InvalidArgument("the body must be an array of scores"));
  bj::array events;
  for (std::size_t i = 0; i < body->get_array().size(); ++i) {
    events.push_back(bj::object{{"id", "score-" + std::to_string(i)},
                                {"type", "score-create"},
                                {"body", body->get_array()[i]}});
  }
  auto batch = ingest::langfuse::MapBatch(bj::object{{"batch", std::move(events)}});
  if (!batch.ok()) return Error(batch.status());
  if (!batch->rows.empty()) {
    auto routing = Routing(c, registry);
    if (!routing.ok()) return Error(routing.status());
    bj::array rows;
    for (auto& row : batch->rows) {
      for (const auto& kv : *routing) row[kv.key()] = kv.value();
      row["_is_merge"] = true;
      rows.push_back(std::move(row));
    }
    if (auto xact = write(std::move(rows)); !xact.ok()) return Error(xact.status());
  }
  bj::array errors;
  for (std::size_t i = 0; i < batch->results.size(); ++i) {
    const auto& r = batch->results[i];
    if (r.status != 201) errors.push_back(bj::object{{"index", i}, {"message", r.message}});
  }
  if (errors.empty()) return Json(bj::object{{"message", "Accepted"}}, http_accepted);
  std::size_t rejected = errors.size();
  return Json(bj::object{{"accepted", batch->results.size() - rejected},
                         {"rejected", rejected},
                         {"errors", std::move(errors)}},
              http_multi_status);
}

}  // namespace

void AddLangfuseRoutes(Router& router, control::Registry& registry,
                       std::function<RowWriter(const Call&)> writer_for) {
  router.Add({"POST", "/api/public/ingestion", false, [&registry, writer_for](const Call& c) {
                return Ingest(c, registry, writer_for(c));
              }});
  router.Add({"POST", "/api/public/scores", false, [&registry, writer_for](const Call& c) {
                return Scores(c, registry, writer_for(c));
              }});
}

}  // namespace arbor::api
