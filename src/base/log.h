// Structured logs: one line per event on stderr, either one JSON object per line (the
// default; for log shippers) or `ts level msg key=value ...` text (for people at a terminal).
// Fields carry ids, routes, statuses and durations: never secrets, never request bodies.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

namespace arbor::log {

enum class Format { kJson, kText };
enum class Level { kInfo, kWarn, kError };

// One field of an event: a string or a number.
struct Field {
  Field(std::string k, std::string_view v) : key(std::move(k)), value(v), quoted(true) {}
  Field(std::string k, const char* v) : key(std::move(k)), value(v), quoted(true) {}
  Field(std::string k, const std::string& v) : key(std::move(k)), value(v), quoted(true) {}
  Field(std::string k, std::int64_t v) : key(std::move(k)), value(std::to_string(v)) {}
  Field(std::string k, int v) : key(std::move(k)), value(std::to_string(v)) {}
  Field(std::string k, std::uint64_t v) : key(std::move(k)), value(std::to_string(v)) {}
  Field(std::string k, double v);

  std::string key;
  std::string value;
  bool quoted = false;
};

void SetFormat(Format format);
Format GetFormat();

// The line (with its newline) an event is written as; exposed for tests.
std::string FormatLine(Format format, std::int64_t ts_us, Level level, std::string_view msg,
                       std::initializer_list<Field> fields);

// Writes one event to stderr as a single write.
void Write(Level level, std::string_view msg, std::initializer_list<Field> fields = {});
inline void Info(std::string_view msg, std::initializer_list<Field> fields = {}) {
  Write(Level::kInfo, msg, fields);
}
inline void Warn(std::string_view msg, std::initializer_list<Field> fields = {}) {
  Write(Level::kWarn, msg, fields);
}
inline void Error(std::string_view msg, std::initializer_list<Field> fields = {}) {
  Write(Level::kError, msg, fields);
}

}  // namespace arbor::log
