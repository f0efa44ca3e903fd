// BTQL scalar functions (lower, upper, concat, coalesce, nullif, least, greatest, len, round,
// abs, date_trunc, to_string, to_number, now, json_extract) and the names of the aggregate
// functions.
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace arbor::query {

bool IsKnownFunction(const std::string& name);
// Calls a scalar function; wrong argument counts or types give null, as in SQL.
boost::json::value CallScalar(const std::string& name, const std::vector<boost::json::value>& args);

// Seconds since the epoch of an ISO-8601 timestamp ("2026-01-01T10:00:00.5Z", "+02:00"
// offsets) or of a number (already seconds).
std::optional<double> ToEpochSeconds(const boost::json::value& v);

// Timestamps for interval arithmetic and time comparisons, in microseconds since the epoch
// (UTC). Accepts "YYYY-MM-DD", optionally followed by 'T' or ' ' and "HH:MM[:SS[.f...]]" and a
// zone ("Z", "+HH:MM", "+HHMM", "+HH"; none means UTC). Years 0001-9999; anything else is
// nullopt.
std::optional<std::int64_t> ParseTimestampMicros(std::string_view text);
// "YYYY-MM-DDTHH:MM:SS.mmmZ" (".mmmuuuZ" when there are microseconds); nullopt outside years
// 0001-9999.
std::optional<std::string> FormatTimestampMicros(std::int64_t micros);

// `t + interval`: `months` move the calendar date (the day is clamped to the last day of the
// target month, so Jan 31 + 1 month is Feb 28 or 29), then `micros` are added exactly. `t` is
// a timestamp string (the result is one too) or a number of epoch seconds (the result is a
// number); anything else, or a result outside years 0001-9999, is null.
boost::json::value ShiftTime(const boost::json::value& t, std::int64_t months, std::int64_t micros);
}  // namespace arbor::query
