// Prompts and functions (`/v1/prompt`, `/v1/function`, protocol §4.8 and §5): versioned
// objects with a slug unique per project. Every create or change appends a version whose id
// is an `_xact_id` (19 digits, increasing); reads select the newest version, the newest at or
// below `version`, or the version pinned to an environment. A prompt is a function whose
// function_data is {"type":"prompt"}: /v1/function lists both, /v1/prompt only prompts.
#pragma once

#include <boost/json.hpp>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "catalog/catalog.h"

namespace arbor::control {

using catalog::FunctionFilter;
using catalog::FunctionRecord;

inline constexpr const char* kPromptKind = "prompt";
inline constexpr const char* kFunctionKind = "function";

// A request body: the project, the client's fields and the environments to pin.
struct FunctionInput {
  std::optional<std::string> project_id;
  boost::json::object fields;  // name, slug, description, prompt_data, function_data, tags, ...
  std::vector<std::string> environments;
};

struct FunctionResult {
  FunctionRecord record;
  bool existed = false;  // POST found the slug: the x-bt-found-existing header
};

// Checks a body's fields and splits it into an input (InvalidArgument naming the field).
StatusOr<FunctionInput> ParseFunctionInput(const boost::json::object& body);

class Functions {
 public:
  explicit Functions(catalog::Catalog& catalog) : catalog_(catalog) {}

  // POST: create, or return the live function with that slug in the project unmodified.
  StatusOr<FunctionResult> Create(const std::string& org_id, const std::string& kind,
                                  const FunctionInput& in);
  // PUT: create, or replace the fields of the function with that slug (a new version).
  StatusOr<FunctionResult> Replace(const std::string& org_id, const std::string& kind,
                                   const FunctionInput& in);
  // PATCH: the given fields over the newest version (a new version).
  StatusOr<FunctionRecord> Patch(const std::string& org_id, const std::string& kind,
                                 const std::string& id, const FunctionInput& in);
  StatusOr<FunctionRecord> Get(const std::string& org_id, const std::string& kind,
                               const std::string& id, FunctionFilter filter);
  StatusOr<std::vector<FunctionRecord>> List(const std::string& org_id, const std::string& kind,
                                             FunctionFilter filter);
  StatusOr<FunctionRecord> Delete(const std::string& org_id, const std::string& kind,
                                  const std::string& id);
  // Every version of one live function (for kPromptKind: of one prompt), newest first.
  StatusOr<std::vector<FunctionRecord>> Versions(const std::string& org_id, const std::string& kind,
                                                 const std::string& id);

 private:
  StatusOr<std::optional<FunctionRecord>> FindBySlug(const std::string& org_id,
                                                     const std::string& project_id,
                                                     const std::string& slug);
  StatusOr<FunctionResult> CreateLocked(const std::string& org_id, const std::string& kind,
                                        const FunctionInput& in);

  catalog::Catalog& catalog_;
  std::mutex mu_;  // makes find-by-slug-then-write atomic
};

// The object the API returns: the stored fields plus id, _xact_id, project_id, org_id,
// log_id "p", slug and created; description and tags are always present (the PY SDK needs
// the keys).
boost::json::object FunctionToJson(const FunctionRecord& record);

}  // namespace arbor::control
