#include "query/functions.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
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

// Proleptic Gregorian calendar <-> days since 1970-01-01 (eras of 400 years, March-based
// years so that the leap day comes last).
std::int64_t DaysFromCivil(std::int64_t y, int m, int d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const std::int64_t yoe = y - era * 400;
  const std::int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

struct Civil {
  std::int64_t year;
  int month;
  int day;
};

Civil CivilFromDays(std::int64_t z) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const std::int64_t doe = z - era * 146097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  const int d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  const int m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  return {yoe + era * 400 + (m <= 2), m, d};
}

bool IsLeap(std::int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysInMonth(std::int64_t y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

inline constexpr std::int64_t micros_per_second = 1'000'000;
inline constexpr std::int64_t micros_per_day = 86'400 * micros_per_second;
inline constexpr std::int64_t year_min = 1;
inline constexpr std::int64_t year_max = 9999;

std::int64_t FloorDiv(std::int64_t a, std::int64_t b) { return a / b - (a % b != 0 && (a < 0)); }

// Reads exactly `n` ASCII digits at `i`.
std::optional<int> Digits(std::string_view s, std::size_t& i, int n) {
  if (i + static_cast<std::size_t>(n) > s.size()) return std::nullopt;
  int v = 0;
  for (int k = 0; k < n; ++k, ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return std::nullopt;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

// "Z", "+HH:MM", "+HHMM" or "+HH" at `i`, as seconds east of UTC; nothing at all is UTC.
std::optional<std::int64_t> ZoneOffset(std::string_view s, std::size_t& i) {
  if (i == s.size()) return 0;
  if (s[i] == 'Z' || s[i] == 'z') {
    ++i;
    return 0;
  }
  if (s[i] != '+' && s[i] != '-') return std::nullopt;
  const int sign = s[i++] == '+' ? 1 : -1;
  auto hh = Digits(s, i, 2);
  if (!hh || *hh > 23) return std::nullopt;
  int mm = 0;
  if (i < s.size()) {
    if (s[i] == ':') ++i;
    auto m = Digits(s, i, 2);
    if (!m || *m > 59) return std::nullopt;
    mm = *m;
  }
  return sign * (*hh * 3600 + mm * 60);
}

// "HH:MM[:SS[.fraction]]" at `i`, in microseconds.
std::optional<std::int64_t> TimeOfDay(std::string_view s, std::size_t& i) {
  auto hh = Digits(s, i, 2);
  if (!hh || i >= s.size() || s[i++] != ':') return std::nullopt;
  auto mm = Digits(s, i, 2);
  if (!mm || *hh > 23 || *mm > 59) return std::nullopt;
  std::int64_t micros = (*hh * 3600 + *mm * 60) * micros_per_second;
  if (i < s.size() && s[i] == ':') {
    ++i;
    auto ss = Digits(s, i, 2);
    if (!ss || *ss > 59) return std::nullopt;
    micros += *ss * micros_per_second;
    if (i < s.size() && s[i] == '.') {
      ++i;
      std::int64_t scale = 100'000;
      const std::size_t start = i;
      while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
        micros += (s[i] - '0') * scale;  // digits beyond microseconds are dropped
        scale /= 10;
        ++i;
      }
      if (i == start) return std::nullopt;
    }
  }
  return micros;
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

std::optional<std::int64_t> ParseTimestampMicros(std::string_view s) {
  // Cheap rejection first: this runs on every string comparison.
  if (s.size() < 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  std::size_t i = 0;
  auto y = Digits(s, i, 4);
  ++i;
  auto m = Digits(s, i, 2);
  ++i;
  auto d = Digits(s, i, 2);
  if (!y || !m || !d || *y < year_min || *m < 1 || *m > 12 || *d < 1 || *d > DaysInMonth(*y, *m)) {
    return std::nullopt;
  }
  std::int64_t micros = DaysFromCivil(*y, *m, *d) * micros_per_day;
  if (i < s.size() && (s[i] == 'T' || s[i] == 't' || s[i] == ' ')) {
    ++i;
    auto tod = TimeOfDay(s, i);
    if (!tod) return std::nullopt;
    auto zone = ZoneOffset(s, i);
    if (!zone) return std::nullopt;
    micros += *tod - *zone * micros_per_second;
  }
  if (i != s.size()) return std::nullopt;
  return micros;
}

std::optional<std::string> FormatTimestampMicros(std::int64_t micros) {
  const std::int64_t days = FloorDiv(micros, micros_per_day);
  const std::int64_t rest = micros - days * micros_per_day;
  const Civil c = CivilFromDays(days);
  if (c.year < year_min || c.year > year_max) return std::nullopt;
  const std::int64_t secs = rest / micros_per_second;
  const std::int64_t frac = rest % micros_per_second;
  char buf[48];
  if (frac % 1000 == 0) {
    std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", static_cast<int>(c.year),
                  c.month, c.day, static_cast<int>(secs / 3600), static_cast<int>(secs / 60 % 60),
                  static_cast<int>(secs % 60), static_cast<int>(frac / 1000));
  } else {
    std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", static_cast<int>(c.year),
                  c.month, c.day, static_cast<int>(secs / 3600), static_cast<int>(secs / 60 % 60),
                  static_cast<int>(secs % 60), static_cast<int>(frac));
  }
  return std::string(buf);
}

bj::value ShiftTime(const bj::value& t, std::int64_t months, std::int64_t micros) {
  std::int64_t at = 0;
  if (t.is_string()) {
    auto parsed = ParseTimestampMicros(t.get_string());
    if (!parsed) return nullptr;
    at = *parsed;
  } else if (t.is_number()) {
    const double secs = t.to_number<double>();
    if (!(std::fabs(secs) < 4e11)) return nullptr;  // beyond year 9999 either way (or NaN)
    at = static_cast<std::int64_t>(std::llround(secs * 1e6));
  } else {
    return nullptr;
  }
  if (months != 0) {
    const std::int64_t days = FloorDiv(at, micros_per_day);
    const std::int64_t rest = at - days * micros_per_day;
    const Civil c = CivilFromDays(days);
    const std::int64_t total = c.year * 12 + (c.month - 1) + months;
    const std::int64_t year = FloorDiv(total, 12);
    const int month = static_cast<int>(total - year * 12) + 1;
    if (year < year_min || year > year_max) return nullptr;
    const int day = std::min(c.day, DaysInMonth(year, month));
    at = DaysFromCivil(year, month, day) * micros_per_day + rest;
  }
  at += micros;  // both bounded (ParseExpr bounds intervals), so no overflow
  if (t.is_number()) {
    if (!FormatTimestampMicros(at)) return nullptr;
    if (t.is_int64() && at % micros_per_second == 0) return at / micros_per_second;
    return static_cast<double>(at) / 1e6;
  }
  auto text = FormatTimestampMicros(at);
  return text ? bj::value(*text) : bj::value(nullptr);
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
