#include "query/engine.h"

#include <gtest/gtest.h>

#include "query/test_env.h"

namespace arbor::query {
namespace {

namespace bj = boost::json;

class EngineTest : public ::testing::Test {
 protected:
  std::string NewExperiment(const std::string& name) { return env_.NewExperiment(name); }

  std::uint64_t Write(const std::string& exp, const std::string& rows) {
    bj::array arr = json::Parse(rows)->as_array();
    for (auto& r : arr) r.as_object()["experiment_id"] = exp;
    return env_.writer->Write(env_.org, ingest::ParseRows(arr).value()).value();
  }

  Query Q(const std::string& extra = "") {
    std::string ast = R"({"select":[{"op":"star"}],"from":{"op":"function","name":{"op":"ident",
        "name":["experiment"]},"args":[{"op":"literal","value":")" +
                      env_.exp + "\"}]}" + extra + "}";
    return ParseQueryAst(json::Parse(ast)->as_object()).value();
  }

  TestEnv env_;
};

TEST_F(EngineTest, CursorPagesNeitherRepeatNorSkipWhileWritesContinue) {
  for (int i = 0; i < 10; ++i) Write(env_.exp, R"([{"id":"r)" + std::to_string(i) + R"("}])");
  std::set<std::string> seen;
  Query q = Q(R"(,"limit":3)");
  for (int page = 0; page < 10; ++page) {
    auto r = env_.engine->Run(env_.org, q, std::nullopt);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    for (auto& row : r->data) {
      EXPECT_TRUE(seen.insert(std::string(row.as_object().at("id").as_string())).second);
    }
    Write(env_.exp, R"([{"id":"late)" + std::to_string(page) + R"("}])");  // after the snapshot
    if (r->cursor.empty()) break;
    q.cursor = r->cursor;
  }
  EXPECT_EQ(seen.size(), 10u);  // exactly the rows of the first page's snapshot
}

TEST_F(EngineTest, VersionReadsAndFiltersAndComments) {
  std::uint64_t v1 = Write(env_.exp, R"([{"id":"a","input":1},{"id":"b","input":2}])");
  Write(env_.exp, R"([{"id":"a","_object_delete":true}])");
  Write(env_.exp, R"([{"id":"c1","origin":{"id":"b"},"comment":{"text":"nice"}}])");
  auto now = env_.engine->Run(env_.org, Q(), std::nullopt).value();
  ASSERT_EQ(now.data.size(), 1u);
  EXPECT_EQ(now.data[0].as_object().at("id").as_string(), "b");
  EXPECT_EQ(now.data[0].as_object().at("comments").as_array().size(), 1u);
  EXPECT_EQ(now.data[0].as_object().at("is_root").as_bool(), true);
  auto old = env_.engine->Run(env_.org, Q(), v1).value();
  EXPECT_EQ(old.data.size(), 2u);
  auto filtered = env_.engine
                      ->Run(env_.org, Q(R"(,"filter":{"op":"eq","left":{"op":"ident",
      "name":["input"]},"right":{"op":"literal","value":1}})"),
                            v1)
                      .value();
  ASSERT_EQ(filtered.data.size(), 1u);
  EXPECT_EQ(filtered.data[0].as_object().at("id").as_string(), "a");
  EXPECT_EQ(env_.engine->CountRows(env_.org, {ingest::ObjectType::kExperiment, env_.exp}).value(),
            1u);
}

TEST_F(EngineTest, IndexLookupsAgreeWithScans) {
  Write(env_.exp,
        R"([{"id":"a","root_span_id":"t1"},{"id":"b","root_span_id":"t1","span_parents":["a"],
                  "span_attributes":{"purpose":"scorer"}},{"id":"c","root_span_id":"t2"}])");
  auto ids = [&](const std::string& filter) {
    auto r = env_.engine->Run(env_.org, Q(R"(,"filter":)" + filter), std::nullopt).value();
    std::vector<std::string> out;
    for (auto& row : r.data) out.emplace_back(row.as_object().at("id").as_string());
    return out;
  };
  EXPECT_EQ(
      ids(R"({"op":"eq","left":{"op":"ident","name":["id"]},"right":{"op":"literal","value":"c"}})"),
      std::vector<std::string>{"c"});
  EXPECT_EQ(ids(R"({"op":"in","left":{"op":"ident","name":["id"]},
                   "right":{"op":"literal","value":["c","a","nope"]}})"),
            (std::vector<std::string>{"a", "c"}));
  // The scorer-span exclusion the JS SDK sends with a trace fetch.
  EXPECT_EQ(ids(R"({"op":"and","children":[
      {"op":"eq","left":{"op":"ident","name":["root_span_id"]},"right":{"op":"literal","value":"t1"}},
      {"op":"or","children":[{"op":"isnull","expr":{"op":"ident","name":["span_attributes","purpose"]}},
        {"op":"ne","left":{"op":"ident","name":["span_attributes","purpose"]},
         "right":{"op":"literal","value":"scorer"}}]}]})"),
            std::vector<std::string>{"a"});
  // The same trace through a filter the index cannot use: same rows.
  EXPECT_EQ(ids(R"({"op":"like","left":{"op":"ident","name":["root_span_id"]},
                   "right":{"op":"literal","value":"t1"}})"),
            (std::vector<std::string>{"a", "b"}));
}

TEST_F(EngineTest, TracesAndSummaryShapes) {
  Write(env_.exp, R"([
    {"id":"r1","span_id":"r1","root_span_id":"t1","input":"first question, rather long text",
     "metrics":{"start":10,"end":20},"created":"2026-01-01T00:00:01Z"},
    {"id":"l1","span_id":"l1","root_span_id":"t1","span_parents":["r1"],"output":"needle",
     "span_attributes":{"type":"llm"},"metrics":{"start":11,"end":15,"prompt_tokens":7,"tokens":9},
     "scores":{"s":1}},
    {"id":"c1","span_id":"c1","root_span_id":"t1","span_parents":["r1"],"scores":{"s":0}},
    {"id":"r2","span_id":"r2","root_span_id":"t2","input":"second","metrics":{"start":1,"end":2},
     "created":"2026-01-01T00:00:02Z"}])");
  const char* needle = R"(,"filter":{"op":"eq","left":{"op":"ident","name":["output"]},
                          "right":{"op":"literal","value":"needle"}})";
  auto traces =
      env_.engine->Run(env_.org, Q(std::string(R"(,"shape":"traces")") + needle), std::nullopt);
  ASSERT_TRUE(traces.ok()) << traces.status().ToString();
  EXPECT_EQ(traces->data.size(), 3u);  // every span of t1, none of t2
  auto summary = env_.engine->Run(
      env_.org, Q(std::string(R"(,"shape":"summary","preview_length":10)") + needle), std::nullopt);
  ASSERT_TRUE(summary.ok());
  ASSERT_EQ(summary->data.size(), 1u);
  const bj::object& row = summary->data[0].as_object();
  EXPECT_EQ(row.at("id").as_string(), "r1");
  EXPECT_EQ(row.at("input").as_string(), "first ques...");
  EXPECT_EQ(json::CanonicalString(row.at("scores")), R"({"s":0.5})");
  EXPECT_EQ(json::CanonicalString(row.at("metrics")),
            R"({"duration":10,"end":20,"errors":0,"llm_calls":1,"llm_duration":4,)"
            R"("prompt_tokens":7,"start":10,"tool_calls":0,"total_tokens":9})");
  EXPECT_EQ(row.at("num_spans").as_uint64(), 3u);
  // Newest traces first, one per page.
  Query newest = Q(R"(,"shape":"summary","limit":1,"sort":[{"expr":{"op":"ident",
      "name":["created"]},"dir":"desc"}])");
  auto p1 = env_.engine->Run(env_.org, newest, std::nullopt).value();
  ASSERT_EQ(p1.data.size(), 1u);
  EXPECT_EQ(p1.data[0].as_object().at("id").as_string(), "r2");
  newest.cursor = p1.cursor;
  auto p2 = env_.engine->Run(env_.org, newest, std::nullopt).value();
  ASSERT_EQ(p2.data.size(), 1u);
  EXPECT_EQ(p2.data[0].as_object().at("id").as_string(), "r1");
  EXPECT_TRUE(p2.cursor.empty());
  EXPECT_FALSE(ParseQueryAst(json::Parse(R"({"from":{"op":"function","name":{"op":"ident",
      "name":["experiment"]},"args":[{"op":"literal","value":"x"}]},"shape":"blob"})")
                                 ->as_object())
                   .ok());
}

TEST_F(EngineTest, DimensionsAndMeasures) {
  Write(env_.exp, R"([
    {"id":"a","created":"2026-01-01T10:05:00Z","metadata":{"model":"m1"},
     "metrics":{"start":0,"end":2,"tokens":10}},
    {"id":"b","created":"2026-01-01T10:55:00Z","metadata":{"model":"m1"},
     "metrics":{"start":0,"end":4,"tokens":30}},
    {"id":"c","created":"2026-01-01T11:01:00Z","metadata":{"model":"m2"},
     "metrics":{"start":0,"end":1}},
    {"id":"d","created":"2026-01-01T10:15:00Z","metadata":{"model":"m2"}}])");
  std::string hour = R"({"op":"function","name":{"op":"ident","name":["date_trunc"]},"args":[
      {"op":"literal","value":"hour"},{"op":"ident","name":["created"]}]})";
  std::string model = R"({"op":"ident","name":["metadata","model"]})";
  auto fn = [](const std::string& f, const std::string& args) {
    return R"({"op":"function","name":{"op":"ident","name":[")" + f + R"("]},"args":[)" + args +
           "]}";
  };
  std::string duration = R"({"op":"sub","left":{"op":"ident","name":["metrics","end"]},
      "right":{"op":"ident","name":["metrics","start"]}})";
  std::string ast = R"(,"dimensions":[{"expr":)" + hour + R"(,"alias":"hour"},{"expr":)" + model +
                    R"(,"alias":"model"}],"measures":[{"expr":)" + fn("count", "") +
                    R"(,"alias":"n"},{"expr":)" + fn("avg", duration) +
                    R"(,"alias":"avg_duration"},{"expr":)" +
                    fn("sum", R"({"op":"ident","name":["metrics","tokens"]})") +
                    R"(,"alias":"tokens"}],"sort":[{"expr":{"op":"ident","name":["hour"]}},
                    {"expr":{"op":"ident","name":["model"]}}])";
  auto r = env_.engine->Run(env_.org, Q(ast), std::nullopt);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  std::string got;
  for (auto& row : r->data) got += json::CanonicalString(row) + "\n";
  EXPECT_EQ(got,
            "{\"avg_duration\":3,\"hour\":\"2026-01-01T10:00:00.000Z\",\"model\":\"m1\",\"n\":2,"
            "\"tokens\":40}\n"
            "{\"avg_duration\":null,\"hour\":\"2026-01-01T10:00:00.000Z\",\"model\":\"m2\",\"n\":1,"
            "\"tokens\":null}\n"
            "{\"avg_duration\":1,\"hour\":\"2026-01-01T11:00:00.000Z\",\"model\":\"m2\",\"n\":1,"
            "\"tokens\":null}\n");
  std::string pct =
      R"(,"measures":[{"expr":)" +
      fn("percentile", R"({"op":"ident","name":["metrics","end"]},{"op":"literal","value":0.5})") +
      R"(,"alias":"p50"},{"expr":)" + fn("count_distinct", model) +
      R"(,"alias":"models"},{"expr":)" + fn("max", R"({"op":"ident","name":["id"]})") +
      R"(,"alias":"last"}])";
  auto all = env_.engine->Run(env_.org, Q(pct), std::nullopt).value();
  ASSERT_EQ(all.data.size(), 1u);
  EXPECT_EQ(json::CanonicalString(all.data[0]), R"({"last":"d","models":2,"p50":2})");
  // A measure that is not an aggregate is refused with a clear error.
  std::string bad = R"({"select":[{"op":"star"}],"from":{"op":"function","name":{"op":"ident",
      "name":["experiment"]},"args":[{"op":"literal","value":"x"}]},
      "measures":[{"expr":{"op":"ident","name":["id"]},"alias":"m"}]})";
  auto q = ParseQueryAst(json::Parse(bad)->as_object());
  ASSERT_FALSE(q.ok());
  EXPECT_NE(q.status().message().find("must be an aggregate"), std::string::npos);
}

TEST_F(EngineTest, SortWithCursor) {
  Write(env_.exp, R"([{"id":"a","n":2},{"id":"b","n":3},{"id":"c","n":1}])");
  Query q = Q(R"(,"sort":[{"expr":{"op":"ident","name":["n"]},"dir":"desc"}],"limit":2)");
  auto p1 = env_.engine->Run(env_.org, q, std::nullopt).value();
  ASSERT_EQ(p1.data.size(), 2u);
  EXPECT_EQ(p1.data[0].as_object().at("id").as_string(), "b");
  q.cursor = p1.cursor;
  auto p2 = env_.engine->Run(env_.org, q, std::nullopt).value();
  ASSERT_EQ(p2.data.size(), 1u);
  EXPECT_EQ(p2.data[0].as_object().at("id").as_string(), "c");
  EXPECT_TRUE(p2.cursor.empty());
}

TEST_F(EngineTest, SortOrdersTimestampsAsTimesAndTiesKeepWriteOrder) {
  // As strings "...00.5Z" < "...00Z"; as times it is half a second later.
  Write(env_.exp, R"([{"id":"late","t":"2026-01-01T00:00:00.5Z","g":1},
                      {"id":"early","t":"2026-01-01T00:00:00Z","g":1},
                      {"id":"zone","t":"2026-01-01T01:00:00.250+01:00","g":1},
                      {"id":"text","t":"not a time","g":1},
                      {"id":"tie1","g":0},{"id":"tie2","g":0},{"id":"tie3","g":0}])");
  auto ids = [&](const std::string& sort, std::string cursor = "") {
    Query q = Q(R"(,"sort":)" + sort + R"(,"limit":3)");
    q.cursor = std::move(cursor);
    auto r = env_.engine->Run(env_.org, q, std::nullopt).value();
    std::string out;
    for (const auto& row : r.data) out += std::string(row.as_object().at("id").as_string()) + " ";
    return std::make_pair(out, r.cursor);
  };
  const std::string by_t = R"([{"expr":{"op":"ident","name":["t"]}}])";
  // null (rows without t) first, then timestamps by time, then other strings.
  auto [p1, c1] = ids(by_t);
  EXPECT_EQ(p1, "tie1 tie2 tie3 ");
  auto [p2, c2] = ids(by_t, c1);
  EXPECT_EQ(p2, "early zone late ");
  auto [p3, c3] = ids(by_t, c2);
  EXPECT_EQ(p3, "text ");
  EXPECT_TRUE(c3.empty());
  // Descending on g, ties in first-write order across pages.
  const std::string by_g_desc = R"([{"expr":{"op":"ident","name":["g"]},"dir":"desc"}])";
  auto [d1, e1] = ids(by_g_desc);
  EXPECT_EQ(d1, "late early zone ");
  auto [d2, e2] = ids(by_g_desc, e1);
  EXPECT_EQ(d2, "text tie1 tie2 ");
  // A key read from what presentation adds (is_root) still sorts.
  auto [r1, f1] = ids(R"([{"expr":{"op":"ident","name":["is_root"]}}])");
  EXPECT_EQ(r1, "late early zone ");
  EXPECT_FALSE(f1.empty());
}

TEST_F(EngineTest, UnknownObjectAndBadCursor) {
  Query q = Q();
  q.object_ids = {NewUuid()};
  EXPECT_EQ(env_.engine->Run(env_.org, q, std::nullopt).status().code(), StatusCode::kNotFound);
  q = Q();
  q.cursor = "garbage";
  EXPECT_EQ(env_.engine->Run(env_.org, q, std::nullopt).status().code(),
            StatusCode::kInvalidArgument);
}

TEST_F(EngineTest, ComparisonAggregatesPerTraceAndMatchesByInput) {
  std::string base = env_.exp;
  // Base: two cases. Scores live on child scorer spans, as Eval() writes them.
  Write(base, R"([
    {"id":"r1","span_id":"r1","root_span_id":"t1","input":"q1","metrics":{"start":0,"end":2}},
    {"id":"s1","span_id":"s1","root_span_id":"t1","span_parents":["r1"],"scores":{"acc":1}},
    {"id":"r2","span_id":"r2","root_span_id":"t2","input":"q2","metrics":{"start":0,"end":4}},
    {"id":"s2","span_id":"s2","root_span_id":"t2","span_parents":["r2"],"scores":{"acc":0.5}}])");
  std::string cur = NewExperiment("cur");
  Write(cur, R"([
    {"id":"r1","span_id":"r1","root_span_id":"u1","input":"q1","metrics":{"start":0,"end":1}},
    {"id":"s1","span_id":"s1","root_span_id":"u1","span_parents":["r1"],"scores":{"acc":0}},
    {"id":"r2","span_id":"r2","root_span_id":"u2","input":"q2","metrics":{"start":0,"end":1}},
    {"id":"s2","span_id":"s2","root_span_id":"u2","span_parents":["r2"],"scores":{"acc":1}}])");
  // From the memtable, then from a segment (light rows; cases still matched by input).
  for (int flushed = 0; flushed < 2; ++flushed) {
    if (flushed) env_.Flush();
    auto out = env_.engine->CompareExperiments(env_.org,
                                               {.experiment_id = cur, .base_experiment_id = base});
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    EXPECT_EQ(json::CanonicalString(bj::value(*out)),
              R"({"metrics":{"duration":{"diff":-2,"improvements":2,"metric":1,"name":"duration",)"
              R"("regressions":0,"unit":"s"}},"scores":{"acc":{"diff":-0.25,"improvements":1,)"
              R"("name":"acc","regressions":1,"score":0.5}}})")
        << (flushed ? "flushed" : "memtable");
  }
  auto alone = env_.engine->CompareExperiments(env_.org, {.experiment_id = base});
  EXPECT_EQ(json::CanonicalString(alone->at("scores")),
            R"({"acc":{"improvements":0,"name":"acc","regressions":0,"score":0.75}})");
}

}  // namespace
}  // namespace arbor::query

namespace arbor::query {
namespace {

// A flush right after a restart, before any new write, must cover the replayed WAL records
// before it deletes the WAL files holding them.
TEST_F(EngineTest, FlushRightAfterRestartKeepsReplayedRows) {
  Write(env_.exp, R"([{"id":"a","input":1},{"id":"b","input":2}])");
  Write(env_.exp, R"([{"id":"a","_is_merge":true,"output":3}])");
  for (int round = 0; round < 2; ++round) {
    env_.Reopen();  // rows come back from the WAL only
    env_.Flush();   // no write since the restart
    env_.Reopen();  // rows come back from the segment only
    auto r = env_.engine->Run(env_.org, Q(), std::nullopt);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_EQ(r->data.size(), 2u) << "round " << round;
    EXPECT_EQ(r->data[0].as_object().at("output").as_int64(), 3);
    EXPECT_FALSE(env_.segments->List().empty());
  }
}

}  // namespace
}  // namespace arbor::query
