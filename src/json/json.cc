#include "json/json.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>

#include "base/limits.h"

namespace arbor::json {
namespace {

int TypeRank(const bj::value& v) {
  switch (v.kind()) {
    case bj::kind::null:
      return 0;
    case bj::kind::bool_:
      return 1;
    case bj::kind::int64:
    case bj::kind::uint64:
    case bj::kind::double_:
      return 2;
    case bj::kind::string:
      return 3;
    case bj::kind::array:
      return 4;
    case bj::kind::object:
      return 5;
  }
  return 6;
}

double AsDouble(const bj::value& v) {
  if (v.is_int64()) return static_cast<double>(v.get_int64());
  if (v.is_uint64()) return static_cast<double>(v.get_uint64());
  return v.get_double();
}

bool IsMergePath(const MergePaths& paths, const std::vector<std::string>& path) {
  return std::find(paths.begin(), paths.end(), path) != paths.end();
}

void MergeRec(bj::object& target, const bj::object& patch, const MergePaths& merge_paths,
              std::vector<std::string>& path) {
  for (const auto& [key, value] : patch) {
    path.emplace_back(key);
    bj::value* existing = target.if_contains(key);
    bool stop = IsMergePath(merge_paths, path);
    if (existing && !stop && existing->is_object() && value.is_object()) {
      MergeRec(existing->get_object(), value.get_object(), merge_paths, path);
    } else if (existing && !stop && path.size() == 1 && key == "tags" && existing->is_array() &&
               value.is_array()) {
      bj::array& tags = existing->get_array();
      for (const auto& t : value.get_array()) {
        bool seen =
            std::any_of(tags.begin(), tags.end(), [&](const bj::value& x) { return Equals(x, t); });
        if (!seen) tags.push_back(t);
      }
    } else {
      target[key] = value;
    }
    path.pop_back();
  }
}

bool NeedsEscape(unsigned char c) { return c < 0x20 || c == '"' || c == '\\'; }

void WriteEscaped(unsigned char c, std::string& out) {
  static const char* hex = "0123456789abcdef";
  switch (c) {
    case '"':
      out += "\\\"";
      return;
    case '\\':
      out += "\\\\";
      return;
    case '\n':
      out += "\\n";
      return;
    case '\r':
      out += "\\r";
      return;
    case '\t':
      out += "\\t";
      return;
    case '\b':
      out += "\\b";
      return;
    case '\f':
      out += "\\f";
      return;
    default:
      out += "\\u00";
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
  }
}

// True when any byte of `w` is a control character, '"' or '\\' (SWAR: 8 bytes at once).
bool WordNeedsEscape(std::uint64_t w) {
  constexpr std::uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
  auto has_zero = [&](std::uint64_t x) { return (x - ones) & ~x & highs; };
  std::uint64_t below_space = (w - ones * 0x20) & ~w & highs;
  return (below_space | has_zero(w ^ (ones * '"')) | has_zero(w ^ (ones * '\\'))) != 0;
}

// Appends runs of characters that need no escaping in one go: this is the hot loop of
// every WAL record and every response.
void WriteString(std::string_view s, std::string& out) {
  out.push_back('"');
  std::size_t run = 0, i = 0;
  while (i < s.size()) {
    if (i + 8 <= s.size()) {
      std::uint64_t w;
      std::memcpy(&w, s.data() + i, 8);
      if (!WordNeedsEscape(w)) {
        i += 8;
        continue;
      }
    }
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (NeedsEscape(c)) {
      out.append(s.data() + run, i - run);
      WriteEscaped(c, out);
      run = i + 1;
    }
    ++i;
  }
  out.append(s.data() + run, s.size() - run);
  out.push_back('"');
}

void WriteDouble(double d, std::string& out) {
  if (!std::isfinite(d)) {
    out += "null";  // JSON has no NaN or infinity
    return;
  }
  char buf[32];
  auto [p, ec] = std::to_chars(buf, buf + sizeof(buf), d);
  out.append(buf, p);
}

// JSON has no infinities; a number too large for a double must not turn into one.
bool AllFinite(const bj::value& v) {
  switch (v.kind()) {
    case bj::kind::double_:
      return std::isfinite(v.get_double());
    case bj::kind::array:
      for (const auto& e : v.get_array()) {
        if (!AllFinite(e)) return false;
      }
      return true;
    case bj::kind::object:
      for (const auto& kv : v.get_object()) {
        if (!AllFinite(kv.value())) return false;
      }
      return true;
    default:
      return true;
  }
}

}  // namespace

namespace {

void Write(const bj::value& v, std::string& out, bool sort_keys);

// Objects keep their key order, or are sorted by key for canonical text.
void WriteObject(const bj::object& o, std::string& out, bool sort_keys) {
  out.push_back('{');
  auto member = [&](const bj::key_value_pair& kv, bool first) {
    if (!first) out.push_back(',');
    WriteString(kv.key(), out);
    out.push_back(':');
    Write(kv.value(), out, sort_keys);
  };
  if (sort_keys) {
    std::vector<const bj::key_value_pair*> items;
    items.reserve(o.size());
    for (const auto& kv : o) items.push_back(&kv);
    std::sort(items.begin(), items.end(), [](auto* x, auto* y) { return x->key() < y->key(); });
    for (std::size_t i = 0; i < items.size(); ++i) member(*items[i], i == 0);
  } else {
    bool first = true;
    for (const auto& kv : o) {
      member(kv, first);
      first = false;
    }
  }
  out.push_back('}');
}

void Write(const bj::value& v, std::string& out, bool sort_keys) {
  switch (v.kind()) {
    case bj::kind::null:
      out += "null";
      return;
    case bj::kind::bool_:
      out += v.get_bool() ? "true" : "false";
      return;
    case bj::kind::int64:
      out += std::to_string(v.get_int64());
      return;
    case bj::kind::uint64:
      out += std::to_string(v.get_uint64());
      return;
    case bj::kind::double_:
      WriteDouble(v.get_double(), out);
      return;
    case bj::kind::string:
      WriteString(v.get_string(), out);
      return;
    case bj::kind::array: {
      out.push_back('[');
      bool first = true;
      for (const auto& e : v.get_array()) {
        if (!first) out.push_back(',');
        first = false;
        Write(e, out, sort_keys);
      }
      out.push_back(']');
      return;
    }
    case bj::kind::object:
      WriteObject(v.get_object(), out, sort_keys);
      return;
  }
}

}  // namespace

void SerializeTo(const bj::value& v, std::string& out) { Write(v, out, false); }

void SerializeTo(const bj::object& o, std::string& out) { WriteObject(o, out, false); }

void SerializeString(std::string_view s, std::string& out) { WriteString(s, out); }

std::string Serialize(const bj::value& v) {
  std::string out;
  SerializeTo(v, out);
  return out;
}

std::string Serialize(const bj::object& o) {
  std::string out;
  SerializeTo(o, out);
  return out;
}

StatusOr<bj::value> Parse(std::string_view text) {
  bj::parse_options opts;
  opts.max_depth = limits::json_depth_max;
  boost::system::error_code ec;
  bj::stream_parser parser({}, opts);
  std::size_t consumed = parser.write(text.data(), text.size(), ec);
  if (!ec) parser.finish(ec);
  if (ec) {
    return InvalidArgument("malformed JSON near byte " + std::to_string(consumed) + ": " +
                           ec.message());
  }
  bj::value v = parser.release();
  if (!AllFinite(v)) return InvalidArgument("a number in the JSON is out of range");
  return v;
}

namespace {

// The value at path[from..] below `cur` (FindPath without copying the path).
const bj::value* FindPathFrom(const bj::value* cur, const std::vector<std::string>& path,
                              std::size_t from) {
  for (std::size_t i = from; i < path.size(); ++i) {
    const std::string& step = path[i];
    if (cur->is_object()) {
      cur = cur->get_object().if_contains(step);
    } else if (cur->is_array()) {
      long long index = 0;
      auto [p, ec] = std::from_chars(step.data(), step.data() + step.size(), index);
      if (ec != std::errc() || p != step.data() + step.size()) return nullptr;
      const bj::array& arr = cur->get_array();
      if (index < 0) index += static_cast<long long>(arr.size());
      if (index < 0 || index >= static_cast<long long>(arr.size())) return nullptr;
      cur = &arr[static_cast<std::size_t>(index)];
    } else {
      return nullptr;
    }
    if (cur == nullptr) return nullptr;
  }
  return cur;
}

}  // namespace

const bj::value* FindPath(const bj::value& root, const std::vector<std::string>& path) {
  return FindPathFrom(&root, path, 0);
}

const bj::value* FindPath(const bj::object& root, const std::vector<std::string>& path) {
  if (path.empty()) return nullptr;
  const bj::value* first = root.if_contains(path.front());
  if (first == nullptr || path.size() == 1) return first;
  return FindPathFrom(first, path, 1);
}

int Compare(const bj::value& a, const bj::value& b) {
  int ra = TypeRank(a), rb = TypeRank(b);
  if (ra != rb) return ra < rb ? -1 : 1;
  if (ra == 2) {
    double x = AsDouble(a), y = AsDouble(b);
    return x < y ? -1 : (x > y ? 1 : 0);
  }
  if (ra == 1) return static_cast<int>(a.get_bool()) - static_cast<int>(b.get_bool());
  if (ra == 0) return 0;
  if (ra == 3) {
    int c = a.get_string().subview().compare(b.get_string().subview());
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
  }
  std::string x = CanonicalString(a), y = CanonicalString(b);
  return x < y ? -1 : (x > y ? 1 : 0);
}

bool Equals(const bj::value& a, const bj::value& b) { return Compare(a, b) == 0; }

std::string CanonicalString(const bj::value& v) {
  std::string out;
  Write(v, out, true);
  return out;
}

void MergeInto(bj::object& target, const bj::object& patch, const MergePaths& merge_paths) {
  std::vector<std::string> path;
  MergeRec(target, patch, merge_paths, path);
}

void CollectText(const bj::value& v, std::string& out) {
  if (v.is_string()) {
    out.append(v.get_string());
    out.push_back(' ');
  } else if (v.is_array()) {
    for (const auto& e : v.get_array()) CollectText(e, out);
  } else if (v.is_object()) {
    for (const auto& kv : v.get_object()) CollectText(kv.value(), out);
  } else if (!v.is_null()) {
    SerializeTo(v, out);
    out.push_back(' ');
  }
}

}  // namespace arbor::json
