// /v1/project/{id}/retention: a project's retention policy (admin-only). Rows of the
// project's logs (and experiments) older than the given number of days, by `created`, are
// deleted by the server's background sweep (server/retention).
#include <algorithm>
#include <limits>

#include "api/app.h"

namespace arbor::api {

namespace bj = boost::json;

namespace {

inline constexpr std::int64_t retention_days_max = 36500;

// The policy's two settings as the API shows them: days, or null when rows never expire.
bj::object RetentionToJson(const std::string& project_id,
                           const std::vector<catalog::RetentionPolicy>& policies) {
  bj::object out{{"project_id", project_id},
                 {"project_logs_max_age_days", nullptr},
                 {"experiment_max_age_days", nullptr}};
  for (const catalog::RetentionPolicy& p : policies) {
    if (p.project_id != project_id) continue;
    out[p.object_type + "_max_age_days"] = p.max_age_days;
  }
  return out;
}

// null or 0: no expiry; else a whole number of days in [1, retention_days_max].
StatusOr<std::int64_t> DaysField(const bj::value& v, const std::string& name) {
  if (v.is_null()) return 0;
  if (!v.is_int64() && !v.is_uint64()) {
    return InvalidArgument("'" + name + "' must be a whole number of days or null");
  }
  std::int64_t days = v.is_int64() ? v.as_int64()
                                   : static_cast<std::int64_t>(std::min<std::uint64_t>(
                                         v.as_uint64(), std::numeric_limits<std::int64_t>::max()));
  if (days < 0 || days > retention_days_max) {
    return InvalidArgument("'" + name + "' must be between 0 and " +
                           std::to_string(retention_days_max));
  }
  return days;
}

}  // namespace

void App::AddRetentionRoutes() {
  // admin-only
  router_.Add({"GET", "/v1/project/{}/retention", false, [this](const Call& c) -> Response {
                 const std::string& org = c.principal.org_id;
                 auto project = deps_.registry.Get(org, catalog::ObjectKind::kProject, c.params[0]);
                 if (!project.ok()) return Error(project.status());
                 auto policies = deps_.catalog.ListRetentionPolicies(org);
                 if (!policies.ok()) return Error(policies.status());
                 return Json(RetentionToJson(project->id, *policies));
               }});
  // admin-only. Keys left out of the body keep their setting; null or 0 turns expiry off.
  router_.Add({"PUT", "/v1/project/{}/retention", false, [this](const Call& c) -> Response {
                 const std::string& org = c.principal.org_id;
                 auto project = deps_.registry.Get(org, catalog::ObjectKind::kProject, c.params[0]);
                 if (!project.ok()) return Error(project.status());
                 auto body = BodyObject(c.request);
                 if (!body.ok()) return Error(body.status());
                 std::vector<catalog::RetentionPolicy> changes;
                 for (const auto& [key, value] : *body) {
                   std::string type;
                   if (key == "project_logs_max_age_days") type = "project_logs";
                   if (key == "experiment_max_age_days") type = "experiment";
                   if (type.empty()) {
                     return Error(InvalidArgument("unknown field '" + std::string(key) +
                                                  "' (expected project_logs_max_age_days, "
                                                  "experiment_max_age_days)"));
                   }
                   auto days = DaysField(value, std::string(key));
                   if (!days.ok()) return Error(days.status());
                   changes.push_back({.org_id = org,
                                      .project_id = project->id,
                                      .object_type = type,
                                      .max_age_days = *days});
                 }
                 for (const catalog::RetentionPolicy& p : changes) {
                   if (Status st = deps_.catalog.SetRetentionPolicy(p); !st.ok()) return Error(st);
                 }
                 auto policies = deps_.catalog.ListRetentionPolicies(org);
                 if (!policies.ok()) return Error(policies.status());
                 return Json(RetentionToJson(project->id, *policies));
               }});
}

}  // namespace arbor::api
