#include "base/metrics.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>

#include "base/status.h"

namespace arbor::metrics {
namespace {

// Entries the lag tracker keeps at most (one per second: an hour of unflushed writes).
constexpr std::size_t kLagEntriesMax = 3600;

std::string FormatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.0f", v);
    return buf;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

std::string EscapeHelp(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

const char* TypeName(Type t) {
  switch (t) {
    case Type::kCounter:
      return "counter";
    case Type::kGauge:
      return "gauge";
    case Type::kHistogram:
      return "histogram";
  }
  return "untyped";
}

// `labels` (already rendered, "{...}" or "") with one more label appended.
std::string WithLabel(const std::string& labels, const std::string& name, const std::string& v) {
  std::string extra = name + "=\"" + v + "\"";
  if (labels.empty()) return "{" + extra + "}";
  return labels.substr(0, labels.size() - 1) + "," + extra + "}";
}

}  // namespace

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)),
      buckets_(std::make_unique<std::atomic<std::uint64_t>[]>(bounds_.size() + 1)) {
  ARBOR_CHECK(std::is_sorted(bounds_.begin(), bounds_.end()));
}

void Histogram::Observe(double v) {
  std::size_t i = static_cast<std::size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), v) -
                                           bounds_.begin());
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::Read() const {
  Snapshot s;
  s.bounds = bounds_;
  std::uint64_t running = 0;
  for (std::size_t i = 0; i <= bounds_.size(); ++i) {
    running += buckets_[i].load(std::memory_order_relaxed);
    s.cumulative.push_back(running);
  }
  s.count = running;
  s.sum = sum_.load(std::memory_order_relaxed);
  return s;
}

const std::vector<double>& LatencyBuckets() {
  static const std::vector<double> buckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                              0.25,   0.5,   1,      2.5,   5,    10,    30,   60};
  return buckets;
}

std::string RenderLabels(const Labels& labels) {
  if (labels.empty()) return "";
  std::string out = "{";
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (i > 0) out += ",";
    out += labels[i].first + "=\"";
    for (char c : labels[i].second) {
      if (c == '\\' || c == '"') {
        out += '\\';
        out += c;
      } else if (c == '\n') {
        out += "\\n";
      } else {
        out += c;
      }
    }
    out += "\"";
  }
  return out + "}";
}

Registry::Series& Registry::GetSeries(const std::string& name, const std::string& help, Type type,
                                      const Labels& labels) {
  auto [it, inserted] = families_.try_emplace(name);
  Family& f = it->second;
  if (inserted) {
    f.type = type;
    f.help = help;
  }
  ARBOR_CHECK(f.type == type);
  return f.series[RenderLabels(labels)];
}

Counter& Registry::GetCounter(const std::string& name, const std::string& help,
                              const Labels& labels) {
  std::lock_guard<std::mutex> lock(mu_);
  Series& s = GetSeries(name, help, Type::kCounter, labels);
  if (!s.counter) s.counter = std::make_unique<Counter>();
  return *s.counter;
}

Gauge& Registry::GetGauge(const std::string& name, const std::string& help, const Labels& labels) {
  std::lock_guard<std::mutex> lock(mu_);
  Series& s = GetSeries(name, help, Type::kGauge, labels);
  if (!s.gauge) s.gauge = std::make_unique<Gauge>();
  return *s.gauge;
}

Histogram& Registry::GetHistogram(const std::string& name, const std::string& help,
                                  const std::vector<double>& bounds, const Labels& labels) {
  std::lock_guard<std::mutex> lock(mu_);
  Series& s = GetSeries(name, help, Type::kHistogram, labels);
  if (!s.histogram) s.histogram = std::make_unique<Histogram>(bounds);
  return *s.histogram;
}

void Registry::AddCallback(const std::string& name, const std::string& help, Type type,
                           std::function<double()> read, const Labels& labels) {
  ARBOR_CHECK(type != Type::kHistogram);
  std::lock_guard<std::mutex> lock(mu_);
  GetSeries(name, help, type, labels).read = std::move(read);
}

std::string Registry::RenderText() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  for (const auto& [name, f] : families_) {
    out += "# HELP " + name + " " + EscapeHelp(f.help) + "\n";
    out += "# TYPE " + name + " " + TypeName(f.type) + "\n";
    for (const auto& [labels, s] : f.series) {
      if (s.histogram) {
        Histogram::Snapshot snap = s.histogram->Read();
        for (std::size_t i = 0; i < snap.bounds.size(); ++i) {
          out += name + "_bucket" + WithLabel(labels, "le", FormatValue(snap.bounds[i])) + " " +
                 std::to_string(snap.cumulative[i]) + "\n";
        }
        out += name + "_bucket" + WithLabel(labels, "le", "+Inf") + " " +
               std::to_string(snap.count) + "\n";
        out += name + "_sum" + labels + " " + FormatValue(snap.sum) + "\n";
        out += name + "_count" + labels + " " + std::to_string(snap.count) + "\n";
        continue;
      }
      double v = 0;
      if (s.read) {
        v = s.read();
      } else if (s.counter) {
        v = static_cast<double>(s.counter->value());
      } else if (s.gauge) {
        v = s.gauge->value();
      }
      out += name + labels + " " + FormatValue(v) + "\n";
    }
  }
  return out;
}

Registry& Global() {
  static Registry* registry = new Registry();  // never destroyed: threads may count at exit
  return *registry;
}

void LagTracker::NoteWrite(std::uint64_t xact, std::int64_t now_us) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!pending_.empty() && pending_.back().second / 1'000'000 == now_us / 1'000'000) return;
  if (pending_.size() >= kLagEntriesMax) return;  // the oldest entries are the ones that matter
  pending_.emplace_back(xact, now_us);
}

void LagTracker::FlushedUpTo(std::uint64_t xact) {
  std::lock_guard<std::mutex> lock(mu_);
  while (!pending_.empty() && pending_.front().first <= xact) pending_.pop_front();
}

double LagTracker::AgeSeconds(std::int64_t now_us) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (pending_.empty()) return 0;
  return std::max<double>(0, static_cast<double>(now_us - pending_.front().second) / 1e6);
}

LagTracker& IndexingLag() {
  static LagTracker* tracker = new LagTracker();
  return *tracker;
}

double ProcessRssBytes() {
  std::ifstream statm("/proc/self/statm");
  double size_pages = 0;
  double resident_pages = 0;
  if (!(statm >> size_pages >> resident_pages)) return 0;
  return resident_pages * static_cast<double>(::sysconf(_SC_PAGESIZE));
}

}  // namespace arbor::metrics
