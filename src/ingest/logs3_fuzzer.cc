// Fuzzes the /logs3 body path: JSON parsing, row validation and merge resolution.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "base/status.h"
#include "ingest/rows.h"
#include "json/json.h"

namespace {

// Equal up to double rounding: Boost.JSON 1.81 does not parse every double exactly.
bool NearlyEqual(const boost::json::value& a, const boost::json::value& b) {
  if (a.is_number() && b.is_number()) {
    double x = a.to_number<double>(), y = b.to_number<double>();
    return x == y || std::fabs(x - y) <= 1e-12 * std::max(std::fabs(x), std::fabs(y));
  }
  if (a.kind() != b.kind()) return false;
  if (a.is_array()) {
    const auto &x = a.get_array(), &y = b.get_array();
    if (x.size() != y.size()) return false;
    for (std::size_t i = 0; i < x.size(); ++i) {
      if (!NearlyEqual(x[i], y[i])) return false;
    }
    return true;
  }
  if (a.is_object()) {
    const auto &x = a.get_object(), &y = b.get_object();
    if (x.size() != y.size()) return false;
    for (const auto& [k, v] : x) {
      const boost::json::value* other = y.if_contains(k);
      if (other == nullptr || !NearlyEqual(v, *other)) return false;
    }
    return true;
  }
  return a == b;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace bj = boost::json;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto body = arbor::json::Parse(text);
  if (!body.ok()) return 0;
  // Serialization must round-trip whatever parsed.
  auto again = arbor::json::Parse(arbor::json::Serialize(*body));
  ARBOR_CHECK(again.ok() && NearlyEqual(*again, *body));
  const bj::value* rows = body->is_object() ? body->get_object().if_contains("rows") : nullptr;
  if (rows == nullptr || !rows->is_array()) return 0;
  auto parsed = arbor::ingest::ParseRows(rows->get_array());
  if (!parsed.ok()) return 0;
  // Merge each row into the previous one, as a merge request would.
  for (std::size_t i = 1; i < parsed->size(); ++i) {
    bj::object target = (*parsed)[i - 1].fields;
    arbor::json::MergeInto(target, (*parsed)[i].fields, (*parsed)[i].merge_paths);
    for (const auto& [k, v] : (*parsed)[i].fields) ARBOR_CHECK(target.contains(k));
  }
  return 0;
}
