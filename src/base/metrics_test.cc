// The metrics registry: counters, histogram buckets, the text format, and the lag tracker.
#include "base/metrics.h"

#include <gtest/gtest.h>

#include "base/query_budget.h"

namespace arbor::metrics {
namespace {

TEST(Histogram, CumulativeBucketsSumAndCount) {
  Histogram h({0.1, 1, 10});
  h.Observe(0.05);
  h.Observe(0.1);  // bounds are inclusive ("le")
  h.Observe(5);
  h.Observe(100);
  Histogram::Snapshot s = h.Read();
  EXPECT_EQ(s.cumulative, (std::vector<std::uint64_t>{2, 2, 3, 4}));
  EXPECT_EQ(s.count, 4u);
  EXPECT_DOUBLE_EQ(s.sum, 105.15);
}

TEST(Registry, RendersPrometheusText) {
  Registry r;
  r.GetCounter("t_rows_total", "Rows.").Add(3);
  r.GetCounter("t_req_total", "Requests.", {{"route", "/v1/x/{}"}, {"code", "2xx"}}).Add();
  r.GetCounter("t_req_total", "Requests.", {{"route", "/v1/x/{}"}, {"code", "2xx"}}).Add();
  r.GetCounter("t_req_total", "Requests.", {{"route", "a\"b\\c"}, {"code", "4xx"}}).Add();
  r.GetHistogram("t_lat_seconds", "Latency.", {0.5, 1}, {{"route", "/r"}}).Observe(0.7);
  r.AddCallback("t_up", "Up.", Type::kGauge, [] { return 1.5; });
  std::string text = r.RenderText();
  EXPECT_NE(text.find("# HELP t_rows_total Rows.\n# TYPE t_rows_total counter\nt_rows_total 3\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("t_req_total{route=\"/v1/x/{}\",code=\"2xx\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("t_req_total{route=\"a\\\"b\\\\c\",code=\"4xx\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("# TYPE t_lat_seconds histogram\n"), std::string::npos);
  EXPECT_NE(text.find("t_lat_seconds_bucket{route=\"/r\",le=\"0.5\"} 0\n"), std::string::npos);
  EXPECT_NE(text.find("t_lat_seconds_bucket{route=\"/r\",le=\"1\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("t_lat_seconds_bucket{route=\"/r\",le=\"+Inf\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("t_lat_seconds_count{route=\"/r\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("t_up 1.5\n"), std::string::npos);
  // One HELP/TYPE per family even with several series.
  EXPECT_EQ(text.find("# TYPE t_req_total"), text.rfind("# TYPE t_req_total"));
}

TEST(LagTracker, AgeOfOldestUnflushedWrite) {
  LagTracker t;
  EXPECT_EQ(t.AgeSeconds(10'000'000), 0);
  t.NoteWrite(100, 1'000'000);
  t.NoteWrite(101, 1'500'000);  // same second: the older entry stands for both
  t.NoteWrite(200, 3'000'000);
  EXPECT_DOUBLE_EQ(t.AgeSeconds(5'000'000), 4.0);
  t.FlushedUpTo(150);
  EXPECT_DOUBLE_EQ(t.AgeSeconds(5'000'000), 2.0);
  t.FlushedUpTo(200);
  EXPECT_EQ(t.AgeSeconds(5'000'000), 0);
}

TEST(QueryBudget, RowCapAndDeadline) {
  EXPECT_TRUE(ChargeQueryBudget(1'000'000).ok());  // no budget installed
  {
    ScopedQueryBudget budget({.rows_max = 10});
    EXPECT_TRUE(ChargeQueryBudget(10).ok());
    EXPECT_EQ(ChargeQueryBudget(1).code(), StatusCode::kResourceExhausted);
  }
  {
    ScopedQueryBudget budget({.timeout_ms = 1});
    while (ChargeQueryBudget(0).ok()) {
    }
    EXPECT_EQ(ChargeQueryBudget(0).code(), StatusCode::kDeadlineExceeded);
  }
  EXPECT_TRUE(ChargeQueryBudget(1).ok());  // the scope restored "no budget"
}

}  // namespace
}  // namespace arbor::metrics
