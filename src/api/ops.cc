// Operations: GET /metrics, GET /v1/audit_log, and the per-request steps around every handler
// (rate limit, key-use audit, request metrics, access log, audit events). See ops.h.
#include "api/ops.h"

#include <cmath>
#include <ctime>

#include "api/app.h"
#include "base/limits.h"
#include "base/log.h"
#include "base/metrics.h"
#include "base/util.h"
#include "json/json.h"

namespace arbor::api {
namespace {

namespace bj = boost::json;

// Principal fields that other areas add (user_id by "users", role by "access"); read when
// present so this file builds before and after they land.
template <typename P>
std::string UserIdOf(const P& p) {
  if constexpr (requires { p.user_id; }) {
    return p.user_id;
  } else {
    return "";
  }
}
template <typename P>
std::string RoleOf(const P& p) {
  if constexpr (requires { p.role; }) {
    return p.role;
  } else {
    return "owner";  // keys from before roles existed act as owner keys
  }
}

control::AuditActor ActorOf(const Request& request, const Served& served) {
  const control::Principal& p = served.principal;
  control::AuditActor a{.org_id = p.org_id,
                        .user_id = UserIdOf(p),
                        .role = RoleOf(p),
                        .request_id = served.request_id,
                        .client_ip = request.client_ip};
  if (!p.key_id.empty()) {
    a.actor_type = "api_key";
    a.actor_id = p.key_id;
  } else if (!a.user_id.empty()) {
    a.actor_type = "user";
    a.actor_id = a.user_id;
  } else {
    a.actor_type = "anonymous";
  }
  return a;
}

struct AuditTarget {
  std::string action;
  std::string type;
  std::string id;
};

std::vector<std::string> Literals(const std::string& pattern) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < pattern.size()) {
    std::size_t j = pattern.find('/', i + 1);
    std::string seg = pattern.substr(i + 1, j == std::string::npos ? std::string::npos : j - i - 1);
    if (!seg.empty() && seg != "{}") out.push_back(seg);
    if (j == std::string::npos) break;
    i = j;
  }
  return out;
}

// The audit action of a request, if it is one the audit log records: every change under
// /v1/ (keys, secrets, prompts, projects, members, ACLs, ...; data writes excepted), secret
// reads, sign-ins, and (with --audit-reads) queries.
std::optional<AuditTarget> AuditActionFor(const std::string& method, const std::string& route,
                                          const std::vector<std::string>& params, bool reads) {
  if (route == "/api/auth/login") return AuditTarget{.action = "user.login", .type = "user"};
  if (route == "/btql") {
    if (!reads) return std::nullopt;
    return AuditTarget{.action = "query.btql", .type = "btql"};
  }
  std::vector<std::string> lit = Literals(route);
  if (!lit.empty() && lit.back() == "fetch") {
    if (!reads || params.size() < 2) return std::nullopt;
    return AuditTarget{.action = "query.fetch", .type = params[0], .id = params[1]};
  }
  if (lit.size() < 2 || lit[0] != "v1") return std::nullopt;
  std::string resource = lit.back();
  // Data-plane writes and reads are not admin actions (rows carry their own audit_data).
  static const char* const kNotAudited[] = {"insert",   "feedback", "summarize", "tail",
                                            "versions", "logs",     "traces",    "audit_log"};
  for (const char* skip : kNotAudited) {
    if (resource == skip) return std::nullopt;
  }
  if (resource.size() > 1 && resource.back() == 's' && resource != "logs") resource.pop_back();
  std::string id = params.empty() ? "" : params.back();
  if (method == "GET") {
    if (resource != "ai_secret") return std::nullopt;
    return AuditTarget{
        .action = id.empty() ? "ai_secret.list" : "ai_secret.read", .type = resource, .id = id};
  }
  std::string verb;
  if (method == "POST") {
    verb = "create";
  } else if (method == "PUT") {
    verb = "replace";
  } else if (method == "PATCH") {
    verb = "update";
  } else if (method == "DELETE") {
    verb = resource == "api_key" ? "revoke" : "delete";
  } else {
    return std::nullopt;
  }
  return AuditTarget{.action = resource + "." + verb, .type = resource, .id = id};
}

std::string Outcome(int status) {
  if (status < 400) return "ok";
  if (status == 401 || status == 403) return "denied";
  return "error";
}

// A string at `path` (e.g. {"org", "id"}) of a JSON body, "" when absent.
std::string JsonString(const std::string& body, std::initializer_list<const char*> path) {
  auto v = json::Parse(body);
  if (!v.ok()) return "";
  const bj::value* at = &*v;
  for (const char* key : path) {
    if (!at->is_object()) return "";
    at = at->get_object().if_contains(key);
    if (at == nullptr) return "";
  }
  return at->is_string() ? std::string(at->get_string()) : "";
}

// The "id" field of a JSON response (what a create made); never anything else of the body.
std::string CreatedId(const Response& response) {
  if (response.status >= 300 || response.content_type != "application/json") return "";
  return JsonString(response.body, {"id"});
}

const char* MethodLabel(const std::string& m) {
  for (const char* known : {"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"}) {
    if (m == known) return known;
  }
  return "other";
}

bool IsQueryRoute(const std::string& route) {
  return route == "/btql" || route == "/experiment-comparison2" || route.ends_with("/fetch") ||
         route.ends_with("/summarize");
}

// `since`: unix seconds, or ISO-8601 UTC ("2026-01-02T03:04:05Z", fraction allowed).
StatusOr<std::int64_t> ParseSince(const std::string& text) {
  if (text.empty()) return std::int64_t{0};
  char* end = nullptr;
  long long secs = std::strtoll(text.c_str(), &end, 10);
  if (end != nullptr && *end == '\0') return static_cast<std::int64_t>(secs) * 1'000'000;
  std::tm tm{};
  const char* rest = strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (rest == nullptr) {
    return InvalidArgument("since must be unix seconds or an ISO-8601 UTC time");
  }
  std::int64_t micros = static_cast<std::int64_t>(timegm(&tm)) * 1'000'000;
  if (*rest == '.') {
    std::int64_t scale = 100'000;
    for (++rest; *rest >= '0' && *rest <= '9'; ++rest, scale /= 10) micros += (*rest - '0') * scale;
  }
  if (std::string(rest) != "Z" && std::string(rest) != "") {
    return InvalidArgument("since must be unix seconds or an ISO-8601 UTC time");
  }
  return micros;
}

StatusOr<catalog::AuditQuery> ParseAuditQuery(const Request& r) {
  catalog::AuditQuery q{.action = r.Query("action"), .actor = r.Query("actor")};
  if (!r.Query("limit").empty()) {
    char* end = nullptr;
    long long n = std::strtoll(r.Query("limit").c_str(), &end, 10);
    if (*end != '\0' || n < 1 || n > static_cast<long long>(limits::audit_log_page_max)) {
      return InvalidArgument("limit must be a whole number between 1 and " +
                             std::to_string(limits::audit_log_page_max));
    }
    q.limit = static_cast<std::size_t>(n);
  }
  if (!r.Query("cursor").empty()) {
    char* end = nullptr;
    long long seq = std::strtoll(r.Query("cursor").c_str(), &end, 10);
    if (*end != '\0' || seq < 1) return InvalidArgument("cursor is not one this server returned");
    q.before_seq = seq;
  }
  ASSIGN_OR_RETURN(q.since_us, ParseSince(r.Query("since")));
  return q;
}

bj::object AuditEventJson(const catalog::AuditEvent& e) {
  return bj::object{
      {"id", std::to_string(e.seq)},
      {"time", e.time},
      {"org_id", e.org_id},
      {"actor",
       bj::object{
           {"type", e.actor_type}, {"id", e.actor_id}, {"user_id", e.user_id}, {"role", e.role}}},
      {"action", e.action},
      {"target", bj::object{{"type", e.target_type}, {"id", e.target_id}}},
      {"request_id", e.request_id},
      {"client_ip", e.client_ip},
      {"outcome", e.outcome}};
}

}  // namespace

std::string RequestIdFor(const Request& request) {
  const std::string& given = request.Header("x-request-id");
  bool plain = !given.empty() && given.size() <= limits::request_id_bytes_max;
  for (char c : given) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') {
      plain = false;
    }
  }
  return plain ? given : HexEncode(RandomBytes(8));
}

void App::AddOpsRoutes() {
  rate_limiter_ = std::make_unique<RateLimiter>(
      deps_.ops.rate_limit_rps, deps_.ops.rate_limit_burst, limits::rate_limit_keys_max);

  // Prometheus scrape endpoint. Not an API-key route: the numbers span every org, so it takes
  // the operator's metrics token (--metrics-token-file) and nothing else.
  router_.Add({"GET", "/metrics", /*public_route=*/true, [this](const Call& c) -> Response {
                 const std::string& auth = c.request.Header("authorization");
                 std::string token = auth.rfind("Bearer ", 0) == 0 ? auth.substr(7) : "";
                 if (deps_.ops.metrics_token.empty() || token.empty() ||
                     !ConstantTimeEquals(token, deps_.ops.metrics_token)) {
                   return Error(Unauthenticated(
                       "/metrics needs the metrics token (serve --metrics-token-file)"));
                 }
                 Response r;
                 r.content_type = "text/plain; version=0.0.4; charset=utf-8";
                 r.body = metrics::Global().RenderText();
                 return r;
               }});

  // admin-only: the org's audit events, newest first (owners and admins).
  router_.Add({"GET", "/v1/audit_log", false, [this](const Call& c) -> Response {
                 const std::string role = RoleOf(c.principal);
                 if (role != "owner" && role != "admin") {
                   return Error(PermissionDenied("the audit log is for org owners and admins"));
                 }
                 auto q = ParseAuditQuery(c.request);
                 if (!q.ok()) return Error(q.status());
                 auto events = deps_.catalog.ListAuditEvents(c.principal.org_id, *q);
                 if (!events.ok()) return Error(events.status());
                 bj::array objects;
                 for (const auto& e : *events) objects.push_back(AuditEventJson(e));
                 bj::value cursor = nullptr;
                 if (events->size() == q->limit) cursor = std::to_string(events->back().seq);
                 return Json(bj::object{{"objects", std::move(objects)}, {"cursor", cursor}});
               }});
}

// Sign-ins are public routes: on success the org and user come from the session the response
// made; on failure the event goes to every org the named user belongs to (an unknown email
// goes under no org). Only the email is read from the request, never the password.
void App::RecordLogin(const Request& request, const Response& response,
                      control::AuditActor who) const {
  who.actor_type = "user";
  if (response.status < 300) {
    who.user_id = who.actor_id = JsonString(response.body, {"user", "id"});
    who.org_id = JsonString(response.body, {"org", "id"});
    who.role = JsonString(response.body, {"org", "role"});
    deps_.audit_log->Record(who, "user.login", "user", who.user_id, "ok");
    return;
  }
  std::string outcome = response.status == 401 || response.status == 403 ? "denied" : "error";
  std::vector<std::string> orgs;
  if (auto user = deps_.catalog.FindUserByEmail(JsonString(request.body, {"email"})); user.ok()) {
    who.user_id = who.actor_id = user->id;
    if (auto member_of = deps_.catalog.ListUserOrgs(user->id); member_of.ok()) {
      for (const auto& m : *member_of) orgs.push_back(m.org_id);
    }
  }
  if (orgs.empty()) orgs.push_back("");
  for (const std::string& org : orgs) {
    who.org_id = org;
    deps_.audit_log->Record(who, "user.login_failed", "user", who.user_id, outcome);
  }
}

std::optional<Response> App::Admit(const Request& request, const Served& served) const {
  const std::int64_t now_us = NowMicros();
  if (deps_.audit_log != nullptr) deps_.audit_log->NoteKeyUse(ActorOf(request, served), now_us);
  if (!rate_limiter_ || !rate_limiter_->enabled()) return std::nullopt;
  const control::Principal& p = served.principal;
  std::string bucket = p.key_id.empty() ? "user:" + UserIdOf(p) : p.key_id;
  double wait_s = rate_limiter_->Acquire(bucket, now_us);
  if (wait_s <= 0) return std::nullopt;
  static metrics::Counter& limited = metrics::Global().GetCounter(
      "arbor_rate_limited_total", "Requests refused with 429 by the per-key rate limit.");
  limited.Add();
  Response r = Error(ResourceExhausted(
      "rate limit exceeded for this API key (" + std::to_string(deps_.ops.rate_limit_rps) +
      " requests per second); retry after the Retry-After seconds"));
  r.headers.emplace_back("Retry-After", std::to_string(static_cast<long long>(std::ceil(wait_s))));
  return r;
}

void App::Observe(const Request& request, const Served& served, Response& response,
                  std::int64_t start_us) const {
  response.headers.emplace_back("X-Request-Id", served.request_id);
  const double seconds = static_cast<double>(NowMicros() - start_us) / 1e6;
  const std::string code = std::to_string(response.status / 100) + "xx";
  metrics::Global()
      .GetHistogram(
          "arbor_http_request_duration_seconds",
          "HTTP request latency by route pattern, method and status class.",
          metrics::LatencyBuckets(),
          {{"route", served.route}, {"method", MethodLabel(request.method)}, {"code", code}})
      .Observe(seconds);
  if (IsQueryRoute(served.route)) {
    metrics::Global()
        .GetHistogram("arbor_query_duration_seconds", "Query latency by route pattern.",
                      metrics::LatencyBuckets(), {{"route", served.route}})
        .Observe(seconds);
  }
  const control::Principal& p = served.principal;
  log::Write(response.status >= 500 ? log::Level::kError : log::Level::kInfo, "request",
             {{"request_id", served.request_id},
              {"method", MethodLabel(request.method)},
              {"route", served.route},
              {"status", response.status},
              {"duration_ms", seconds * 1000},
              {"org_id", p.org_id},
              {"key_id", p.key_id},
              {"client_ip", request.client_ip}});
  if (deps_.audit_log == nullptr) return;
  auto target =
      AuditActionFor(request.method, served.route, served.params, deps_.audit_log->reads());
  if (!target) return;
  control::AuditActor who = ActorOf(request, served);
  std::string outcome = Outcome(response.status);
  if (target->action == "user.login") {
    RecordLogin(request, response, who);
    return;
  }
  if (!served.authenticated) {
    return;  // no org to file it under: an unauthenticated request reached no handler
  }
  if (target->id.empty() && target->action.ends_with(".create")) target->id = CreatedId(response);
  deps_.audit_log->Record(who, target->action, target->type, target->id, outcome);
}

}  // namespace arbor::api
