// BTQL scalar functions (lower, upper, concat, coalesce, nullif, least, greatest, len, round,
// abs, date_trunc, to_string, to_number, now, json_extract) and the names of the aggregate
// functions.
#pragma once

#include <boost/json.hpp>
#include <string>
#include <vector>

namespace arbor::query {

bool IsKnownFunction(const std::string& name);
// Calls a scalar function; wrong argument counts or types give null, as in SQL.
boost::json::value CallScalar(const std::string& name, const std::vector<boost::json::value>& args);

// Seconds since the epoch of an ISO-8601 timestamp ("2026-01-01T10:00:00.5Z", "+02:00"
// offsets) or of a number (already seconds).
std::optional<double> ToEpochSeconds(const boost::json::value& v);

}  // namespace arbor::query
