// /v1/prompt and /v1/function (protocol §4.8, §5): CRUD over versioned objects. What the
// SDKs call: GET list (project + slug [+ version | environment]) and GET by id.
#include <set>

#include "api/app.h"
#include "api/fields.h"
#include "api/prompt_btql.h"
#include "base/util.h"
#include "ingest/xact.h"
#include "json/json.h"

namespace arbor::api {

namespace bj = boost::json;
using control::FunctionFilter;
using control::FunctionToJson;

namespace {

inline constexpr std::size_t list_limit_max = 1000;

struct KindRoutes {
  const char* kind;        // control::kPromptKind / kFunctionKind
  const char* path;        // "/v1/prompt"
  const char* name_param;  // list filter on the display name
};

constexpr KindRoutes kKindRoutes[] = {
    {control::kPromptKind, "/v1/prompt", "prompt_name"},
    {control::kFunctionKind, "/v1/function", "function_name"},
};

// version= (19-digit or 16-hex pretty _xact_id) and environment= from the query string.
StatusOr<FunctionFilter> VersionFilter(const Request& request) {
  FunctionFilter filter;
  if (const std::string& v = request.Query("version"); !v.empty()) {
    auto xact = ingest::ParseXact(v);
    if (!xact) return InvalidArgument("'version' must be an _xact_id (19 digits or 16 hex)");
    filter.version = *xact;
  }
  if (const std::string& e = request.Query("environment"); !e.empty()) filter.environment = e;
  return filter;
}

// Resolves project_name to a project id filter; false when no such project exists.
StatusOr<bool> ProjectFilter(catalog::Catalog& catalog, const Call& c, FunctionFilter& filter) {
  if (const std::string& pid = c.request.Query("project_id"); !pid.empty()) {
    filter.project_id = pid;
    return true;
  }
  const std::string& name = c.request.Query("project_name");
  if (name.empty()) return true;
  ASSIGN_OR_RETURN(auto found,
                   catalog.ListObjects(c.principal.org_id, catalog::ObjectKind::kProject,
                                       catalog::ObjectFilter{.name = name}));
  if (found.empty()) return false;
  filter.project_id = found.front().id;
  return true;
}

StatusOr<std::size_t> Limit(const Request& request) {
  const std::string& text = request.Query("limit");
  if (text.empty()) return list_limit_max;
  char* end = nullptr;
  unsigned long long n = std::strtoull(text.c_str(), &end, 10);
  if (end == text.c_str() || *end != '\0') return InvalidArgument("'limit' must be a number");
  return std::min<std::size_t>(n, list_limit_max);
}

// Newest first, with the display-name, ids and cursor filters the REST API lists take.
bj::array Page(const std::vector<control::FunctionRecord>& found, const Call& c,
               const char* name_param, std::size_t limit) {
  std::set<std::string> ids = SplitCommaList(c.request.Query("ids"));
  const std::string& name = c.request.Query(name_param);
  const std::string& after = c.request.Query("starting_after");
  const std::string& before = c.request.Query("ending_before");
  bool skipping = !after.empty();
  bj::array objects;
  for (auto it = found.rbegin(); it != found.rend() && objects.size() < limit; ++it) {
    if (skipping) {
      skipping = it->id != after;
      continue;
    }
    if (!before.empty() && it->id == before) break;
    if (!ids.empty() && ids.count(it->id) == 0) continue;
    if (!name.empty()) {
      const bj::value* n = it->data.if_contains("name");
      if (n == nullptr || !n->is_string() || n->get_string() != name) continue;
    }
    objects.push_back(FunctionToJson(*it));
  }
  return objects;
}

// One entry of a version list. There is no created time per version in the catalog, but an
// _xact_id carries the Unix second it was issued at (bits 16..47, ingest/xact.h). The digest
// (SHA-256 of the canonical prompt_data and function_data, 12 hex) tells equal contents apart.
bj::object VersionEntry(const control::FunctionRecord& r) {
  bj::object o;
  o["id"] = r.id;
  o["_xact_id"] = ingest::XactToString(r.xact_id);
  o["version"] = ingest::XactToPretty(r.xact_id);
  auto seconds = static_cast<std::int64_t>((r.xact_id >> 16) & 0xFFFFFFFFu);
  o["created"] = FormatIsoTime(seconds * 1'000'000);
  o["slug"] = r.slug;
  const bj::value* name = r.data.if_contains("name");
  o["name"] = name ? *name : bj::value(r.slug);
  bj::object content;
  for (const char* k : {"prompt_data", "function_data"}) {
    if (const bj::value* v = r.data.if_contains(k)) content[k] = *v;
  }
  o["digest"] = Sha256Hex(json::CanonicalString(content)).substr(0, 12);
  return o;
}

// The one-part name of a BTQL AST node ({"op":"ident","name":["x"]}), or "".
std::string IdentName(const bj::value* node) {
  const bj::value* name =
      node && node->is_object() ? node->get_object().if_contains("name") : nullptr;
  if (name == nullptr || !name->is_array() || name->get_array().size() != 1 ||
      !name->get_array()[0].is_string()) {
    return "";
  }
  return std::string(name->get_array()[0].get_string());
}

// `id = '…'` / `slug = '…'` terms (alone or AND-ed) as a filter; anything else is rejected.
Status FunctionTerms(const bj::value* filter, std::optional<std::string>& id, FunctionFilter& f) {
  if (filter == nullptr || filter->is_null()) return Status::Ok();
  const char* unsupported = "project_prompts/project_functions take only id and slug filters";
  if (filter->is_array()) {
    for (const bj::value& term : filter->get_array()) RETURN_IF_ERROR(FunctionTerms(&term, id, f));
    return Status::Ok();
  }
  if (!filter->is_object()) return InvalidArgument(unsupported);
  const bj::object& node = filter->get_object();
  const bj::value* op = node.if_contains("op");
  if (op && op->is_string() && op->get_string() == "and") {
    return FunctionTerms(node.if_contains("children"), id, f);
  }
  const bj::value* right = node.if_contains("right");
  const bj::value* value =
      right && right->is_object() ? right->get_object().if_contains("value") : nullptr;
  std::string field = IdentName(node.if_contains("left"));
  if (!op || !op->is_string() || op->get_string() != "eq" || !value || !value->is_string() ||
      (field != "id" && field != "slug")) {
    return InvalidArgument(unsupported);
  }
  (field == "id" ? id : f.slug) = std::string(value->get_string());
  return Status::Ok();
}

}  // namespace

std::optional<StatusOr<bj::array>> ProjectFunctionsBtql(control::Functions& fns,
                                                        const std::string& org_id,
                                                        const bj::object& ast, bool audit_log) {
  const bj::value* from = ast.if_contains("from");
  if (from == nullptr || !from->is_object()) return std::nullopt;
  std::string source = IdentName(from->get_object().if_contains("name"));
  if (source != "project_prompts" && source != "project_functions") return std::nullopt;
  const std::string kind =
      source == "project_prompts" ? control::kPromptKind : control::kFunctionKind;
  const bj::value* args = from->get_object().if_contains("args");
  const bj::value* arg =
      args && args->is_array() && args->get_array().size() == 1 && args->get_array()[0].is_object()
          ? args->get_array()[0].get_object().if_contains("value")
          : nullptr;
  if (arg == nullptr || !arg->is_string()) {
    return StatusOr<bj::array>(InvalidArgument(source + " takes one project id"));
  }
  FunctionFilter filter{.project_id = std::string(arg->get_string())};
  std::optional<std::string> id;
  if (Status st = FunctionTerms(ast.if_contains("filter"), id, filter); !st.ok()) {
    return StatusOr<bj::array>(st);
  }
  auto found = fns.List(org_id, kind, filter);
  if (!found.ok()) return StatusOr<bj::array>(found.status());
  bj::array data;
  for (const auto& f : *found) {
    if (id && f.id != *id) continue;
    if (!audit_log) {
      data.push_back(FunctionToJson(f));
      continue;
    }
    auto versions = fns.Versions(org_id, kind, f.id);
    if (!versions.ok()) return StatusOr<bj::array>(versions.status());
    for (auto v = versions->rbegin(); v != versions->rend(); ++v) {
      bj::object row = VersionEntry(*v);
      row["project_id"] = v->project_id;
      row["org_id"] = v->org_id;
      row["log_id"] = "p";
      row["source"] = nullptr;  // the catalog does not record who wrote a version
      row["audit_data"] = bj::object{{"action", "upsert"}};
      data.push_back(std::move(row));
    }
  }
  return StatusOr<bj::array>(std::move(data));
}

void App::AddPromptRoutes() {
  functions_ = std::make_unique<control::Functions>(deps_.catalog);
  control::Functions& fns = *functions_;
  for (const KindRoutes& k : kKindRoutes) {
    std::string base = k.path;
    const std::string kind = k.kind;
    // POST creates (or returns the existing slug); PUT creates or replaces.
    for (const char* method : {"POST", "PUT"}) {
      bool replace = std::string(method) == "PUT";
      router_.Add({method, base, false, [&fns, kind, replace](const Call& c) -> Response {
                     auto body = BodyObject(c.request);
                     if (!body.ok()) return Error(body.status());
                     auto in = control::ParseFunctionInput(*body);
                     if (!in.ok()) return Error(in.status());
                     auto made = replace ? fns.Replace(c.principal.org_id, kind, *in)
                                         : fns.Create(c.principal.org_id, kind, *in);
                     if (!made.ok()) return Error(made.status());
                     Response r = Json(FunctionToJson(made->record));
                     if (made->existed && !replace) {
                       r.headers.emplace_back("x-bt-found-existing", "true");
                     }
                     return r;
                   }});
    }
    router_.Add({"GET", base, false, [this, &fns, k, kind](const Call& c) -> Response {
                   auto filter = VersionFilter(c.request);
                   if (!filter.ok()) return Error(filter.status());
                   auto limit = Limit(c.request);
                   if (!limit.ok()) return Error(limit.status());
                   bj::object out;
                   out["objects"] = bj::array();
                   const std::string& org_name = c.request.Query("org_name");
                   if (!org_name.empty() && org_name != c.principal.org_name) return Json(out);
                   auto known = ProjectFilter(deps_.catalog, c, *filter);
                   if (!known.ok()) return Error(known.status());
                   if (!*known) return Json(out);
                   if (const std::string& slug = c.request.Query("slug"); !slug.empty()) {
                     filter->slug = slug;
                   }
                   auto found = fns.List(c.principal.org_id, kind, *filter);
                   if (!found.ok()) return Error(found.status());
                   out["objects"] = Page(*found, c, k.name_param, *limit);
                   return Json(out);
                 }});
    router_.Add({"GET", base + "/{}", false, [&fns, kind](const Call& c) -> Response {
                   auto filter = VersionFilter(c.request);
                   if (!filter.ok()) return Error(filter.status());
                   auto found = fns.Get(c.principal.org_id, kind, c.params[0], *filter);
                   return found.ok() ? Json(FunctionToJson(*found)) : Error(found.status());
                 }});
    // The versions of one prompt or function, newest first (no protocol route lists them;
    // docs/api.md). Open one with GET {base}/{id}?version=<_xact_id>.
    router_.Add({"GET", base + "/{}/versions", false, [&fns, kind](const Call& c) -> Response {
                   auto limit = Limit(c.request);
                   if (!limit.ok()) return Error(limit.status());
                   auto found = fns.Versions(c.principal.org_id, kind, c.params[0]);
                   if (!found.ok()) return Error(found.status());
                   bj::array objects;
                   for (const auto& r : *found) {
                     if (objects.size() >= *limit) break;
                     objects.push_back(VersionEntry(r));
                   }
                   return Json(bj::object{{"objects", std::move(objects)}});
                 }});
    router_.Add({"PATCH", base + "/{}", false, [&fns, kind](const Call& c) -> Response {
                   auto body = BodyObject(c.request);
                   if (!body.ok()) return Error(body.status());
                   auto in = control::ParseFunctionInput(*body);
                   if (!in.ok()) return Error(in.status());
                   auto r = fns.Patch(c.principal.org_id, kind, c.params[0], *in);
                   return r.ok() ? Json(FunctionToJson(*r)) : Error(r.status());
                 }});
    router_.Add({"DELETE", base + "/{}", false, [&fns, kind](const Call& c) -> Response {
                   auto r = fns.Delete(c.principal.org_id, kind, c.params[0]);
                   if (!r.ok()) return Error(r.status());
                   bj::object out = FunctionToJson(*r);
                   out["deleted_at"] = FormatIsoTime(NowMicros());
                   return Json(out);
                 }});
  }
}

}  // namespace arbor::api
