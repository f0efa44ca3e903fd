// JSON helpers over Boost.JSON: bounded parsing, path access, comparison, and the
// Braintrust merge rules (deep merge, `_merge_paths`, set-union `tags`).
#pragma once

#include <boost/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace arbor::json {

namespace bj = boost::json;

// Parses `text`; depth and size are bounded by base/limits.h. Errors name the position.
StatusOr<bj::value> Parse(std::string_view text);

// Looks up a dotted path of object keys (array indices allowed as decimal strings; negative
// counts from the end). Returns nullptr when any step is missing.
const bj::value* FindPath(const bj::value& root, const std::vector<std::string>& path);
const bj::value* FindPath(const bj::object& root, const std::vector<std::string>& path);

// Orders JSON values: numbers numerically, strings bytewise, otherwise by type then text.
// Returns <0, 0, >0.
int Compare(const bj::value& a, const bj::value& b);
bool Equals(const bj::value& a, const bj::value& b);

// Compact JSON text; numbers in their shortest round-trip form ("0.5", not "5E-1").
std::string Serialize(const bj::value& v);
void SerializeTo(const bj::value& v, std::string& out);
std::string Serialize(const bj::object& o);
void SerializeTo(const bj::object& o, std::string& out);
// Appends `s` as a quoted, escaped JSON string.
void SerializeString(std::string_view s, std::string& out);

// The text of every leaf under `v` (strings as they are, other scalars serialized), each
// followed by a space: what MATCH tokenizes, and what segment token filters index.
void CollectText(const bj::value& v, std::string& out);

// Serializes with object keys sorted, so equal values give equal text (comparison keys).
std::string CanonicalString(const bj::value& v);

using MergePaths = std::vector<std::vector<std::string>>;

// Deep-merges `patch` into `target` (protocol §3.4): objects merge recursively, any other
// value (arrays and null included) overwrites. Top-level `tags` arrays are set-unioned unless
// ["tags"] is listed in `merge_paths`. A path in `merge_paths` is replaced, not descended into.
void MergeInto(bj::object& target, const bj::object& patch, const MergePaths& merge_paths);

}  // namespace arbor::json
