// The web UI: its static files (web/dist) and the live log tail it streams with server-sent
// events. The static routes are public because the app holds no data: every data call it
// makes carries the user's API key.
#include <atomic>
#include <chrono>
#include <filesystem>

#include "api/app.h"
#include "base/limits.h"
#include "base/util.h"
#include "ingest/xact.h"
#include "json/json.h"
#include "query/btql_text.h"

namespace arbor::api {

namespace bj = boost::json;

namespace {

// Client-side routes live under this prefix so they never collide with API routes.
constexpr std::string_view kAppPrefix = "/app";

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

std::string_view ContentType(std::string_view name) {
  auto ends = [&](std::string_view ext) {
    return name.size() >= ext.size() && name.substr(name.size() - ext.size()) == ext;
  };
  if (ends(".js") || ends(".mjs")) return "text/javascript; charset=utf-8";
  if (ends(".css")) return "text/css; charset=utf-8";
  if (ends(".html")) return "text/html; charset=utf-8";
  if (ends(".svg")) return "image/svg+xml";
  if (ends(".png")) return "image/png";
  if (ends(".ico")) return "image/x-icon";
  if (ends(".woff2")) return "font/woff2";
  if (ends(".json") || ends(".map")) return "application/json";
  if (ends(".txt")) return "text/plain; charset=utf-8";
  return "application/octet-stream";
}

// Asset names are one path segment of safe characters: no separators, no "..", no dotfiles.
bool IsSafeAssetName(std::string_view name) {
  if (name.empty() || name.front() == '.' || name.find("..") != std::string_view::npos) {
    return false;
  }
  for (char c : name) {
    bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

Response NotBuilt() {
  return Error(
      NotFound("the web UI is not built: run `make run` (or scripts/build-web.sh) or pass "
               "`arbor serve --web-dir DIR`"));
}

Response File(const std::string& path, std::string_view cache_control) {
  auto body = ReadFile(path);
  if (!body.ok()) return Error(NotFound("no such file"));
  Response r;
  r.content_type = std::string(ContentType(path));
  r.body = std::move(*body);
  r.headers.emplace_back("cache-control", std::string(cache_control));
  r.headers.emplace_back("x-content-type-options", "nosniff");
  return r;
}

Response IndexHtml(const std::string& web_dir) {
  if (web_dir.empty()) return NotBuilt();
  Response r = File(web_dir + "/index.html", "no-cache");
  return r.status == 200 ? r : NotBuilt();
}

bool AcceptsHtml(const Request& request) {
  return request.Header("accept").find("text/html") != std::string::npos;
}

// Open tails, capped at limits::log_tails_max; a Slot gives its place back when dropped.
std::atomic<std::size_t> open_tails{0};

struct TailSlot {
  TailSlot() = default;
  TailSlot(const TailSlot&) = delete;
  TailSlot& operator=(const TailSlot&) = delete;
  ~TailSlot() { --open_tails; }
};

bool IsPlainId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return false;
  }
  return true;
}

std::string SseEvent(std::string_view event, const bj::object& data) {
  return "event: " + std::string(event) + "\ndata: " + json::Serialize(data) + "\n\n";
}

// One open tail: remembers the last _xact_id sent and polls for root spans written after it.
struct Tail {
  std::unique_ptr<TailSlot> slot;
  std::string org_id;
  std::string project_id;
  std::optional<bj::value> filter;  // the client's BTQL filter (AST), if any
  std::uint64_t last = 0;
  std::uint64_t seen_visible = 0;  // the writer's visible xact at the last poll
  std::chrono::steady_clock::time_point last_sent = std::chrono::steady_clock::now();
  bool greeted = false;
};

StatusOr<std::string> PollTail(Tail& tail, const ingest::Writer& writer, query::Engine& engine) {
  auto now = std::chrono::steady_clock::now();
  if (!tail.greeted) {
    tail.greeted = true;
    tail.last_sent = now;
    return SseEvent("ready", {{"xact_id", ingest::XactToString(tail.last)}});
  }
  std::uint64_t visible = writer.visible_xact();
  if (visible > tail.last && visible != tail.seen_visible) {
    tail.seen_visible = visible;
    std::string text =
        "from: project_logs('" + tail.project_id + "') | filter: is_root and _xact_id > '" +
        ingest::XactToString(tail.last) +
        "' | sort: _xact_id desc | limit: " + std::to_string(limits::log_tail_rows_max + 1);
    ASSIGN_OR_RETURN(bj::object ast, query::ParseBtqlText(text));
    if (tail.filter) {
      ast["filter"] =
          bj::object{{"op", "and"}, {"children", bj::array{ast["filter"], *tail.filter}}};
    }
    ASSIGN_OR_RETURN(query::Query q, query::ParseQueryAst(ast));
    ASSIGN_OR_RETURN(query::QueryResult result, engine.Run(tail.org_id, q, visible));
    tail.last = visible;
    if (!result.data.empty()) {
      bool truncated = result.data.size() > limits::log_tail_rows_max;
      if (truncated) result.data.resize(limits::log_tail_rows_max);
      tail.last_sent = now;
      return SseEvent("rows", {{"rows", std::move(result.data)},
                               {"truncated", truncated},
                               {"xact_id", ingest::XactToString(visible)}});
    }
  }
  if (now - tail.last_sent >= std::chrono::seconds(limits::log_tail_heartbeat_s)) {
    tail.last_sent = now;
    return std::string(": heartbeat\n\n");
  }
  return std::string();
}

// The client's filter expression alone: parsed inside a query of its own so that nothing but
// its `filter` clause is ever used.
StatusOr<bj::value> ParseTailFilter(const std::string& project_id, const std::string& text) {
  ASSIGN_OR_RETURN(bj::object ast, query::ParseBtqlText("from: project_logs('" + project_id +
                                                        "') | filter: " + text));
  const bj::value* filter = ast.if_contains("filter");
  if (filter == nullptr || filter->is_null()) return InvalidArgument("'filter' is empty");
  RETURN_IF_ERROR(query::ParseQueryAst(ast).status());
  return *filter;
}

}  // namespace

std::optional<Response> App::ServeWeb(const Request& request) const {
  if (request.method != "GET") return std::nullopt;
  const std::string& path = request.path;
  if (path == "/" && AcceptsHtml(request) && !deps_.web_dir.empty()) {
    return IndexHtml(deps_.web_dir);
  }
  if (path == kAppPrefix || StartsWith(path, std::string(kAppPrefix) + "/")) {
    return IndexHtml(deps_.web_dir);
  }
  constexpr std::string_view kAssets = "/assets/";
  if (StartsWith(path, kAssets)) {
    if (deps_.web_dir.empty()) return NotBuilt();
    std::string_view name = std::string_view(path).substr(kAssets.size());
    if (!IsSafeAssetName(name)) return Error(NotFound("no such asset"));
    return File(deps_.web_dir + "/assets/" + std::string(name),
                "public, max-age=31536000, immutable");
  }
  if (path == "/favicon.svg" && !deps_.web_dir.empty()) {
    return File(deps_.web_dir + "/favicon.svg", "public, max-age=86400");
  }
  return std::nullopt;
}

void App::AddWebRoutes() {
  // Live tail of a project's logs: server-sent events "ready", then "rows" (new or updated
  // root spans, newest first) and heartbeats. `since` (an _xact_id) resumes after a load;
  // `filter` (a BTQL filter expression) keeps only matching root spans.
  router_.Add({"GET", "/v1/project_logs/{}/tail", false, [this](const Call& c) -> Response {
                 const std::string& project_id = c.params[0];
                 if (!IsPlainId(project_id)) return Error(InvalidArgument("bad project id"));
                 auto project = deps_.registry.Get(c.principal.org_id,
                                                   catalog::ObjectKind::kProject, project_id);
                 if (!project.ok()) return Error(project.status());
                 auto tail = std::make_shared<Tail>();
                 tail->org_id = c.principal.org_id;
                 tail->project_id = project_id;
                 tail->last = deps_.writer.visible_xact();
                 if (const std::string& since = c.request.Query("since"); !since.empty()) {
                   auto xact = ingest::ParseXact(since);
                   if (!xact) return Error(InvalidArgument("'since' must be an _xact_id"));
                   tail->last = std::min(*xact, tail->last);
                 }
                 if (const std::string& filter = c.request.Query("filter"); !filter.empty()) {
                   auto parsed = ParseTailFilter(project_id, filter);
                   if (!parsed.ok()) return Error(parsed.status());
                   tail->filter = std::move(*parsed);
                 }
                 if (++open_tails > limits::log_tails_max) {
                   --open_tails;
                   return Error(ResourceExhausted("too many open log tails"));
                 }
                 tail->slot = std::make_unique<TailSlot>();
                 Response r;
                 r.content_type = "text/event-stream";
                 r.headers.emplace_back("cache-control", "no-cache");
                 r.headers.emplace_back("x-accel-buffering", "no");
                 r.stream = [tail, this]() -> std::optional<std::string> {
                   auto chunk = PollTail(*tail, deps_.writer, deps_.engine);
                   if (!chunk.ok()) {
                     return SseEvent("error", {{"message", chunk.status().message()}});
                   }
                   return std::move(*chunk);
                 };
                 return r;
               }});
}

}  // namespace arbor::api
