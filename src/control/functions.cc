#include "control/functions.h"

#include "base/limits.h"
#include "base/util.h"

namespace arbor::control {

namespace bj = boost::json;

namespace {

// The top bits of the data plane's _xact_ids (ingest/xact.h): versions share their format.
constexpr std::uint64_t kXactTopBits = 0x0DE1ull << 48;

std::uint64_t MinXactNow() {
  auto secs = static_cast<std::uint64_t>(NowMicros() / 1'000'000);
  return kXactTopBits | (secs << 16);
}

enum class FieldType { kString, kNonEmptyString, kObject, kStringArray };

struct Field {
  const char* name;
  FieldType type;
  bool nullable;
};

// The fields a client may set; everything else in a body (id, org_name, _xact_id, ...) is
// ignored.
constexpr Field kFields[] = {
    {"name", FieldType::kNonEmptyString, false},  {"slug", FieldType::kNonEmptyString, false},
    {"description", FieldType::kString, true},    {"prompt_data", FieldType::kObject, true},
    {"function_data", FieldType::kObject, false}, {"tags", FieldType::kStringArray, true},
    {"metadata", FieldType::kObject, true},       {"function_type", FieldType::kString, true},
    {"origin", FieldType::kObject, true},         {"function_schema", FieldType::kObject, true},
};

bool IsStringArray(const bj::value& v) {
  if (!v.is_array()) return false;
  for (const auto& e : v.get_array()) {
    if (!e.is_string()) return false;
  }
  return true;
}

Status CheckField(const Field& f, const bj::value& v) {
  if (v.is_null()) {
    return f.nullable ? Status::Ok() : InvalidArgument(std::string("'") + f.name + "' is null");
  }
  bool ok = false;
  const char* want = "";
  switch (f.type) {
    case FieldType::kString:
      ok = v.is_string();
      want = "a string";
      break;
    case FieldType::kNonEmptyString:
      ok = v.is_string() && !v.get_string().empty() &&
           v.get_string().size() <= limits::function_slug_bytes_max;
      want = "a non-empty string";
      break;
    case FieldType::kObject:
      ok = v.is_object();
      want = "an object";
      break;
    case FieldType::kStringArray:
      ok = IsStringArray(v);
      want = "an array of strings";
      break;
  }
  return ok ? Status::Ok() : InvalidArgument(std::string("'") + f.name + "' must be " + want);
}

bool IsEnvironmentSlug(std::string_view s) {
  if (s.empty() || s.size() > limits::function_slug_bytes_max) return false;
  for (char c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') {
      return false;
    }
  }
  return true;
}

std::string Str(const bj::object& o, const char* key) {
  const bj::value* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

}  // namespace

StatusOr<FunctionInput> ParseFunctionInput(const bj::object& body) {
  FunctionInput in;
  if (const bj::value* p = body.if_contains("project_id"); p && !p->is_null()) {
    if (!p->is_string() || p->get_string().empty()) {
      return InvalidArgument("'project_id' must be a non-empty string");
    }
    in.project_id = std::string(p->get_string());
  }
  for (const Field& f : kFields) {
    const bj::value* v = body.if_contains(f.name);
    if (v == nullptr) continue;
    RETURN_IF_ERROR(CheckField(f, *v));
    in.fields[f.name] = *v;
  }
  if (const bj::value* e = body.if_contains("environment_slugs"); e && !e->is_null()) {
    if (!IsStringArray(*e))
      return InvalidArgument("'environment_slugs' must be an array of strings");
    for (const auto& s : e->get_array()) {
      if (!IsEnvironmentSlug(s.get_string())) {
        return InvalidArgument("environment slugs are letters, digits, '-', '_' and '.'");
      }
      in.environments.emplace_back(s.get_string());
    }
  }
  return in;
}

bj::object FunctionToJson(const FunctionRecord& r) {
  bj::object o = r.data;
  o["id"] = r.id;
  o["_xact_id"] = std::to_string(r.xact_id);
  o["project_id"] = r.project_id;
  o["org_id"] = r.org_id;
  o["log_id"] = "p";
  o["slug"] = r.slug;
  o["created"] = r.created;
  if (!o.contains("name")) o["name"] = r.slug;
  if (!o.contains("description")) o["description"] = nullptr;
  if (!o.contains("tags")) o["tags"] = nullptr;
  if (!o.contains("metadata")) o["metadata"] = nullptr;
  if (!o.contains("prompt_data")) o["prompt_data"] = nullptr;
  if (!o.contains("function_type")) o["function_type"] = nullptr;
  if (!o.contains("function_data")) o["function_data"] = bj::object{{"type", "prompt"}};
  return o;
}

StatusOr<std::optional<FunctionRecord>> Functions::FindBySlug(const std::string& org_id,
                                                              const std::string& project_id,
                                                              const std::string& slug) {
  ASSIGN_OR_RETURN(auto found, catalog_.ListFunctions(
                                   org_id, FunctionFilter{.project_id = project_id, .slug = slug}));
  if (found.empty()) return std::optional<FunctionRecord>();
  return std::optional(std::move(found.front()));
}

StatusOr<FunctionResult> Functions::CreateLocked(const std::string& org_id, const std::string& kind,
                                                 const FunctionInput& in) {
  FunctionRecord r{.id = NewUuid(),
                   .org_id = org_id,
                   .project_id = *in.project_id,
                   .kind = kind,
                   .slug = Str(in.fields, "slug"),
                   .created = FormatIsoTime(NowMicros()),
                   .data = in.fields};
  if (!r.data.contains("name")) r.data["name"] = r.slug;
  if (kind == kPromptKind) {
    r.data["function_data"] = bj::object{{"type", "prompt"}};
  } else if (!r.data.contains("function_data")) {
    return InvalidArgument("'function_data' is required");
  }
  ASSIGN_OR_RETURN(r, catalog_.CreateFunction(std::move(r), MinXactNow(), in.environments));
  return FunctionResult{.record = std::move(r)};
}

StatusOr<FunctionResult> Functions::Create(const std::string& org_id, const std::string& kind,
                                           const FunctionInput& in) {
  if (!in.project_id) return InvalidArgument("'project_id' is required");
  if (Str(in.fields, "slug").empty()) return InvalidArgument("'slug' is required");
  RETURN_IF_ERROR(
      catalog_.GetObject(org_id, catalog::ObjectKind::kProject, *in.project_id).status());
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(auto found, FindBySlug(org_id, *in.project_id, Str(in.fields, "slug")));
  if (found) {
    if (kind == kPromptKind && found->kind != kPromptKind) {
      return AlreadyExists("slug '" + found->slug + "' belongs to a function, not a prompt");
    }
    return FunctionResult{.record = *std::move(found), .existed = true};
  }
  return CreateLocked(org_id, kind, in);
}

StatusOr<FunctionResult> Functions::Replace(const std::string& org_id, const std::string& kind,
                                            const FunctionInput& in) {
  if (!in.project_id) return InvalidArgument("'project_id' is required");
  if (Str(in.fields, "slug").empty()) return InvalidArgument("'slug' is required");
  RETURN_IF_ERROR(
      catalog_.GetObject(org_id, catalog::ObjectKind::kProject, *in.project_id).status());
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(auto found, FindBySlug(org_id, *in.project_id, Str(in.fields, "slug")));
  if (!found) return CreateLocked(org_id, kind, in);
  if (kind == kPromptKind && found->kind != kPromptKind) {
    return AlreadyExists("slug '" + found->slug + "' belongs to a function, not a prompt");
  }
  FunctionRecord r = *std::move(found);
  bj::object data = in.fields;
  if (!data.contains("name")) data["name"] = r.slug;
  if (r.kind == kPromptKind) {
    data["function_data"] = bj::object{{"type", "prompt"}};
  } else if (!data.contains("function_data")) {
    return InvalidArgument("'function_data' is required");
  }
  r.data = std::move(data);
  ASSIGN_OR_RETURN(r, catalog_.AddFunctionVersion(std::move(r), MinXactNow(), in.environments));
  return FunctionResult{.record = std::move(r), .existed = true};
}

StatusOr<FunctionRecord> Functions::Patch(const std::string& org_id, const std::string& kind,
                                          const std::string& id, const FunctionInput& in) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(FunctionRecord r, Get(org_id, kind, id, {}));
  for (const auto& [k, v] : in.fields) {
    if (r.kind == kPromptKind && k == "function_data") continue;
    r.data[k] = v;
  }
  if (const std::string slug = Str(in.fields, "slug"); !slug.empty()) r.slug = slug;
  return catalog_.AddFunctionVersion(std::move(r), MinXactNow(), in.environments);
}

StatusOr<FunctionRecord> Functions::Get(const std::string& org_id, const std::string& kind,
                                        const std::string& id, FunctionFilter filter) {
  if (kind == kPromptKind) filter.kind = kPromptKind;
  if (filter.version) filter.environment.reset();  // a version wins over an environment
  auto r = catalog_.GetFunction(org_id, id, filter);
  if (!r.ok() && r.status().code() == StatusCode::kNotFound) {
    return NotFound(
        kind + " " + id + " not found" +
        (filter.version || filter.environment ? " at that version or environment" : ""));
  }
  return r;
}

StatusOr<std::vector<FunctionRecord>> Functions::List(const std::string& org_id,
                                                      const std::string& kind,
                                                      FunctionFilter filter) {
  if (kind == kPromptKind) filter.kind = kPromptKind;
  if (filter.version) filter.environment.reset();
  return catalog_.ListFunctions(org_id, filter);
}

StatusOr<std::vector<FunctionRecord>> Functions::Versions(const std::string& org_id,
                                                          const std::string& kind,
                                                          const std::string& id) {
  auto found = catalog_.ListFunctionVersions(org_id, id);
  if (!found.ok() && found.status().code() != StatusCode::kNotFound) return found.status();
  // /v1/prompt must not reveal that a function of another kind has this id.
  if (!found.ok() || (kind == kPromptKind && found->front().kind != kPromptKind)) {
    return NotFound(kind + " " + id + " not found");
  }
  return found;
}

StatusOr<FunctionRecord> Functions::Delete(const std::string& org_id, const std::string& kind,
                                           const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(FunctionRecord r, Get(org_id, kind, id, {}));
  RETURN_IF_ERROR(catalog_.DeleteFunction(org_id, id));
  return r;
}

}  // namespace arbor::control
