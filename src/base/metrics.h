// A tiny Prometheus-style metrics registry: counters, gauges and histograms with fixed
// buckets, plus values computed at scrape time (callbacks). It lives in base so that every
// layer (storage included) can count without reaching up; the server renders it at /metrics
// in the text exposition format 0.0.4.
//
// Hot paths hold a reference to their series (looked up once) and pay one relaxed atomic add.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace arbor::metrics {

using Labels = std::vector<std::pair<std::string, std::string>>;

class Counter {
 public:
  void Add(std::uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  std::uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

class Gauge {
 public:
  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  void Add(double v) { value_.fetch_add(v, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// Counts observations into buckets with the given upper bounds (ascending; +Inf is implied).
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void Observe(double v);

  struct Snapshot {
    std::vector<double> bounds;
    std::vector<std::uint64_t> cumulative;  // one per bound, then +Inf (== count)
    double sum = 0;
    std::uint64_t count = 0;
  };
  Snapshot Read() const;

 private:
  const std::vector<double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;  // bounds_.size() + 1
  std::atomic<double> sum_{0};
};

// Latency buckets in seconds, 0.5 ms .. 60 s.
const std::vector<double>& LatencyBuckets();

enum class Type { kCounter, kGauge, kHistogram };

class Registry {
 public:
  // Get-or-create the series of a family. The name's type and help are fixed by the first
  // call; asking for a family under another type is a programming error (ARBOR_CHECK).
  Counter& GetCounter(const std::string& name, const std::string& help, const Labels& labels = {});
  Gauge& GetGauge(const std::string& name, const std::string& help, const Labels& labels = {});
  Histogram& GetHistogram(const std::string& name, const std::string& help,
                          const std::vector<double>& bounds, const Labels& labels = {});
  // A value computed when scraped (e.g. segment count); `type` is kCounter or kGauge.
  void AddCallback(const std::string& name, const std::string& help, Type type,
                   std::function<double()> read, const Labels& labels = {});

  // Every family, in name order, as Prometheus text format 0.0.4.
  std::string RenderText() const;

 private:
  struct Series {
    std::unique_ptr<Counter> counter;
    std::unique_ptr<Gauge> gauge;
    std::unique_ptr<Histogram> histogram;
    std::function<double()> read;
  };
  struct Family {
    Type type = Type::kCounter;
    std::string help;
    std::map<std::string, Series> series;  // rendered label set -> series
  };
  Series& GetSeries(const std::string& name, const std::string& help, Type type,
                    const Labels& labels);

  mutable std::mutex mu_;
  std::map<std::string, Family> families_;
};

// The process-wide registry /metrics renders.
Registry& Global();

// `{a="x",b="y"}` with values escaped as the text format requires; "" for no labels.
std::string RenderLabels(const Labels& labels);

// Age of the oldest write not yet flushed to a segment (the indexing lag). Writers note each
// acknowledged _xact_id with its wall time; the flushed watermark drops what segments hold.
// At most one entry per second is kept, so memory stays small whatever the write rate.
class LagTracker {
 public:
  void NoteWrite(std::uint64_t xact, std::int64_t now_us);
  void FlushedUpTo(std::uint64_t xact);
  // 0 when nothing is unflushed.
  double AgeSeconds(std::int64_t now_us) const;

 private:
  mutable std::mutex mu_;
  std::deque<std::pair<std::uint64_t, std::int64_t>> pending_;  // (xact, time_us), xact order
};

LagTracker& IndexingLag();

// Resident set size of this process in bytes (from /proc/self/statm), 0 if unknown.
double ProcessRssBytes();

}  // namespace arbor::metrics
