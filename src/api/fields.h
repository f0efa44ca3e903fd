// Typed access to request-body fields, with errors that name the field.
#pragma once

#include <boost/json.hpp>
#include <optional>
#include <string>

#include "base/status.h"

namespace arbor::api {

// Absent or null gives nullopt; another type is InvalidArgument.
StatusOr<std::optional<std::string>> OptString(const boost::json::object& o, const char* key);
StatusOr<std::optional<bool>> OptBool(const boost::json::object& o, const char* key);
StatusOr<std::optional<boost::json::object>> OptObject(const boost::json::object& o,
                                                       const char* key);
StatusOr<std::string> RequireString(const boost::json::object& o, const char* key);

}  // namespace arbor::api
