// What each route needs (control/access.h) and the one place it is checked. Routes say
// nothing unless they want more than their method implies (GET reads, the rest write); the
// table below raises admin areas and marks the POST routes that only read. Write routes on a
// project's objects name a resolver that finds the objects a request touches, so a caller
// whose org role is too low can still act where an ACL grants it more; routes that write rows
// leave the check to the row write path (api/row_writes.h), which sees every row's object.
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

// Routes that write rows through App::WriteRows and nothing else of a project's, and the
// routes that stage blobs (overflow payloads, attachments) that only such a write can use.
bool WritesOnlyRows(const std::string& pattern) {
  for (const char* p :
       {"/logs3", "/v1/{}/{}/insert", "/v1/{}/{}/feedback", "/otel/v1/traces", "/v1/traces",
        "/otel/v1/logs", "/v1/logs", "/api/public/otel/v1/traces", "/api/public/ingestion",
        "/api/public/scores", "/logs3/overflow", "/attachment", "/attachment/status"}) {
    if (pattern == p) return true;
  }
  return false;
}

}  // namespace

StatusOr<control::ObjectRef> App::ObjectOf(const control::Principal& who, const std::string& type,
                                           const std::string& id) const {
  ASSIGN_OR_RETURN(ObjectKind kind, KindOf(type));
  ASSIGN_OR_RETURN(auto object, deps_.catalog.GetObject(who.org_id, kind, id));
  if (kind == ObjectKind::kProject) {
    return control::ObjectRef{
        .type = type == "project" ? "project" : "project_log", .id = id, .project_id = id};
  }
  return control::ObjectRef{.type = type, .id = id, .project_id = object.project_id};
}

std::optional<Response> App::Authorize(const Route& route, const Call& call) const {
  const Need need = route.need == Need::kByMethod ? ByMethod(route.method) : route.need;
  const control::Role have = control::ParseRole(call.principal.role);
  const control::Role want = control::MinRole(need);
  if (have >= want) return std::nullopt;
  const std::string why = std::string("this needs the ") + control::RoleName(want) +
                          " role; the caller's role is " + control::RoleName(have);
  if (need > Need::kWrite) return Error(PermissionDenied(why));
  // Only ACL grants can help now. Row writes are checked row by row where they are written;
  // here, only that the caller may write somewhere.
  if (route.checks_rows) {
    auto best = access_->BestRole(call.principal);
    if (!best.ok()) return Error(best.status());
    if (*best < want) return Error(PermissionDenied(why));
    return std::nullopt;
  }
  if (!route.objects) return Error(PermissionDenied(why));
  // A request whose objects cannot be told is refused.
  auto objects = route.objects(call);
  if (!objects.ok()) return Error(PermissionDenied(why + " (" + objects.status().message() + ")"));
  if (objects->empty()) return Error(PermissionDenied(why));
  Status st = access_->RequireObjects(call.principal, need, *objects);
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
                             {"project_scoped", static_cast<bool>(r.objects) || r.checks_rows}});
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
  using control::ObjectRef;
  using Refs = std::vector<ObjectRef>;
  auto by_id = [this](const char* type) {
    return [this, type](const Call& c) -> StatusOr<Refs> {
      ASSIGN_OR_RETURN(ObjectRef o, ObjectOf(c.principal, type, c.params[0]));
      return Refs{o};
    };
  };
  // Creating an object of `type` in the project the body names.
  auto in_body_project = [this](const char* type) {
    return [this, type](const Call& c) -> StatusOr<Refs> {
      ASSIGN_OR_RETURN(bj::object body, BodyObject(c.request));
      ASSIGN_OR_RETURN(auto id, OptString(body, "project_id"));
      ASSIGN_OR_RETURN(auto name, OptString(body, "project_name"));
      std::string project;
      if (id) {
        ASSIGN_OR_RETURN(ObjectRef p, ObjectOf(c.principal, "project", *id));
        project = p.id;
      } else {
        if (!name) return InvalidArgument("no project_id or project_name");
        ASSIGN_OR_RETURN(
            auto found,
            deps_.catalog.ListObjects(c.principal.org_id, ObjectKind::kProject, {.name = *name}));
        if (found.empty()) return NotFound("no project named " + *name);
        project = found.front().id;
      }
      return Refs{ObjectRef{.type = type, .id = "", .project_id = project}};
    };
  };
  auto function_object = [this](const char* kind) {
    return [this, kind](const Call& c) -> StatusOr<Refs> {
      ASSIGN_OR_RETURN(auto f, functions_->Get(c.principal.org_id, kind, c.params[0], {}));
      return Refs{ObjectRef{.type = kind, .id = f.id, .project_id = f.project_id}};
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
    if (r.objects || r.need != Need::kWrite) continue;
    const std::string& p = r.pattern;
    if (WritesOnlyRows(p)) {
      r.checks_rows = true;
    } else if (p == "/v1/project/{}" || p == "/v1/experiment/{}" || p == "/v1/dataset/{}") {
      r.objects = by_id(p == "/v1/project/{}"      ? "project"
                        : p == "/v1/experiment/{}" ? "experiment"
                                                   : "dataset");
    } else if (p == "/v1/experiment" || p == "/api/experiment/register") {
      r.objects = in_body_project("experiment");
    } else if (p == "/v1/dataset" || p == "/api/dataset/register") {
      r.objects = in_body_project("dataset");
    } else if (p == "/v1/prompt") {
      r.objects = in_body_project(control::kPromptKind);
    } else if (p == "/v1/function") {
      r.objects = in_body_project(control::kFunctionKind);
    } else if (p == "/v1/prompt/{}") {
      r.objects = function_object(control::kPromptKind);
    } else if (p == "/v1/function/{}") {
      r.objects = function_object(control::kFunctionKind);
    }
  }
}

}  // namespace arbor::api
