// Shared by the ingest benchmark programs (load_driver.cc for Arbor, pg_baseline.cc for
// PostgreSQL) so that both send byte-for-byte the same rows for a given seed, and measure them
// with the same harness: the deterministic span workload of shared/design/benchmarks.md, the
// concurrent batch sender (I1), the ack -> visible prober (I2), a read-back check, and the report.
#pragma once

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <deque>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace bench {

using Clock = std::chrono::steady_clock;

inline double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

// ---------------------------------------------------------------------------------------------
// Deterministic randomness: splitmix64 seeding + xoshiro256**. No std:: distributions, whose
// output differs between standard libraries.

inline uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

class Rng {
 public:
  explicit Rng(uint64_t seed) {
    uint64_t x = seed;
    for (auto& v : s_) v = splitmix64(x);
  }
  uint64_t next() {
    const uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }  // [0, 1)
  uint64_t below(uint64_t n) {
    return static_cast<uint64_t>((static_cast<unsigned __int128>(next()) * n) >> 64);
  }
  int range(int lo, int hi) {
    return lo + static_cast<int>(below(static_cast<uint64_t>(hi - lo + 1)));
  }
  bool chance(double p) { return uniform() < p; }
  double normal() {                                                           // Box-Muller
    const double u1 = (static_cast<double>(next() >> 11) + 1.0) * 0x1.0p-53;  // (0, 1]
    const double u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
  template <class T>
  const T& pick(const std::vector<T>& v) {
    return v[below(v.size())];
  }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

// Walker/Vose alias table: O(1) sampling from a discrete distribution.
class Alias {
 public:
  void build(const std::vector<double>& w) {
    const size_t n = w.size();
    prob_.assign(n, 0.0);
    alias_.assign(n, 0);
    double sum = 0;
    for (double x : w) sum += x;
    std::vector<double> p(n);
    std::vector<uint32_t> small, large;
    for (size_t i = 0; i < n; ++i) {
      p[i] = w[i] * static_cast<double>(n) / sum;
      (p[i] < 1.0 ? small : large).push_back(static_cast<uint32_t>(i));
    }
    while (!small.empty() && !large.empty()) {
      const uint32_t s = small.back(), l = large.back();
      small.pop_back();
      prob_[s] = p[s];
      alias_[s] = l;
      p[l] = (p[l] + p[s]) - 1.0;
      if (p[l] < 1.0) {
        large.pop_back();
        small.push_back(l);
      }
    }
    for (uint32_t i : large) prob_[i] = 1.0;
    for (uint32_t i : small) prob_[i] = 1.0;
  }
  uint32_t sample(Rng& rng) const {
    const uint64_t r = rng.next();
    const uint32_t i = static_cast<uint32_t>(((r >> 32) * prob_.size()) >> 32);
    const double u = static_cast<double>(r & 0xffffffffULL) * 0x1.0p-32;
    return u < prob_[i] ? i : alias_[i];
  }
  size_t size() const { return prob_.size(); }

 private:
  std::vector<double> prob_;
  std::vector<uint32_t> alias_;
};

inline std::vector<double> zipf_weights(size_t n, double s) {
  std::vector<double> w(n);
  for (size_t i = 0; i < n; ++i) w[i] = 1.0 / std::pow(static_cast<double>(i + 1), s);
  return w;
}

// ---------------------------------------------------------------------------------------------
// JSON text helpers.

inline void append_json_string(std::string& o, std::string_view s) {
  static const char* hex = "0123456789abcdef";
  o += '"';
  for (char ch : s) {
    const unsigned char c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        o += "\\\"";
        break;
      case '\\':
        o += "\\\\";
        break;
      case '\n':
        o += "\\n";
        break;
      case '\t':
        o += "\\t";
        break;
      case '\r':
        o += "\\r";
        break;
      default:
        if (c < 0x20) {
          o += "\\u00";
          o += hex[c >> 4];
          o += hex[c & 15];
        } else {
          o += ch;
        }
    }
  }
  o += '"';
}

inline void append_fixed(std::string& o, double v, int precision) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, precision);
  o.append(buf, r.ptr);
}

inline void append_int(std::string& o, int64_t v) {
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  o.append(buf, r.ptr);
}

inline void append_hex(std::string& o, uint64_t v, int digits) {
  static const char* hex = "0123456789abcdef";
  for (int i = digits - 1; i >= 0; --i) o += hex[(v >> (4 * i)) & 15];
}

// Fast, deterministic 64-bit hash (not cryptographic), for workload fingerprints.
inline uint64_t hash_bytes(uint64_t h, const char* p, size_t n) {
  auto mix = [](uint64_t x) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return x;
  };
  h ^= n * 0x9e3779b97f4a7c15ULL;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, p + i, 8);
    h = (h ^ mix(w)) * 0x9fb21c651e98df25ULL;
  }
  uint64_t w = 0;
  std::memcpy(&w, p + i, n - i);
  return mix((h ^ mix(w)) * 0x9fb21c651e98df25ULL);
}

inline std::string hex_id(Rng& rng, int digits) {  // 16 or 32 hex chars, like the JS SDK
  std::string s;
  s.reserve(static_cast<size_t>(digits));
  for (int left = digits; left > 0; left -= 16) append_hex(s, rng.next(), std::min(left, 16));
  return s;
}

inline std::string iso8601(double epoch_s) {
  const auto secs = static_cast<time_t>(std::floor(epoch_s));
  int ms = static_cast<int>(std::lround((epoch_s - static_cast<double>(secs)) * 1000.0));
  time_t s2 = secs;
  if (ms >= 1000) {
    ms -= 1000;
    s2 += 1;
  }
  struct tm tm {};
  gmtime_r(&s2, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
  return buf;
}

// Streaming writer for one JSON object; nested objects via Obj(parent.key("name")).
class Obj {
 public:
  explicit Obj(std::string& out) : o_(out) { o_ += '{'; }
  std::string& key(std::string_view k) {
    if (!first_) o_ += ',';
    first_ = false;
    o_ += '"';
    o_ += k;
    o_ += "\":";
    return o_;
  }
  void str(std::string_view k, std::string_view v) { append_json_string(key(k), v); }
  void num(std::string_view k, double v, int precision) { append_fixed(key(k), v, precision); }
  void integer(std::string_view k, int64_t v) { append_int(key(k), v); }
  void boolean(std::string_view k, bool v) { key(k) += v ? "true" : "false"; }
  void raw(std::string_view k, std::string_view v) { key(k) += v; }
  void close() { o_ += '}'; }

 private:
  std::string& o_;
  bool first_ = true;
};

// ---------------------------------------------------------------------------------------------
// Workload.

struct WorkloadConfig {
  uint64_t seed = 42;
  size_t rows = 200000;  // rows to send (open + merge rows)
  // Log-normal content budget per span. With the fixed fields of the two rows and the repeated
  // system prompts on top, these give spans of median ~2.4 KB and p99 ~170 KB (benchmarks.md:
  // median ~2 KB, p99 ~200 KB); the cap stands in for the rare 5-20 MB spans.
  double median_span_bytes = 600;
  double sigma = 2.5;
  size_t max_span_bytes = 200 * 1024;
  size_t close_lag_rows = 3200;  // a span's merge row follows its open row this much later
};

struct Row {
  std::string json;
  std::string id;
  int64_t open_index = -1;  // for a merge row: index of the row that opened the span
  bool open = true;
};

struct Dataset {
  std::vector<Row> rows;
  uint64_t fingerprint =
      0;  // hash of all rows with the project id left out: equal => same workload
  size_t traces = 0;
  size_t spans = 0;
  uint64_t json_bytes = 0;
  std::vector<size_t> span_bytes;  // open + merge row bytes per span, for the size report
  std::vector<uint64_t> needle_traces;
};

// Fixed time base so that a seed always yields identical bytes: 2025-01-01T00:00:00Z.
constexpr double kBaseEpoch = 1735689600.0;

class Generator {
 public:
  Generator(const WorkloadConfig& cfg, std::string project_id)
      : cfg_(cfg), pid_(std::move(project_id)), rng_(cfg.seed) {
    build_vocab();
    build_prompts();
    users_.build(zipf_weights(5000, 1.0));
  }

  Dataset build() {
    Dataset ds;
    ds.rows.reserve(cfg_.rows + 64);
    struct Pending {
      size_t release;
      Row row;
    };
    std::deque<Pending> pending;
    std::vector<Row> opens, closes;
    uint64_t t = 0;
    auto emit = [&](Row&& r) {
      ds.json_bytes += r.json.size();
      ds.rows.push_back(std::move(r));
    };
    while (ds.rows.size() + pending.size() < cfg_.rows) {
      while (!pending.empty() && pending.front().release <= ds.rows.size()) {
        emit(std::move(pending.front().row));
        pending.pop_front();
      }
      opens.clear();
      closes.clear();
      trace(t++, opens, closes, ds);
      std::vector<size_t> open_pos(opens.size());
      for (size_t i = 0; i < opens.size(); ++i) {
        open_pos[i] = ds.rows.size();
        emit(std::move(opens[i]));
      }
      // closes[i] belongs to span order_[i]; record where its open row landed.
      for (size_t i = 0; i < closes.size(); ++i) {
        closes[i].open_index = static_cast<int64_t>(open_pos[close_span_[i]]);
        pending.push_back({ds.rows.size() + cfg_.close_lag_rows, std::move(closes[i])});
      }
    }
    while (!pending.empty()) {
      emit(std::move(pending.front().row));
      pending.pop_front();
    }
    while (ds.rows.size() > cfg_.rows) {
      ds.json_bytes -= ds.rows.back().json.size();
      ds.rows.pop_back();
    }
    // Every row ends with "project_id":"<pid>","log_id":"g"}: hash around the project id.
    const size_t suffix = std::strlen("\",\"log_id\":\"g\"}");
    uint64_t h = cfg_.seed;
    for (const Row& r : ds.rows) {
      const size_t cut = r.json.size() - suffix - pid_.size();
      h = hash_bytes(h, r.json.data(), cut);
      h = hash_bytes(h, r.json.data() + cut + pid_.size(), suffix);
    }
    ds.fingerprint = h;
    ds.traces = t;
    return ds;
  }

 private:
  enum Kind { kRoot, kLlm, kTool, kRetrieval, kScore };
  struct Span {
    Kind kind;
    std::string id, span_id, name;
    int parent;  // index into the trace's spans, -1 for the root
    double start, end;
    size_t budget;
    int exec_counter;
  };

  // -- vocabulary: Zipf over 30k synthetic words, ~4% CJK and ~2% Arabic.
  static void append_utf8(std::string& o, uint32_t cp) {
    if (cp < 0x80) {
      o += static_cast<char>(cp);
    } else if (cp < 0x800) {
      o += static_cast<char>(0xC0 | (cp >> 6));
      o += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      o += static_cast<char>(0xE0 | (cp >> 12));
      o += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      o += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  void build_vocab() {
    Rng vr(cfg_.seed ^ 0x766f636162ULL);
    static const char* cons[] = {"b", "c", "d", "f", "g", "h",  "k",  "l",  "m",  "n",  "p",  "r",
                                 "s", "t", "v", "w", "z", "st", "tr", "ch", "sh", "th", "pr", "gr"};
    static const char* vow[] = {"a", "e", "i", "o", "u", "ai", "ea", "ou", "io", "y"};
    const size_t n = 30000;
    words_.reserve(n);
    for (size_t r = 0; r < n; ++r) {
      std::string w;
      const double u = vr.uniform();
      if (r > 20 && u < 0.04) {  // CJK
        const int len = vr.range(2, 4);
        for (int i = 0; i < len; ++i)
          append_utf8(w, 0x4E00 + static_cast<uint32_t>(vr.below(0x4000)));
      } else if (r > 20 && u < 0.06) {  // Arabic
        const int len = vr.range(3, 7);
        for (int i = 0; i < len; ++i)
          append_utf8(w,
                      0x0627 + static_cast<uint32_t>(vr.below(0x0A)) + (vr.chance(0.5) ? 0x10 : 0));
      } else {
        const int syl = 1 + (r > 60) + (r > 1500) + static_cast<int>(vr.below(2));
        for (int i = 0; i < syl; ++i) {
          w += cons[vr.below(std::size(cons))];
          w += vow[vr.below(std::size(vow))];
        }
        if (vr.chance(0.3)) w += cons[vr.below(std::size(cons))];
      }
      words_.push_back(std::move(w));
    }
    vocab_.build(zipf_weights(n, 1.07));
  }

  // Text of about `bytes` bytes: Zipf words, sentences, the odd quoted word and newline.
  std::string text(size_t bytes) {
    std::string s;
    s.reserve(bytes + 16);
    int in_sentence = 0;
    while (s.size() < bytes) {
      const std::string& w = words_[vocab_.sample(rng_)];
      const uint64_t r = rng_.next() & 1023;
      if (r < 8) {
        s += '"';
        s += w;
        s += '"';
      } else {
        s += w;
      }
      if (++in_sentence >= 8 && (r & 7) == 0) {
        s += (r & 0x300) == 0 ? ".\n" : ". ";
        in_sentence = 0;
      } else {
        s += r < 40 ? ", " : " ";
      }
    }
    return s;
  }

  void build_prompts() {
    const size_t sizes[] = {300, 600, 1000, 1500, 2200};
    for (size_t i = 0; i < std::size(sizes); ++i) {
      std::string p = "You are a helpful assistant for Acme Corp (prompt v" +
                      std::to_string(i + 1) + "). Follow the policies below. ";
      p += text(sizes[i]);
      prompts_.push_back(std::move(p));
    }
  }

  size_t span_budget() {
    const double v = cfg_.median_span_bytes * std::exp(cfg_.sigma * rng_.normal());
    return static_cast<size_t>(std::clamp(v, 64.0, static_cast<double>(cfg_.max_span_bytes)));
  }

  void trace(uint64_t t, std::vector<Row>& opens, std::vector<Row>& closes, Dataset& ds) {
    static const std::vector<std::string> models = {"gpt-4o",
                                                    "gpt-4o",
                                                    "gpt-4o-mini",
                                                    "gpt-4o-mini",
                                                    "gpt-4o-mini",
                                                    "claude-3-5-sonnet-20241022",
                                                    "claude-3-haiku-20240307",
                                                    "llama-3.1-70b-instruct",
                                                    "gemini-1.5-pro"};
    static const std::vector<std::string> tools = {"web_search", "get_weather", "sql_query",
                                                   "calculator", "send_email",  "lookup_order",
                                                   "read_file"};
    static const std::vector<std::string> scorers = {"Factuality", "Relevance", "Helpfulness",
                                                     "ToolCorrectness", "Toxicity"};
    static const std::vector<std::string> root_names = {"handle_chat_turn", "agent_run",
                                                        "answer_question", "support_ticket"};
    const std::string root_span_id = hex_id(rng_, 32);
    const uint32_t user = users_.sample(rng_);
    Rng srng(cfg_.seed ^ (static_cast<uint64_t>(user) << 20) ^ (t / 40));
    const std::string user_id = "user_" + std::to_string(user);
    const std::string session_id = "sess_" + hex_id(srng, 16);
    const std::string& model = rng_.pick(models);
    const double env_u = rng_.uniform();
    const char* env = env_u < 0.7 ? "production" : env_u < 0.9 ? "staging" : "development";
    const bool needle = (t % 1000) == 500;

    const int n_children = 2 + static_cast<int>(28.0 * std::pow(rng_.uniform(), 2.2));
    const int n_scores = std::min(n_children - 1, rng_.range(1, 3));
    std::vector<Span> spans;
    spans.reserve(static_cast<size_t>(n_children) + 1);
    const double t0 = kBaseEpoch + static_cast<double>(t) * 0.2 + rng_.uniform() * 0.1;
    spans.push_back({kRoot, hex_id(rng_, 16), hex_id(rng_, 16), rng_.pick(root_names), -1, t0, 0,
                     span_budget(), 0});
    double cursor = t0 + 0.001 + rng_.uniform() * 0.01;
    int last_llm = -1;
    for (int i = 0; i < n_children; ++i) {
      Kind k;
      if (i >= n_children - n_scores) {
        k = kScore;
      } else {
        const double u = rng_.uniform();
        k = u < 0.55 ? kLlm : u < 0.85 ? kTool : kRetrieval;
      }
      double dur;
      std::string name;
      switch (k) {
        case kLlm:
          dur = 0.3 + 1.2 * std::exp(0.7 * rng_.normal());
          name = "Chat Completion";
          break;
        case kTool:
          dur = 0.005 + 0.3 * rng_.uniform();
          name = rng_.pick(tools);
          break;
        case kRetrieval:
          dur = 0.05 + 0.3 * rng_.uniform();
          name = "retrieve_documents";
          break;
        default:
          dur = 0.01 + 1.5 * rng_.uniform();
          name = rng_.pick(scorers);
          break;
      }
      const int parent = (k == kTool && last_llm >= 0 && rng_.chance(0.4)) ? last_llm : 0;
      spans.push_back({k, hex_id(rng_, 16), hex_id(rng_, 16), std::move(name), parent, cursor,
                       cursor + dur, span_budget(), i + 1});
      if (k == kLlm) last_llm = static_cast<int>(spans.size()) - 1;
      cursor += dur + 0.0005 + rng_.uniform() * 0.02;
    }
    spans[0].end = cursor + 0.001;
    if (needle) ds.needle_traces.push_back(t);

    close_span_.clear();
    std::vector<size_t> sizes(spans.size(), 0);
    for (size_t i = 0; i < spans.size(); ++i) {
      opens.push_back(
          open_row(spans[i], spans, root_span_id, user_id, session_id, model, env, needle, t));
      sizes[i] += opens.back().json.size();
    }
    for (size_t j = 1; j <= spans.size(); ++j) {  // children close first, the root last
      const size_t i = j % spans.size();
      closes.push_back(close_row(spans[i], root_span_id, model));
      close_span_.push_back(i);
      sizes[i] += closes.back().json.size();
    }
    ds.spans += spans.size();
    for (size_t s : sizes) ds.span_bytes.push_back(s);
  }

  void common_open(Obj& o, const Span& s, const std::vector<Span>& spans,
                   const std::string& root_span_id) {
    o.str("id", s.id);
    o.str("span_id", s.span_id);
    o.str("root_span_id", root_span_id);
    if (s.parent >= 0) {
      std::string& out = o.key("span_parents");
      out += '[';
      append_json_string(out, spans[static_cast<size_t>(s.parent)].span_id);
      out += ']';
    }
    o.str("created", iso8601(s.start));
  }

  void tail(Obj& o, bool merge) {
    o.boolean("_is_merge", merge);
    o.str("project_id", pid_);
    o.str("log_id", "g");
    o.close();
  }

  Row open_row(const Span& s, const std::vector<Span>& spans, const std::string& root_span_id,
               const std::string& user_id, const std::string& session_id, const std::string& model,
               const char* env, bool needle, uint64_t t) {
    Row r;
    r.id = s.id;
    r.open = true;
    std::string& out = r.json;
    out.reserve(s.kind == kLlm ? s.budget + 512 : 640);
    Obj o(out);
    common_open(o, s, spans, root_span_id);
    if (s.kind == kRoot) {  // logger.traced(fn, {event: {input, metadata, tags}})
      Obj in(o.key("input"));
      std::string q = text(std::max<size_t>(40, s.budget / 8));
      if (needle) q += " needle" + std::to_string(t) + " quantum marmalade orbit";
      in.str("query", q);
      in.str("conversation_id", session_id);
      in.close();
      Obj md(o.key("metadata"));
      md.str("user_id", user_id);
      md.str("session_id", session_id);
      md.str("model", model);
      md.str("environment", env);
      {
        Obj req(md.key("request"));
        req.str("region", t % 3 == 0 ? "us-east-1" : t % 3 == 1 ? "eu-west-1" : "ap-southeast-2");
        Obj cl(req.key("client"));
        cl.str("sdk", "braintrust-js");
        cl.str("version", "0.4.2");
        cl.close();
        req.integer("attempt", 1 + static_cast<int64_t>(rng_.below(2)));
        req.close();
      }
      md.raw("features", rng_.chance(0.5) ? R"(["rag","tools"])" : R"(["tools"])");
      md.close();
      o.raw("tags", rng_.chance(0.3) ? R"(["prod","beta-users"])" : R"(["prod"])");
    } else if (s.kind == kLlm) {  // wrapOpenAI logs the request at span start
      Obj in(o.key("input"));
      std::string& msgs = in.key("messages");
      msgs += "[{\"role\":\"system\",\"content\":";
      const std::string& sys = prompts_[rng_.below(prompts_.size())];
      append_json_string(msgs, sys);
      msgs += '}';
      const size_t budget = s.budget * 65 / 100;
      const size_t rest = budget > sys.size() ? budget - sys.size() : 60;
      const int turns = 1 + 2 * static_cast<int>(rng_.below(3));
      for (int i = 0; i < turns; ++i) {
        msgs += i % 2 == 0 ? ",{\"role\":\"user\",\"content\":"
                           : ",{\"role\":\"assistant\",\"content\":";
        append_json_string(msgs, text(std::max<size_t>(20, rest / static_cast<size_t>(turns))));
        msgs += '}';
      }
      msgs += ']';
      in.close();
      Obj md(o.key("metadata"));
      md.str("model", model);
      md.str("provider", model.rfind("claude", 0) == 0 ? "anthropic" : "openai");
      md.num("temperature", 0.1 * static_cast<double>(rng_.below(11)), 1);
      md.integer("max_tokens", 1024);
      md.boolean("stream", rng_.chance(0.5));
      md.close();
    }
    {
      Obj m(o.key("metrics"));
      m.num("start", s.start, 3);
      m.close();
    }
    {
      Obj c(o.key("context"));
      c.str("caller_functionname", s.kind == kRoot ? s.name : "runAgentStep");
      c.str("caller_filename", "/app/src/agent/pipeline.ts");
      c.integer("caller_lineno", 40 + s.exec_counter * 7);
      c.close();
    }
    {
      Obj a(o.key("span_attributes"));
      a.str("name", s.name);
      a.str("type", s.kind == kRoot        ? "task"
                    : s.kind == kLlm       ? "llm"
                    : s.kind == kTool      ? "tool"
                    : s.kind == kRetrieval ? "function"
                                           : "score");
      if (s.kind == kScore) a.str("purpose", "scorer");
      a.integer("exec_counter", s.exec_counter);
      a.close();
    }
    tail(o, false);
    return r;
  }

  Row close_row(const Span& s, const std::string& root_span_id, const std::string& model) {
    Row r;
    r.id = s.id;
    r.open = false;
    std::string& out = r.json;
    out.reserve(s.budget + 512);
    Obj o(out);
    o.str("id", s.id);
    int64_t prompt_tokens = 0, completion_tokens = 0;
    switch (s.kind) {
      case kRoot: {
        o.str("output", text(s.budget * 7 / 8));
        if (rng_.chance(0.2)) {
          Obj sc(o.key("scores"));
          sc.num("user_feedback", rng_.chance(0.7) ? 1.0 : 0.0, 1);
          sc.close();
        }
        break;
      }
      case kLlm: {
        const std::string content = text(s.budget * 35 / 100);
        completion_tokens = static_cast<int64_t>(content.size() / 4) + 1;
        prompt_tokens = static_cast<int64_t>(s.budget * 65 / 100 / 4) + 120;
        std::string& out2 = o.key("output");
        out2 += "[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":";
        append_json_string(out2, content);
        if (rng_.chance(0.3)) {
          std::string args = "{\"query\":";
          append_json_string(args, text(40));
          args += ",\"top_k\":5}";
          out2 += ",\"tool_calls\":[{\"id\":\"call_";
          append_hex(out2, rng_.next(), 16);
          out2 += "\",\"type\":\"function\",\"function\":{\"name\":\"web_search\",\"arguments\":";
          append_json_string(out2, args);
          out2 += "}}]";
        }
        out2 += "},\"finish_reason\":\"stop\"}]";
        break;
      }
      case kTool: {
        Obj in(o.key("input"));
        Obj args(in.key("arguments"));
        args.str("query", text(30 + s.budget / 20));
        args.integer("limit", 10);
        args.close();
        in.close();
        o.str("output", text(s.budget * 9 / 10));
        Obj md(o.key("metadata"));
        md.str("tool_name", s.name);
        md.close();
        break;
      }
      case kRetrieval: {
        Obj in(o.key("input"));
        in.str("query", text(60));
        in.integer("top_k", 4);
        in.close();
        std::string& docs = o.key("output");
        docs += "{\"documents\":[";
        for (int i = 0; i < 4; ++i) {
          if (i) docs += ',';
          Obj d(docs);
          d.str("id", "doc_" + hex_id(rng_, 8));
          d.num("score", 0.5 + 0.5 * rng_.uniform(), 4);
          d.str("text", text(s.budget / 4));
          d.close();
        }
        docs += "]}";
        break;
      }
      case kScore: {
        const double score = std::round(rng_.uniform() * 10000.0) / 10000.0;
        Obj in(o.key("input"));
        in.str("output", text(std::min<size_t>(400, s.budget / 3)));
        in.str("expected", text(std::min<size_t>(200, s.budget / 6)));
        in.close();
        Obj out2(o.key("output"));
        out2.num("score", score, 4);
        out2.str("rationale", text(s.budget / 2));
        out2.close();
        Obj sc(o.key("scores"));
        sc.num(s.name, score, 4);
        sc.close();
        Obj md(o.key("metadata"));
        md.str("scorer_model", "gpt-4o-mini");
        md.str("scorer_version", "v3");
        md.close();
        break;
      }
    }
    {
      Obj m(o.key("metrics"));
      m.num("end", s.end, 3);
      if (s.kind == kLlm) {
        m.integer("prompt_tokens", prompt_tokens);
        m.integer("completion_tokens", completion_tokens);
        m.integer("tokens", prompt_tokens + completion_tokens);
        m.num("time_to_first_token", 0.1 + 0.4 * rng_.uniform(), 3);
        const double per_tok = model == "gpt-4o-mini" ? 0.15e-6 : 2.5e-6;
        m.num("estimated_cost",
              static_cast<double>(prompt_tokens) * per_tok +
                  static_cast<double>(completion_tokens) * per_tok * 4.0,
              6);
      }
      m.close();
    }
    o.str("span_id", s.span_id);
    o.str("root_span_id", root_span_id);
    tail(o, true);
    return r;
  }

  WorkloadConfig cfg_;
  std::string pid_;
  Rng rng_;
  std::vector<std::string> words_;
  Alias vocab_;
  Alias users_;
  std::vector<std::string> prompts_;
  std::vector<size_t> close_span_;  // for the last trace: span index of each close row
};

// ---------------------------------------------------------------------------------------------
// Machine description and statistics.

inline std::string machine_summary() {
  std::string cpu = "?";
  {
    std::ifstream f("/proc/cpuinfo");
    std::string line;
    while (std::getline(f, line)) {
      if (line.rfind("model name", 0) == 0) {
        cpu = line.substr(line.find(':') + 2);
        break;
      }
    }
  }
  double ram_gib = 0;
  {
    std::ifstream f("/proc/meminfo");
    std::string k;
    uint64_t kb = 0;
    while (f >> k >> kb) {
      if (k == "MemTotal:") {
        ram_gib = static_cast<double>(kb) / (1024.0 * 1024.0);
        break;
      }
      f.ignore(1 << 20, '\n');
    }
  }
  char buf[512];
  std::snprintf(buf, sizeof buf, "cores=%ld ram=%.1fGiB cpu=\"%s\"", sysconf(_SC_NPROCESSORS_ONLN),
                ram_gib, cpu.c_str());
  return buf;
}

inline double percentile(std::vector<double> v, double p) {
  if (v.empty()) return std::nan("");
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size())));
  i = std::clamp<size_t>(i, 1, v.size());
  return v[i - 1];
}

inline double percentile_sz(const std::vector<size_t>& v, double p) {
  std::vector<double> d(v.begin(), v.end());
  return percentile(std::move(d), p);
}

inline void print_dataset(const WorkloadConfig& cfg, const Dataset& ds) {
  size_t opens = 0;
  for (const Row& r : ds.rows) opens += r.open;
  std::printf(
      "dataset: seed=%llu rows=%zu (open=%zu merge=%zu) traces=%zu spans=%zu json=%.1fMB "
      "fingerprint=%016llx\n",
      static_cast<unsigned long long>(cfg.seed), ds.rows.size(), opens, ds.rows.size() - opens,
      ds.traces, ds.spans, static_cast<double>(ds.json_bytes) / 1e6,
      static_cast<unsigned long long>(ds.fingerprint));
  std::printf(
      "         span bytes p50=%.0f p90=%.0f p99=%.0f max=%.0f (cap %zu); row bytes avg=%.0f\n",
      percentile_sz(ds.span_bytes, 50), percentile_sz(ds.span_bytes, 90),
      percentile_sz(ds.span_bytes, 99), percentile_sz(ds.span_bytes, 100), cfg.max_span_bytes,
      ds.rows.empty() ? 0.0
                      : static_cast<double>(ds.json_bytes) / static_cast<double>(ds.rows.size()));
  std::fflush(stdout);
}

// ---------------------------------------------------------------------------------------------
// The harness.

class Sink {  // one connection; posts one batch, returns only once it is durably acknowledged
 public:
  virtual ~Sink() = default;
  virtual bool post(const Row* rows, size_t n, std::string* err) = 0;
  virtual uint64_t retries() const { return 0; }  // batches re-sent after a transient failure
};

class Reader {  // looks one row up by id: 1 found (row JSON in *row), 0 absent, -1 error
 public:
  virtual ~Reader() = default;
  virtual int lookup(const std::string& id, std::string* row, std::string* err) = 0;
};

struct RunOptions {
  std::string system;
  size_t connections = 16;
  size_t batch = 100;
  double duration_s = 0;  // 0: until all rows are sent
  bool visibility = true;
  double vis_timeout_s = 30;
  double vis_interval_ms = 1;  // pause between two polls for the same row
  size_t verify = 50;
  std::string json_out;
};

// Size of the batch as a JSON array "[r1,r2,...]", the unit both systems are charged for.
inline uint64_t batch_json_bytes(const Row* rows, size_t n) {
  uint64_t b = 2 + (n ? n - 1 : 0);
  for (size_t i = 0; i < n; ++i) b += rows[i].json.size();
  return b;
}

inline void append_batch_array(std::string& o, const Row* rows, size_t n) {
  o += '[';
  for (size_t i = 0; i < n; ++i) {
    if (i) o += ',';
    o += rows[i].json;
  }
  o += ']';
}

// A merged span read back must carry fields of both its open row and its merge row.
inline bool row_is_merged(const std::string& row_json, const std::string& id, std::string* why) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(row_json, ec);
  if (ec || !v.is_object()) {
    *why = "not a JSON object";
    return false;
  }
  const auto& o = v.as_object();
  auto str_eq = [&](const char* k, const std::string& want) {
    const auto* p = o.if_contains(k);
    return p && p->is_string() && p->as_string() == want;
  };
  if (!str_eq("id", id)) {
    *why = "id mismatch";
    return false;
  }
  const auto* sa = o.if_contains("span_attributes");
  const auto* m = o.if_contains("metrics");
  const auto* out = o.if_contains("output");
  if (!sa || !sa->is_object() || !sa->as_object().if_contains("type")) {
    *why = "span_attributes (from the open row) missing";
    return false;
  }
  if (!m || !m->is_object() || !m->as_object().if_contains("start") ||
      !m->as_object().if_contains("end")) {
    *why = "metrics.start and metrics.end not both present (deep merge)";
    return false;
  }
  if (!out || out->is_null()) {
    *why = "output (from the merge row) missing";
    return false;
  }
  return true;
}

inline int run_ingest(const WorkloadConfig& wcfg, const Dataset& ds, const RunOptions& opt,
                      const std::function<std::unique_ptr<Sink>()>& make_sink,
                      const std::function<std::unique_ptr<Reader>()>& make_reader) {
  const size_t B = std::max<size_t>(1, opt.batch);
  const size_t nb = (ds.rows.size() + B - 1) / B;
  const size_t C = std::max<size_t>(1, opt.connections);
  std::vector<std::unique_ptr<Sink>> sinks;
  for (size_t i = 0; i < C; ++i) sinks.push_back(make_sink());  // connect before the clock starts
  std::unique_ptr<Reader> vis_reader = opt.visibility ? make_reader() : nullptr;

  struct PerThread {
    std::vector<double> ack_ms;
    uint64_t rows_ok = 0, rows_failed = 0, bytes_ok = 0, failures = 0;
    std::string first_err;
  };
  std::vector<PerThread> per(C);
  std::vector<char> batch_ok(nb, 0);
  std::atomic<size_t> next{0};
  std::atomic<bool> ingest_done{false};

  std::mutex probe_mu;
  size_t probe_row = 0;
  uint64_t probe_seq = 0;
  Clock::time_point probe_ack;

  struct rusage ru0 {};
  getrusage(RUSAGE_SELF, &ru0);
  const auto t_start = Clock::now();
  const auto deadline = t_start + std::chrono::duration_cast<Clock::duration>(
                                      std::chrono::duration<double>(opt.duration_s));

  std::vector<std::thread> threads;
  for (size_t c = 0; c < C; ++c) {
    threads.emplace_back([&, c] {
      PerThread& me = per[c];
      std::string err;
      for (;;) {
        if (opt.duration_s > 0 && Clock::now() >= deadline) break;
        const size_t b = next.fetch_add(1);
        if (b >= nb) break;
        const size_t first = b * B;
        const size_t n = std::min(B, ds.rows.size() - first);
        const auto t0 = Clock::now();
        const bool ok = sinks[c]->post(&ds.rows[first], n, &err);
        const auto t1 = Clock::now();
        me.ack_ms.push_back(ms_between(t0, t1));
        if (ok) {
          batch_ok[b] = 1;
          me.rows_ok += n;
          me.bytes_ok += batch_json_bytes(&ds.rows[first], n);
          for (size_t i = first; i < first + n; ++i) {
            if (ds.rows[i].open) {  // probe a row whose id is new: it cannot be visible before
              std::lock_guard<std::mutex> g(probe_mu);
              probe_row = i;
              probe_ack = t1;
              ++probe_seq;
              break;
            }
          }
        } else {
          me.rows_failed += n;
          if (me.failures++ == 0) me.first_err = err;
        }
      }
    });
  }

  std::vector<double> vis_ms, probe_ms;
  size_t vis_timeouts = 0, vis_errors = 0, vis_wrong = 0;
  std::string vis_first_err;
  std::thread vis_thread;
  if (vis_reader) {
    vis_thread = std::thread([&] {
      uint64_t seen = 0;
      size_t consecutive_errors = 0;
      std::string row, err;
      while (!ingest_done.load()) {
        size_t idx;
        Clock::time_point ack;
        {
          std::lock_guard<std::mutex> g(probe_mu);
          if (probe_seq == seen) {
            idx = SIZE_MAX;
          } else {
            seen = probe_seq;
            idx = probe_row;
            ack = probe_ack;
          }
        }
        if (idx == SIZE_MAX) {
          std::this_thread::sleep_for(std::chrono::microseconds(200));
          continue;
        }
        const std::string& id = ds.rows[idx].id;
        for (;;) {
          const auto q0 = Clock::now();
          const int r = vis_reader->lookup(id, &row, &err);
          const auto q1 = Clock::now();
          probe_ms.push_back(ms_between(q0, q1));
          if (r == 1) {
            vis_ms.push_back(ms_between(ack, q1));
            boost::system::error_code ec;
            auto v = boost::json::parse(row, ec);
            const auto* idv = (!ec && v.is_object()) ? v.as_object().if_contains("id") : nullptr;
            if (!idv || !idv->is_string() || idv->as_string() != id) ++vis_wrong;
            consecutive_errors = 0;
            break;
          }
          if (r < 0) {
            if (vis_errors++ == 0) vis_first_err = err;
            if (++consecutive_errors >= 5) return;  // the read path does not work; give up on I2
            break;
          }
          if (ms_between(ack, q1) > opt.vis_timeout_s * 1000.0) {
            ++vis_timeouts;
            break;
          }
          std::this_thread::sleep_for(
              std::chrono::duration<double, std::milli>(opt.vis_interval_ms));
        }
      }
    });
  }

  for (auto& t : threads) t.join();
  const auto t_end = Clock::now();
  ingest_done = true;
  if (vis_thread.joinable()) vis_thread.join();
  struct rusage ru1 {};
  getrusage(RUSAGE_SELF, &ru1);
  auto cpu_s = [](const struct rusage& r) {
    return static_cast<double>(r.ru_utime.tv_sec + r.ru_stime.tv_sec) +
           static_cast<double>(r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1e6;
  };
  const double client_cpu = cpu_s(ru1) - cpu_s(ru0);

  uint64_t retries = 0;
  for (auto& s : sinks) retries += s->retries();
  sinks.clear();
  PerThread all;
  for (auto& p : per) {
    all.ack_ms.insert(all.ack_ms.end(), p.ack_ms.begin(), p.ack_ms.end());
    all.rows_ok += p.rows_ok;
    all.rows_failed += p.rows_failed;
    all.bytes_ok += p.bytes_ok;
    all.failures += p.failures;
    if (all.first_err.empty()) all.first_err = p.first_err;
  }
  const double secs = std::chrono::duration<double>(t_end - t_start).count();

  // Read-back check: spans whose open and merge rows were both acknowledged.
  size_t verify_ok = 0, verify_n = 0;
  std::string verify_first_fail;
  if (opt.verify > 0) {
    std::vector<size_t> candidates;
    for (size_t i = 0; i < ds.rows.size(); ++i) {
      const Row& r = ds.rows[i];
      if (!r.open && r.open_index >= 0 && batch_ok[i / B] &&
          batch_ok[static_cast<size_t>(r.open_index) / B])
        candidates.push_back(i);
    }
    std::unique_ptr<Reader> rd = make_reader();
    const size_t k = std::min(opt.verify, candidates.size());
    std::string row, err, why;
    for (size_t j = 0; j < k; ++j) {
      const Row& r = ds.rows[candidates[j * candidates.size() / k]];
      ++verify_n;
      const int got = rd->lookup(r.id, &row, &err);
      if (got == 1 && row_is_merged(row, r.id, &why)) {
        ++verify_ok;
      } else if (verify_first_fail.empty()) {
        verify_first_fail = "id " + r.id + ": " +
                            (got == 1   ? why + " in " + row.substr(0, 300)
                             : got == 0 ? "not found"
                                        : "error: " + err);
      }
    }
  }

  const double rows_s = static_cast<double>(all.rows_ok) / secs;
  const double mb_s = static_cast<double>(all.bytes_ok) / 1e6 / secs;
  const double ack50 = percentile(all.ack_ms, 50), ack99 = percentile(all.ack_ms, 99),
               ackmax = percentile(all.ack_ms, 100);
  const double vis50 = percentile(vis_ms, 50), vis99 = percentile(vis_ms, 99),
               vismax = percentile(vis_ms, 100);
  const double probe50 = percentile(probe_ms, 50);

  std::printf("[%s] machine: %s\n", opt.system.c_str(), machine_summary().c_str());
  std::printf(
      "[%s] connections=%zu batch=%zu seed=%llu rows_sent=%llu failed_rows=%llu (failed batches "
      "%llu) "
      "in %.2fs\n",
      opt.system.c_str(), C, B, static_cast<unsigned long long>(wcfg.seed),
      static_cast<unsigned long long>(all.rows_ok),
      static_cast<unsigned long long>(all.rows_failed),
      static_cast<unsigned long long>(all.failures), secs);
  if (!all.first_err.empty())
    std::printf("[%s] first error: %s\n", opt.system.c_str(), all.first_err.c_str());
  if (retries)
    std::printf("[%s] batches retried after a transient error: %llu\n", opt.system.c_str(),
                static_cast<unsigned long long>(retries));
  std::printf(
      "[%s] I1 throughput: %.0f rows/s, %.2f MB/s of JSON; ack latency p50=%.2fms p99=%.2fms "
      "max=%.2fms\n",
      opt.system.c_str(), rows_s, mb_s, ack50, ack99, ackmax);
  if (opt.visibility) {
    std::printf(
        "[%s] I2 ack->visible: n=%zu p50=%.2fms p99=%.2fms max=%.2fms (lookup p50=%.2fms) "
        "timeouts=%zu "
        "errors=%zu wrong_rows=%zu\n",
        opt.system.c_str(), vis_ms.size(), vis50, vis99, vismax, probe50, vis_timeouts, vis_errors,
        vis_wrong);
    if (!vis_first_err.empty())
      std::printf("[%s] I2 first error: %s\n", opt.system.c_str(), vis_first_err.c_str());
  }
  std::printf("[%s] read-back: %zu/%zu merged spans complete%s%s\n", opt.system.c_str(), verify_ok,
              verify_n,
              verify_first_fail.empty() ? "" : "; first failure: ", verify_first_fail.c_str());
  std::printf("[%s] client CPU: %.2fs (%.0f%% of one core)\n", opt.system.c_str(), client_cpu,
              100.0 * client_cpu / secs);
  std::fflush(stdout);

  if (!opt.json_out.empty()) {
    std::ofstream f(opt.json_out);
    auto num = [](double v) {
      if (std::isnan(v)) return std::string("null");
      char b[64];
      std::snprintf(b, sizeof b, "%.4f", v);
      return std::string(b);
    };
    f << "{\n";
    f << "  \"system\": \"" << opt.system << "\",\n";
    f << "  \"seed\": " << wcfg.seed << ",\n";
    f << "  \"connections\": " << C << ",\n";
    f << "  \"batch\": " << B << ",\n";
    f << "  \"dataset_rows\": " << ds.rows.size() << ",\n";
    f << "  \"dataset_json_bytes\": " << ds.json_bytes << ",\n";
    char fp[32];
    std::snprintf(fp, sizeof fp, "%016llx", static_cast<unsigned long long>(ds.fingerprint));
    f << "  \"dataset_fingerprint\": \"" << fp << "\",\n";
    f << "  \"rows_ok\": " << all.rows_ok << ",\n";
    f << "  \"rows_failed\": " << all.rows_failed << ",\n";
    f << "  \"retries\": " << retries << ",\n";
    f << "  \"bytes_ok\": " << all.bytes_ok << ",\n";
    f << "  \"seconds\": " << num(secs) << ",\n";
    f << "  \"rows_per_s\": " << num(rows_s) << ",\n";
    f << "  \"mb_per_s\": " << num(mb_s) << ",\n";
    f << "  \"ack_p50_ms\": " << num(ack50) << ",\n";
    f << "  \"ack_p99_ms\": " << num(ack99) << ",\n";
    f << "  \"ack_max_ms\": " << num(ackmax) << ",\n";
    f << "  \"vis_n\": " << vis_ms.size() << ",\n";
    f << "  \"vis_p50_ms\": " << num(vis50) << ",\n";
    f << "  \"vis_p99_ms\": " << num(vis99) << ",\n";
    f << "  \"vis_max_ms\": " << num(vismax) << ",\n";
    f << "  \"vis_timeouts\": " << vis_timeouts << ",\n";
    f << "  \"vis_errors\": " << vis_errors << ",\n";
    f << "  \"lookup_p50_ms\": " << num(probe50) << ",\n";
    f << "  \"verify_ok\": " << verify_ok << ",\n";
    f << "  \"verify_n\": " << verify_n << ",\n";
    f << "  \"client_cpu_s\": " << num(client_cpu) << "\n";
    f << "}\n";
  }
  return all.rows_failed == 0 ? 0 : 1;
}

// ---------------------------------------------------------------------------------------------
// Command line: --name value pairs.

class Args {
 public:
  Args(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
      std::string a = argv[i];
      if (a.rfind("--", 0) != 0) bad("unexpected argument " + a);
      a = a.substr(2);
      const auto eq = a.find('=');
      if (eq != std::string::npos) {
        kv_.emplace_back(a.substr(0, eq), a.substr(eq + 1));
      } else if (i + 1 < argc && std::string(argv[i + 1]).rfind("--", 0) != 0) {
        kv_.emplace_back(a, argv[++i]);
      } else {
        kv_.emplace_back(a, "true");
      }
    }
  }
  std::string get(const std::string& k, const std::string& def) {
    for (auto& [key, v] : kv_)
      if (key == k) {
        used_.push_back(k);
        return v;
      }
    return def;
  }
  double num(const std::string& k, double def) {
    const std::string v = get(k, "");
    if (v.empty()) return def;
    char* end = nullptr;
    const double d = std::strtod(v.c_str(), &end);
    if (*end) bad("--" + k + " wants a number, got " + v);
    return d;
  }
  bool flag(const std::string& k) { return get(k, "false") != "false"; }
  void check_all_used() {
    for (auto& kv : kv_)
      if (std::find(used_.begin(), used_.end(), kv.first) == used_.end())
        bad("unknown flag --" + kv.first);
  }
  [[noreturn]] static void bad(const std::string& msg) {
    std::fprintf(stderr, "error: %s (see --help)\n", msg.c_str());
    std::exit(2);
  }

 private:
  std::vector<std::pair<std::string, std::string>> kv_;
  std::vector<std::string> used_;
};

inline WorkloadConfig workload_from_args(Args& a) {
  WorkloadConfig w;
  w.seed = static_cast<uint64_t>(a.num("seed", 42));
  w.rows = static_cast<size_t>(a.num("rows", 200000));
  w.median_span_bytes = a.num("median-span-bytes", w.median_span_bytes);
  w.sigma = a.num("span-sigma", w.sigma);
  w.max_span_bytes = static_cast<size_t>(a.num("max-span-kb", 200) * 1024);
  return w;
}

inline RunOptions run_options_from_args(Args& a, const std::string& system) {
  RunOptions o;
  o.system = a.get("label", system);
  o.connections = static_cast<size_t>(a.num("connections", 16));
  o.batch = static_cast<size_t>(a.num("batch", 100));
  o.duration_s = a.num("duration", 0);
  o.visibility = !a.flag("no-visibility");
  o.vis_timeout_s = a.num("visibility-timeout", 30);
  o.vis_interval_ms = a.num("visibility-interval-ms", 1);
  o.verify = static_cast<size_t>(a.num("verify", 50));
  o.json_out = a.get("json-out", "");
  return o;
}

inline const char* kCommonHelp =
    "  --rows N              rows to send (default 200000; open rows + _is_merge rows)\n"
    "  --seed S              workload seed (default 42)\n"
    "  --connections C       concurrent connections (default 16)\n"
    "  --batch B             rows per request / transaction (default 100)\n"
    "  --duration SECS       stop after SECS even if rows remain (default: send all rows)\n"
    "  --median-span-bytes X log-normal median of a span's content budget (default 600)\n"
    "  --span-sigma S        log-normal sigma of that budget (default 2.5)\n"
    "  --max-span-kb K       cap on one span's size (default 200)\n"
    "  --no-visibility       skip the I2 ack->visible prober\n"
    "  --visibility-timeout  seconds before a probe counts as a timeout (default 30)\n"
    "  --visibility-interval-ms MS  pause between polls for one row (default 1)\n"
    "  --verify N            read back N merged spans after the run (default 50)\n"
    "  --json-out FILE       write the results as JSON\n"
    "  --label NAME          system name in the report\n";

}  // namespace bench
