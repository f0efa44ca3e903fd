// What each route needs (control/access.h) and the one place it is checked. Routes say
// nothing unless they want more than their method implies (GET reads, the rest write); the
// table below raises admin areas and marks the POST routes that only read. Write routes on a
// project's objects name a resolver that finds the projects a request touches, so a caller
// whose org role is too low can still act where an ACL grants it more.
#include <string_view>

#include "api/app.h"
#include "api/fields.h"
#include "api/routes_access.h"

namespace arbor::api {

namespace bj = boost::json;
using catalog::ObjectKind;
using control::Need;

namespace {

struct Rule {
  const char* method;   // "*": any; "write": anything but GET
  const char* pattern;  // the route pattern, or (prefix) the pattern and everything below it
  bool prefix;
  Need need;
};

// First match wins.
constexpr Rule kRules[] = {
    // Credentials, secrets and the audit trail: admins only, reads included.
    {"*", "/v1/api_key", true, Need::kAdmin},
    {"*", "/v1/service_token", true, Need::kAdmin},
    {"*", "/v1/ai_secret", true, Need::kAdmin},
    {"*", "/v1/audit_log", true, Need::kAdmin},
    // Members, RBAC objects and org settings: anyone reads them, admins change them.
    {"write", "/v1/acl", true, Need::kAdmin},
    {"write", "/v1/role", true, Need::kAdmin},
    {"write", "/v1/group", true, Need::kAdmin},
    {"write", "/v1/organization", true, Need::kAdmin},
    {"write", "/v1/user", true, Need::kAdmin},
    {"write", "/v1/project/{}/retention", false, Need::kAdmin},
    // POST routes that only read.
    {"POST", "/btql", false, Need::kRead},
    {"POST", "/v1/{}/{}/fetch", false, Need::kRead},
    {"POST", "/api/apikey/login", false, Need::kRead},
    {"POST", "/api/experiment/get", false, Need::kRead},
    {"POST", "/api/self/get_object_info", false, Need::kRead},
    {"POST", "/api/base_experiment/get_id", false, Need::kRead},
    {"POST", "/api/auth/switch_org", false, Need::kRead},
};

bool MethodMatches(std::string_view rule, std::string_view method) {
  if (rule == "*") return true;
  if (rule == "write") return method != "GET" && method != "HEAD";
  return rule == method;
}

bool PatternMatches(const Rule& rule, std::string_view pattern) {
  std::string_view want = rule.pattern;
  if (pattern == want) return true;
  return rule.prefix && pattern.size() > want.size() && pattern.substr(0, want.size()) == want &&
         pattern[want.size()] == '/';
}

Need ByMethod(std::string_view method) {
  return method == "GET" || method == "HEAD" ? Need::kRead : Need::kWrite;
}

StatusOr<ObjectKind> KindOf(const std::string& type) {
  if (type == "project" || type == "project_logs") return ObjectKind::kProject;
  if (type == "experiment") return ObjectKind::kExperiment;
  if (type == "dataset") return ObjectKind::kDataset;
  return NotFound("unknown object type " + type);
}

}  // namespace

StatusOr<std::string> App::ObjectProject(const control::Principal& who, const std::string& type,
                                         const std::string& id) const {
  ASSIGN_OR_RETURN(ObjectKind kind, KindOf(type));
  ASSIGN_OR_RETURN(auto object, deps_.catalog.GetObject(who.org_id, kind, id));
  return kind == ObjectKind::kProject ? object.id : object.project_id;
}

// /logs3: the object each row names. Overflow references are not opened here: callers that
// rely on ACLs send their rows inline.
StatusOr<std::vector<std::string>> App::RowProjects(const Call& c) const {
  ASSIGN_OR_RETURN(bj::object body, BodyObject(c.request));
  const bj::value* rows = body.if_contains("rows");
  if (rows == nullptr || !rows->is_array()) return InvalidArgument("body needs a 'rows' array");
  std::vector<std::string> out;
  for (const bj::value& row : rows->get_array()) {
    if (!row.is_object()) return InvalidArgument("each row must be an object");
    const bj::object& r = row.get_object();
    std::string found;
    for (const char* field : {"experiment_id", "dataset_id", "project_id"}) {
      const bj::value* v = r.if_contains(field);
      if (v == nullptr || !v->is_string()) continue;
      std::string type = std::string(field).substr(0, std::string(field).size() - 3);
      ASSIGN_OR_RETURN(found, ObjectProject(c.principal, type, std::string(v->get_string())));
      break;
    }
    if (found.empty()) return InvalidArgument("a row names no experiment, dataset or project");
    out.push_back(std::move(found));
  }
  return out;
}

std::optional<Response> App::Authorize(const Route& route, const Call& call) const {
  const Need need = route.need == Need::kByMethod ? ByMethod(route.method) : route.need;
  const control::Role have = control::ParseRole(call.principal.role);
  const control::Role want = control::MinRole(need);
  if (have >= want) return std::nullopt;
  const std::string why = std::string("this needs the ") + control::RoleName(want) +
                          " role; the caller's role is " + control::RoleName(have);
  if (!route.projects || need > Need::kWrite) return Error(PermissionDenied(why));
  // Only ACL grants can help now: a request whose projects cannot be told is refused.
  auto projects = route.projects(call);
  if (!projects.ok())
    return Error(PermissionDenied(why + " (" + projects.status().message() + ")"));
  if (projects->empty()) return Error(PermissionDenied(why));
  Status st = access_->RequireProjects(call.principal, need, *projects);
  if (!st.ok()) return Error(st);
  return std::nullopt;
}

boost::json::array RouteTable(const Router& router) {
  bj::array out;
  for (const Route& r : router.routes()) {
    const Need need = r.need == Need::kByMethod ? ByMethod(r.method) : r.need;
    out.push_back(bj::object{{"method", r.method},
                             {"pattern", r.pattern},
                             {"public", r.public_route},
                             {"need", control::NeedName(need)},
                             {"project_scoped", static_cast<bool>(r.projects)}});
  }
  return out;
}

void App::AddAccessRoutes() {
  access_ = std::make_unique<control::Access>(deps_.catalog);
  AddRbacRoutes(router_, deps_.catalog, *access_);
  AddAclRoutes(router_, deps_.catalog, *access_);
  AddMemberRoutes(router_, deps_.catalog, deps_.auth);
}

void App::ApplyAccessPolicy() {
  auto by_id = [this](const char* type) {
    return [this, type](const Call& c) -> StatusOr<std::vector<std::string>> {
      ASSIGN_OR_RETURN(std::string p, ObjectProject(c.principal, type, c.params[0]));
      return std::vector<std::string>{p};
    };
  };
  auto typed = [this](const Call& c) -> StatusOr<std::vector<std::string>> {
    ASSIGN_OR_RETURN(std::string p, ObjectProject(c.principal, c.params[0], c.params[1]));
    return std::vector<std::string>{p};
  };
  auto body_project = [this](const Call& c) -> StatusOr<std::vector<std::string>> {
    ASSIGN_OR_RETURN(bj::object body, BodyObject(c.request));
    ASSIGN_OR_RETURN(auto id, OptString(body, "project_id"));
    ASSIGN_OR_RETURN(auto name, OptString(body, "project_name"));
    if (id) {
      ASSIGN_OR_RETURN(std::string p, ObjectProject(c.principal, "project", *id));
      return std::vector<std::string>{p};
    }
    if (!name) return InvalidArgument("no project_id or project_name");
    ASSIGN_OR_RETURN(auto found, deps_.catalog.ListObjects(c.principal.org_id, ObjectKind::kProject,
                                                           {.name = *name}));
    if (found.empty()) return NotFound("no project named " + *name);
    return std::vector<std::string>{found.front().id};
  };
  auto function_project = [this](const char* kind) {
    return [this, kind](const Call& c) -> StatusOr<std::vector<std::string>> {
      ASSIGN_OR_RETURN(auto f, functions_->Get(c.principal.org_id, kind, c.params[0], {}));
      return std::vector<std::string>{f.project_id};
    };
  };
  for (Route& r : router_.mutable_routes()) {
    if (r.need == Need::kByMethod) {
      r.need = ByMethod(r.method);
      for (const Rule& rule : kRules) {
        if (MethodMatches(rule.method, r.method) && PatternMatches(rule, r.pattern)) {
          r.need = rule.need;
          break;
        }
      }
    }
    if (r.projects || r.need != Need::kWrite) continue;
    const std::string& p = r.pattern;
    if (p == "/logs3") {
      r.projects = [this](const Call& c) { return RowProjects(c); };
    } else if (p == "/v1/{}/{}/insert" || p == "/v1/{}/{}/feedback") {
      r.projects = typed;
    } else if (p == "/v1/project/{}" || p == "/v1/experiment/{}" || p == "/v1/dataset/{}") {
      r.projects = by_id(p == "/v1/project/{}"      ? "project"
                         : p == "/v1/experiment/{}" ? "experiment"
                                                    : "dataset");
    } else if (p == "/v1/experiment" || p == "/v1/dataset" || p == "/api/experiment/register" ||
               p == "/api/dataset/register" || p == "/v1/prompt" || p == "/v1/function") {
      r.projects = body_project;
    } else if (p == "/v1/prompt/{}") {
      r.projects = function_project(control::kPromptKind);
    } else if (p == "/v1/function/{}") {
      r.projects = function_project(control::kFunctionKind);
    }
  }
}

}  // namespace arbor::api
