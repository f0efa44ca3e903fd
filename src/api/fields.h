// Typed access to request-body fields, with errors that name the field.
#pragma once

#include <boost/json.hpp>
#include <optional>
#include <set>
#include <string>

#include "base/status.h"

namespace arbor::api {

// Absent or null gives nullopt; another type is InvalidArgument.
StatusOr<std::optional<std::string>> OptString(const boost::json::object& o, const char* key);
StatusOr<std::optional<bool>> OptBool(const boost::json::object& o, const char* key);
StatusOr<std::optional<boost::json::object>> OptObject(const boost::json::object& o,
                                                       const char* key);
StatusOr<std::string> RequireString(const boost::json::object& o, const char* key);
// The non-empty items of a comma-separated query value ("ids=a,b").
std::set<std::string> SplitCommaList(const std::string& text);

}  // namespace arbor::api
