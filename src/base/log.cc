#include "base/log.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>

#include "base/util.h"

namespace arbor::log {
namespace {

std::atomic<Format> g_format{Format::kJson};

const char* LevelName(Level level) {
  switch (level) {
    case Level::kInfo:
      return "info";
    case Level::kWarn:
      return "warn";
    case Level::kError:
      return "error";
  }
  return "info";
}

// JSON string escaping (RFC 8259): quotes, backslashes and control characters.
void AppendJsonString(std::string& out, std::string_view s) {
  out += '"';
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (u < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", u);
      out += buf;
    } else {
      out += c;
    }
  }
  out += '"';
}

// Text values are quoted when they contain spaces, quotes or control characters.
void AppendTextValue(std::string& out, std::string_view s) {
  bool plain = !s.empty();
  for (char c : s) {
    if (c == ' ' || c == '"' || c == '=' || static_cast<unsigned char>(c) < 0x20) plain = false;
  }
  if (plain) {
    out += s;
  } else {
    AppendJsonString(out, s);
  }
}

}  // namespace

Field::Field(std::string k, double v) : key(std::move(k)) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", v);
  value = buf;
}

void SetFormat(Format format) { g_format.store(format); }
Format GetFormat() { return g_format.load(); }

std::string FormatLine(Format format, std::int64_t ts_us, Level level, std::string_view msg,
                       std::initializer_list<Field> fields) {
  std::string out;
  if (format == Format::kJson) {
    out += "{\"ts\":";
    AppendJsonString(out, FormatIsoTime(ts_us));
    out += ",\"level\":\"";
    out += LevelName(level);
    out += "\",\"msg\":";
    AppendJsonString(out, msg);
    for (const Field& f : fields) {
      out += ',';
      AppendJsonString(out, f.key);
      out += ':';
      if (f.quoted) {
        AppendJsonString(out, f.value);
      } else {
        out += f.value;
      }
    }
    out += "}\n";
    return out;
  }
  out += FormatIsoTime(ts_us);
  out += ' ';
  out += LevelName(level);
  out += ' ';
  AppendTextValue(out, msg);
  for (const Field& f : fields) {
    out += ' ';
    out += f.key;
    out += '=';
    AppendTextValue(out, f.value);
  }
  out += '\n';
  return out;
}

void Write(Level level, std::string_view msg, std::initializer_list<Field> fields) {
  std::string line = FormatLine(GetFormat(), NowMicros(), level, msg, fields);
  // One write(2) per line: lines from several threads never interleave (stderr is unbuffered).
  std::size_t off = 0;
  while (off < line.size()) {
    ssize_t n = ::write(STDERR_FILENO, line.data() + off, line.size() - off);
    if (n <= 0) return;
    off += static_cast<std::size_t>(n);
  }
}

}  // namespace arbor::log
