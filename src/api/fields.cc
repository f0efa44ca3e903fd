#include "api/fields.h"

namespace arbor::api {

namespace bj = boost::json;

StatusOr<std::optional<std::string>> OptString(const bj::object& o, const char* key) {
  const bj::value* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) return std::optional<std::string>();
  if (!v->is_string()) return InvalidArgument(std::string("'") + key + "' must be a string");
  return std::optional<std::string>(std::string(v->get_string()));
}

StatusOr<std::optional<bool>> OptBool(const bj::object& o, const char* key) {
  const bj::value* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) return std::optional<bool>();
  if (!v->is_bool()) return InvalidArgument(std::string("'") + key + "' must be a boolean");
  return std::optional<bool>(v->get_bool());
}

StatusOr<std::optional<bj::object>> OptObject(const bj::object& o, const char* key) {
  const bj::value* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) return std::optional<bj::object>();
  if (!v->is_object()) return InvalidArgument(std::string("'") + key + "' must be an object");
  return std::optional<bj::object>(v->get_object());
}

StatusOr<std::string> RequireString(const bj::object& o, const char* key) {
  ASSIGN_OR_RETURN(auto v, OptString(o, key));
  if (!v || v->empty()) return InvalidArgument(std::string("'") + key + "' is required");
  return *v;
}

std::set<std::string> SplitCommaList(const std::string& text) {
  std::set<std::string> out;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    if (comma > start) out.insert(text.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

}  // namespace arbor::api
