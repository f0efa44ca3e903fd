#include "query/functions.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <ctime>
#include <set>

#include "base/util.h"
#include "json/json.h"
#include "query/expr.h"

namespace arbor::query {
namespace {

namespace bj = boost::json;

const std::set<std::string>& Aggregates() {
  static const std::set<std::string> names = {"count", "count_distinct", "sum", "avg", "min",
                                              "max",   "percentile"};
  return names;
}

const std::set<std::string>& Scalars() {
  static const std::set<std::string> names = {"lower",     "upper",     "concat",   "coalesce",
                                              "nullif",    "least",     "greatest", "len",
                                              "length",    "round",     "abs",      "date_trunc",
                                              "to_string", "to_number", "now",      "json_extract"};
  return names;
}

std::string CaseMap(std::string s, int (*f)(int)) {
  for (char& c : s) c = static_cast<char>(f(static_cast<unsigned char>(c)));
  return s;
}

std::string Text(const bj::value& v) {
  return v.is_string() ? std::string(v.get_string()) : json::Serialize(v);
}

// Unit of date_trunc in seconds: "hour", "15 minutes", "day", ... (weeks start on Monday).
std::optional<double> UnitSeconds(std::string unit) {
  unit = CaseMap(unit, std::tolower);
  double count = 1;
  std::size_t space = unit.find(' ');
  if (space != std::string::npos) {
    count = std::atof(unit.substr(0, space).c_str());
    unit = unit.substr(space + 1);
    if (count <= 0) return std::nullopt;
  }
  if (!unit.empty() && unit.back() == 's') unit.pop_back();
  if (unit == "second") return count;
  if (unit == "minute") return count * 60;
  if (unit == "hour") return count * 3600;
  if (unit == "day") return count * 86400;
  if (unit == "week") return count * 7 * 86400;
  return std::nullopt;
}

bj::value DateTrunc(const bj::value& unit, const bj::value& ts) {
  auto secs = ToEpochSeconds(ts);
  if (!unit.is_string() || !secs) return nullptr;
  std::string u = CaseMap(std::string(unit.get_string()), std::tolower);
  std::time_t t = static_cast<std::time_t>(std::floor(*secs));
  if (u == "month" || u == "year") {
    std::tm tm{};
    gmtime_r(&t, &tm);
    tm.tm_mday = 1;
    tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
    if (u == "year") tm.tm_mon = 0;
    return bj::value(FormatIsoTime(static_cast<std::int64_t>(timegm(&tm)) * 1'000'000));
  }
  auto width = UnitSeconds(u);
  if (!width) return nullptr;
  double offset = u.find("week") != std::string::npos ? 4 * 86400 : 0;  // 1970-01-05 is a Monday
  double start = std::floor((*secs - offset) / *width) * *width + offset;
  return bj::value(FormatIsoTime(static_cast<std::int64_t>(start * 1e6)));
}

// json_extract(value, 'a.b.0'): a path into a JSON value, or into a string holding JSON.
bj::value JsonExtract(const bj::value& v, const bj::value& path) {
  if (!path.is_string()) return nullptr;
  bj::value parsed;
  const bj::value* root = &v;
  if (v.is_string()) {
    auto p = json::Parse(v.get_string());
    if (!p.ok()) return nullptr;
    parsed = std::move(*p);
    root = &parsed;
  }
  std::vector<std::string> parts;
  std::string_view rest = path.get_string();
  while (!rest.empty()) {
    std::size_t dot = rest.find('.');
    parts.emplace_back(rest.substr(0, dot));
    if (dot == std::string_view::npos) break;
    rest.remove_prefix(dot + 1);
  }
  const bj::value* found = parts.empty() ? root : json::FindPath(*root, parts);
  return found ? *found : bj::value(nullptr);
}

bj::value Extreme(const std::vector<bj::value>& args, bool greatest) {
  const bj::value* best = nullptr;
  for (const bj::value& a : args) {
    if (a.is_null()) continue;
    if (best == nullptr || (json::Compare(a, *best) > 0) == greatest) best = &a;
  }
  return best ? *best : bj::value(nullptr);
}

}  // namespace

bool IsAggregateFunction(const std::string& name) { return Aggregates().count(name) > 0; }

bool IsKnownFunction(const std::string& name) {
  return Aggregates().count(name) > 0 || Scalars().count(name) > 0;
}

std::optional<double> ToEpochSeconds(const bj::value& v) {
  if (v.is_number()) return v.to_number<double>();
  if (!v.is_string()) return std::nullopt;
  std::string s(v.get_string());
  std::tm tm{};
  int consumed = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &consumed) != 6) {
    return std::nullopt;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  double secs = static_cast<double>(timegm(&tm));
  std::size_t i = static_cast<std::size_t>(consumed);
  if (i < s.size() && s[i] == '.') {
    std::size_t j = i + 1;
    while (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j]))) ++j;
    secs += std::atof(s.substr(i, j - i).c_str());
    i = j;
  }
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    int hh = 0, mm = 0;
    if (std::sscanf(s.c_str() + i + 1, "%2d:%2d", &hh, &mm) >= 1) {
      secs -= (s[i] == '+' ? 1 : -1) * (hh * 3600.0 + mm * 60.0);
    }
  }
  return secs;
}

bj::value CallScalar(const std::string& name, const std::vector<bj::value>& args) {
  auto arg = [&](std::size_t i) -> const bj::value& {
    static const bj::value null;
    return i < args.size() ? args[i] : null;
  };
  if (name == "lower" || name == "upper") {
    if (!arg(0).is_string()) return nullptr;
    return bj::value(
        CaseMap(std::string(arg(0).get_string()), name == "lower" ? ::tolower : ::toupper));
  }
  if (name == "concat") {
    std::string out;
    for (const bj::value& a : args) {
      if (!a.is_null()) out += Text(a);
    }
    return bj::value(out);
  }
  if (name == "coalesce") {
    for (const bj::value& a : args) {
      if (!a.is_null()) return a;
    }
    return nullptr;
  }
  if (name == "nullif") return json::Equals(arg(0), arg(1)) ? bj::value(nullptr) : arg(0);
  if (name == "least" || name == "greatest") return Extreme(args, name == "greatest");
  if (name == "len" || name == "length") {
    if (arg(0).is_string()) return static_cast<std::int64_t>(arg(0).get_string().size());
    if (arg(0).is_array()) return static_cast<std::int64_t>(arg(0).get_array().size());
    if (arg(0).is_object()) return static_cast<std::int64_t>(arg(0).get_object().size());
    return nullptr;
  }
  if (name == "round") {
    if (!arg(0).is_number()) return nullptr;
    double scale = std::pow(10.0, arg(1).is_number() ? arg(1).to_number<double>() : 0.0);
    return std::round(arg(0).to_number<double>() * scale) / scale;
  }
  if (name == "abs")
    return arg(0).is_number() ? bj::value(std::fabs(arg(0).to_number<double>()))
                              : bj::value(nullptr);
  if (name == "date_trunc") return DateTrunc(arg(0), arg(1));
  if (name == "now") return bj::value(FormatIsoTime(NowMicros()));
  if (name == "json_extract") return JsonExtract(arg(0), arg(1));
  if (name == "to_string") return arg(0).is_null() ? bj::value(nullptr) : bj::value(Text(arg(0)));
  if (name == "to_number") {
    if (arg(0).is_number()) return arg(0);
    if (!arg(0).is_string()) return nullptr;
    std::string t(arg(0).get_string());
    char* end = nullptr;
    double d = std::strtod(t.c_str(), &end);
    return end != t.c_str() && *end == '\0' ? bj::value(d) : bj::value(nullptr);
  }
  return nullptr;
}

}  // namespace arbor::query
