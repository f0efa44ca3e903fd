// Property test: the engine (index lookups, scans, cursor paging, snapshots, deletes, with
// rows moving to segments, compactions and restarts from disk) against a naive model that keeps
// every object's rows in a map and filters them one by one; and the engine reading light rows
// (segment format 2) against the same engine reading whole bodies, on every query shape.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>

#include "json/json.h"
#include "query/engine.h"
#include "query/test_env.h"

namespace arbor::query {
namespace {

namespace bj = boost::json;

using Model = std::map<std::string, bj::object>;  // live rows by id

class PropertyTest : public ::testing::Test {
 protected:
  bj::object RandomFields(std::mt19937& rng, const std::string& id) {
    static const char* words[] = {"alpha", "beta", "gamma", "delta beta", "epsilon"};
    bj::object row;
    row["id"] = id;
    row["experiment_id"] = env_->exp;
    if (rng() % 4) row["root_span_id"] = "t" + std::to_string(rng() % 8);
    if (rng() % 3) row["n"] = static_cast<std::int64_t>(rng() % 20);
    if (rng() % 3) row["s"] = words[rng() % 5];
    if (rng() % 2) row["metadata"] = bj::object{{"m", static_cast<std::int64_t>(rng() % 3)}};
    // Objects whose keys are not in ascending order: answers print them as stored.
    if (row.contains("metadata") && rng() % 2) {
      row["metadata"].as_object()["a"] = rng() % 2 ? bj::value(words[rng() % 5]) : bj::value(0.5);
    }
    if (rng() % 2) {
      static const char* types[] = {"llm", "tool", "task"};
      row["span_attributes"] = bj::object{{"type", types[rng() % 3]}, {"name", words[rng() % 5]}};
    }
    if (rng() % 3 == 0) {
      const auto start = static_cast<std::int64_t>(rng() % 10);
      row["metrics"] = bj::object{{"start", start},
                                  {"end", start + 1 + rng() % 3},
                                  {"prompt_tokens", static_cast<std::int64_t>(rng() % 2000)}};
    }
    if (rng() % 5 == 0) row["error"] = rng() % 2 ? bj::value("boom") : bj::value(bj::object{});
    if (rng() % 3 == 0) row["span_parents"] = bj::array{"x"};
    // Heavy fields (left out of light rows): filters and sorts on them need the bodies.
    if (rng() % 2) {
      row["input"] =
          rng() % 3 ? bj::value(words[rng() % 5]) : bj::value(bj::object{{"q", words[rng() % 5]}});
    }
    if (rng() % 3 == 0) row["output"] = bj::object{{"x", static_cast<std::int64_t>(rng() % 5)}};
    if (rng() % 4 == 0) row["expected"] = words[rng() % 5];
    if (rng() % 2) row["scores"] = bj::object{{"x", static_cast<double>(rng() % 4) / 4}};
    // Always given: the writer would fill a missing one with the server's clock.
    row["created"] = "2026-01-0" + std::to_string(1 + rng() % 3) + "T" +
                     std::to_string(10 + rng() % 10) + ":00:00Z";
    return row;
  }

  // Applies one random request to the engine and to the model.
  void RandomWrite(std::mt19937& rng, Model& model) {
    bj::array rows;
    std::set<std::string> used;
    int n = 1 + static_cast<int>(rng() % 5);
    for (int i = 0; i < n; ++i) {
      std::string id = "r" + std::to_string(rng() % 40);
      if (!used.insert(id).second) continue;  // one version of a row per request
      bj::object row = RandomFields(rng, id);
      int kind = static_cast<int>(rng() % 6);
      if (kind == 0) {
        row = bj::object{{"id", id}, {"experiment_id", env_->exp}, {"_object_delete", true}};
        model.erase(id);
      } else if (kind == 1 && model.count(id)) {
        row["_is_merge"] = true;
        bj::object patch = row;
        patch.erase("_is_merge");
        json::MergeInto(model[id], patch, {});
      } else {
        model[id] = row;
      }
      rows.push_back(row);
    }
    ASSERT_TRUE(env_->writer->Write(env_->org, ingest::ParseRows(rows).value()).ok());
  }

  // `any_span` false inside an any_span(), which does not nest.
  bj::value RandomFilter(std::mt19937& rng, int depth, bool any_span = true) {
    auto ident = [](std::initializer_list<const char*> path) {
      bj::array name;
      for (const char* p : path) name.push_back(bj::value(p));
      return bj::object{{"op", "ident"}, {"name", name}};
    };
    auto lit = [](bj::value v) { return bj::object{{"op", "literal"}, {"value", v}}; };
    int pick = static_cast<int>(rng() % (depth > 0 ? 19 : 14));
    switch (pick) {
      case 0:
        return bj::object{{"op", "eq"},
                          {"left", ident({"id"})},
                          {"right", lit(bj::value("r" + std::to_string(rng() % 40)))}};
      case 1:
        return bj::object{{"op", "in"},
                          {"left", ident({"id"})},
                          {"right", lit(bj::array{bj::value("r" + std::to_string(rng() % 40)),
                                                  bj::value("r" + std::to_string(rng() % 40))})}};
      case 2:
        return bj::object{{"op", "eq"},
                          {"left", ident({"root_span_id"})},
                          {"right", lit(bj::value("t" + std::to_string(rng() % 8)))}};
      case 3:
        return bj::object{{"op", rng() % 2 ? "lt" : "ge"},
                          {"left", ident({"n"})},
                          {"right", lit(static_cast<std::int64_t>(rng() % 20))}};
      case 4:
        return bj::object{{"op", "isnull"}, {"expr", ident({"metadata", "m"})}};
      case 5:
        return bj::object{{"op", "match"}, {"left", ident({"s"})}, {"right", lit("beta")}};
      case 6:
        return bj::object{{"op", "eq"}, {"left", ident({"is_root"})}, {"right", lit(true)}};
      case 7: {  // created ± interval against a fixed time
        static const char* units[] = {"hour", "day", "minute", "month"};
        bj::object interval{{"op", "interval"},
                            {"value", static_cast<std::int64_t>(rng() % 5) - 2},
                            {"unit", units[rng() % 4]}};
        bj::object shifted{
            {"op", rng() % 2 ? "add" : "sub"}, {"left", ident({"created"})}, {"right", interval}};
        return bj::object{
            {"op", rng() % 2 ? "gt" : "le"},
            {"left", shifted},
            {"right", lit(bj::value("2026-01-02T1" + std::to_string(rng() % 10) + ":30:00Z"))}};
      }
      case 8: {  // MATCH over a field, a subfield or a phrase (text index terms, positions)
        static const char* queries[] = {"beta", "\"delta beta\"", "\"beta delta\"", "delta"};
        bj::object left;
        switch (rng() % 4) {
          case 0:
            left = ident({"input"});
            break;
          case 1:
            left = ident({"input", "q"});
            break;
          case 2:
            left = ident({"span_attributes", "name"});
            break;
          default:
            left = ident({"metadata", "a"});
            break;
        }
        return bj::object{{"op", "match"}, {"left", left}, {"right", lit(queries[rng() % 4])}};
      }
      case 9:  // a light conjunct rules rows out before the heavy one reads their bodies
        return bj::object{
            {"op", "and"},
            {"children",
             bj::array{bj::object{{"op", "eq"},
                                  {"left", ident({"metadata", "m"})},
                                  {"right", lit(static_cast<std::int64_t>(rng() % 3))}},
                       bj::object{{"op", rng() % 2 ? "match" : "eq"},
                                  {"left", ident({"input"})},
                                  {"right", lit(bj::value(rng() % 2 ? "gamma" : "alpha"))}}}}};
      case 10:
        if (rng() % 2) return bj::object{{"op", "isnull"}, {"expr", ident({"output", "x"})}};
        return bj::object{{"op", "gt"},
                          {"left", ident({"output", "x"})},
                          {"right", lit(static_cast<std::int64_t>(rng() % 5))}};
      case 11:  // a numeric range a block's column statistics can rule out
        return bj::object{{"op", rng() % 2 ? "gt" : "le"},
                          {"left", lit(static_cast<std::int64_t>(rng() % 2200))},
                          {"right", ident({"metrics", "prompt_tokens"})}};
      case 12:
        return bj::object{{"op", "eq"},
                          {"left", ident({"span_attributes", "type"})},
                          {"right", lit(rng() % 2 ? "llm" : "tool")}};
      case 13: {  // prints a whole object: its keys' order counts
        bj::object text{{"op", "function"},
                        {"name", bj::object{{"op", "ident"}, {"name", bj::array{"to_string"}}}},
                        {"args", bj::array{ident({"metadata"})}}};
        return bj::object{{"op", rng() % 2 ? "like" : "match"},
                          {"left", text},
                          {"right", lit(rng() % 2 ? "{\"m\":1,\"a%" : "\"1 a\"")}};
      }
      case 14:
        return bj::object{{"op", "not"}, {"expr", RandomFilter(rng, depth - 1, any_span)}};
      case 15: {  // cond ? a : b
        bj::object branch{{"cond", RandomFilter(rng, depth - 1, any_span)},
                          {"then", RandomFilter(rng, depth - 1, any_span)}};
        return bj::object{{"op", "if"},
                          {"conds", bj::array{branch}},
                          {"else", RandomFilter(rng, depth - 1, any_span)}};
      }
      case 16:
        if (any_span) {
          return bj::object{{"op", "function"},
                            {"name", bj::object{{"op", "ident"}, {"name", bj::array{"any_span"}}}},
                            {"args", bj::array{RandomFilter(rng, depth - 1, false)}}};
        }
        [[fallthrough]];
      default: {
        bj::array children{RandomFilter(rng, depth - 1, any_span),
                           RandomFilter(rng, depth - 1, any_span)};
        return bj::object{{"op", pick == 17 ? "and" : "or"}, {"children", children}};
      }
    }
  }

  // A row's heavy fields (input, output, expected), serialized: the engine must return the
  // bodies, not just the light rows its filter read.
  static std::string Heavy(const bj::object& row) {
    bj::object heavy;
    for (const char* key : {"input", "output", "expected"}) {
      if (const bj::value* v = row.if_contains(key)) heavy[key] = *v;
    }
    return json::Serialize(heavy);
  }

  // Ids of the matching rows, each with Heavy() of its row.
  using Rows = std::map<std::string, std::string>;

  Rows EngineRows(const bj::value& filter, std::size_t page, std::optional<std::uint64_t> version) {
    bj::object ast{
        {"from",
         bj::object{{"op", "function"},
                    {"name", bj::object{{"op", "ident"}, {"name", bj::array{"experiment"}}}},
                    {"args", bj::array{bj::object{{"op", "literal"}, {"value", env_->exp}}}}}},
        {"filter", filter},
        {"limit", static_cast<std::int64_t>(page)}};
    Query q = ParseQueryAst(ast).value();
    Rows ids;
    for (int pages = 0; pages < 1000; ++pages) {
      auto r = env_->engine->Run(env_->org, q, version);
      EXPECT_TRUE(r.ok()) << r.status().ToString();
      if (!r.ok()) break;
      for (const auto& row : r->data) {
        const bj::object& o = row.as_object();
        EXPECT_TRUE(ids.emplace(std::string(o.at("id").as_string()), Heavy(o)).second)
            << "a row came back twice";
      }
      if (r->cursor.empty()) break;
      q.cursor = r->cursor;
    }
    return ids;
  }

  // any_span(p) resolved the naive way: the traces of the model rows where p holds.
  static Rows ModelRows(const Model& model, const bj::value& filter) {
    Expr e = ResolveAnySpan(ParseExpr(filter).value(), [&](const Expr& p) {
      auto keys = std::make_shared<std::unordered_set<std::string>>();
      for (const auto& [id, row] : model) {
        if (Matches(p, row)) keys->insert(TraceScopeKey(row));
      }
      return std::shared_ptr<const std::unordered_set<std::string>>(std::move(keys));
    });
    Rows ids;
    for (const auto& [id, row] : model) {
      if (Matches(e, row)) ids.emplace(id, Heavy(row));
    }
    return ids;
  }

  // A random query of any shape: spans (unsorted or sorted), traces, summary (sorted on root
  // fields, on aggregated fields, on a heavy field), or grouped; filters, sorts, groups and
  // projections reading light fields only or heavy ones too.
  bj::object RandomQuery(std::mt19937& rng) {
    auto ident = [](std::initializer_list<const char*> path) {
      bj::array name;
      for (const char* p : path) name.push_back(bj::value(p));
      return bj::object{{"op", "ident"}, {"name", name}};
    };
    auto sort_by = [&](std::initializer_list<const char*> path, bool desc) {
      return bj::object{{"expr", ident(path)}, {"dir", desc ? "desc" : "asc"}};
    };
    bj::object ast{
        {"from",
         bj::object{{"op", "function"},
                    {"name", bj::object{{"op", "ident"}, {"name", bj::array{"experiment"}}}},
                    {"args", bj::array{bj::object{{"op", "literal"}, {"value", env_->exp}}}}}},
        {"limit", static_cast<std::int64_t>(1 + rng() % 7)}};
    if (rng() % 3) ast["filter"] = RandomFilter(rng, 2);
    static const std::vector<std::vector<const char*>> kFields = {
        {"created"},     {"n"}, {"input"},    {"scores", "x"},      {"is_root"},
        {"output", "x"}, {"s"}, {"metadata"}, {"metrics", "start"}, {"span_attributes"}};
    auto ident_of = [](const std::vector<const char*>& path) {
      bj::array name;
      for (const char* p : path) name.push_back(bj::value(p));
      return bj::object{{"op", "ident"}, {"name", name}};
    };
    bj::array sort;
    for (int i = static_cast<int>(rng() % 3); i > 0; --i) {
      sort.push_back(bj::object{{"expr", ident_of(kFields[rng() % kFields.size()])},
                                {"dir", rng() % 2 ? "desc" : "asc"}});
    }
    if (!sort.empty()) sort.push_back(sort_by({"id"}, false));  // a total order
    switch (rng() % 5) {
      case 0:
        break;  // spans in write order
      case 1:
        ast["sort"] = std::move(sort);
        if (rng() % 3 == 0) {
          ast["select"] = bj::array{bj::object{{"expr", ident({"id"})}, {"alias", "id"}},
                                    bj::object{{"expr", ident({"input"})}, {"alias", "in"}}};
        }
        break;
      case 2:
        ast["shape"] = "traces";
        break;
      case 3:
        ast["shape"] = "summary";
        ast["preview_length"] = static_cast<std::int64_t>(rng() % 8);
        if (rng() % 2) ast["sort"] = std::move(sort);
        if (rng() % 3 == 0) {
          ast["sort"] = bj::array{sort_by({"metrics", "errors"}, true), sort_by({"id"}, false)};
        }
        break;
      default: {
        static const std::vector<std::vector<const char*>> kDims = {
            {"metadata", "m"}, {"s"},        {"input"},           {"output", "x"},
            {"is_root"},       {"metadata"}, {"span_attributes"}, {"span_attributes", "type"}};
        ast["dimensions"] =
            bj::array{bj::object{{"expr", ident_of(kDims[rng() % kDims.size()])}, {"alias", "d"}}};
        const char* fn = rng() % 2 ? "count" : "max";
        bj::object call{{"op", "function"},
                        {"name", bj::object{{"op", "ident"}, {"name", bj::array{fn}}}},
                        {"args", bj::array{ident_of(kFields[rng() % kFields.size()])}}};
        ast["measures"] = bj::array{bj::object{{"expr", call}, {"alias", "m"}}};
        ast["sort"] = bj::array{sort_by({"d"}, false)};
      }
    }
    return ast;
  }

  // Every page of a query, serialized (rows and cursors).
  std::vector<std::string> AllPages(const bj::object& ast) {
    std::vector<std::string> out;
    auto q = ParseQueryAst(ast);
    EXPECT_TRUE(q.ok()) << q.status().ToString() << " " << json::Serialize(ast);
    if (!q.ok()) return out;
    for (int pages = 0; pages < 1000; ++pages) {
      auto r = env_->engine->Run(env_->org, *q, std::nullopt);
      EXPECT_TRUE(r.ok()) << r.status().ToString();
      if (!r.ok()) break;
      out.push_back(json::Serialize(r->data) + " " + r->cursor);
      if (r->cursor.empty()) break;
      q->cursor = r->cursor;
    }
    return out;
  }

  std::unique_ptr<TestEnv> env_ = std::make_unique<TestEnv>();
};

TEST_F(PropertyTest, EngineAgreesWithNaiveModel) {
  for (std::uint32_t seed = 1; seed <= 12; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937 rng(seed);
    Model model;
    std::vector<std::pair<std::uint64_t, Model>> history;  // snapshots for version reads
    // Compactions may drop history at or below this _xact_id: version reads before it may
    // lose history, so only reads at or after it are checked.
    std::uint64_t horizon = 0;
    for (int step = 0; step < 60; ++step) {
      RandomWrite(rng, model);
      history.emplace_back(env_->writer->visible_xact(), model);
      // Rows move to segments and the process restarts from disk at random points; answers,
      // cursors and version reads must not change.
      if (rng() % 6 == 0) env_->Flush();
      if (rng() % 15 == 0) env_->CompactAll();
      if (rng() % 8 == 0) {
        // A random run (not always from the oldest segment, so tombstones must stay) with a
        // horizon at some earlier write.
        horizon = std::max(horizon, history[rng() % history.size()].first);
        env_->CompactRun(rng() % 3, 1 + rng() % 4, horizon);
      }
      if (rng() % 20 == 0) env_->Reopen();
      bj::value filter = RandomFilter(rng, 3);
      std::size_t page = 1 + rng() % 7;
      ASSERT_EQ(EngineRows(filter, page, std::nullopt), ModelRows(model, filter))
          << json::Serialize(filter);
      auto readable = std::lower_bound(history.begin(), history.end(), horizon,
                                       [](const auto& h, std::uint64_t x) { return h.first < x; });
      const auto& [xact, old] =
          readable[static_cast<long>(rng() % static_cast<std::size_t>(history.end() - readable))];
      ASSERT_EQ(EngineRows(filter, page, xact), ModelRows(old, filter))
          << "version read, " << json::Serialize(filter);
    }
    EXPECT_FALSE(env_->segments->List().empty()) << "no flush happened";
    env_ = std::make_unique<TestEnv>();  // a fresh experiment for the next seed
  }
}

}  // namespace
}  // namespace arbor::query

namespace arbor::query {
namespace {

// Light rows (segment format 2) must not change any answer: each random query, of any shape,
// gives byte-identical pages whether the engine reads light rows or whole bodies.
TEST_F(PropertyTest, LightRowsAnswerAsBodiesDo) {
  int flushed_queries = 0;
  for (std::uint32_t seed = 1; seed <= 8; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937 rng(1000 + seed);
    Model model;
    for (int step = 0; step < 50; ++step) {
      RandomWrite(rng, model);
      if (rng() % 4 == 0) env_->Flush();
      if (rng() % 12 == 0) env_->CompactAll();
      if (rng() % 20 == 0) env_->Reopen();
      flushed_queries += env_->segments->List().empty() ? 0 : 1;
      for (int i = 0; i < 3; ++i) {
        bj::object ast = RandomQuery(rng);
        env_->engine->set_light_rows(true);
        std::vector<std::string> light = AllPages(ast);
        env_->engine->set_light_rows(false);
        std::vector<std::string> bodies = AllPages(ast);
        env_->engine->set_light_rows(true);
        ASSERT_EQ(light, bodies) << json::Serialize(ast);
      }
    }
    env_ = std::make_unique<TestEnv>();
  }
  EXPECT_GT(flushed_queries, 200) << "too few queries ran over segments";
}

}  // namespace
}  // namespace arbor::query

namespace arbor::query {
namespace {

// Columns (rows read as projections onto the paths a query reads, blocks skipped on column
// ranges) must not change any answer: each random query, of any shape, gives byte-identical
// pages and cursors with columns on, with columns off, and reading bodies only; through the
// reference projection (ReferenceColumns) and through the segments' own columns.
TEST_F(PropertyTest, ColumnsAnswerAsLightRowsDo) {
  std::uint64_t projected = 0;
  std::uint64_t skipped = 0;
  int flushed_queries = 0;
  auto harvest = [&] {
    if (env_->reference == nullptr) return;
    projected += env_->reference->projected.exchange(0);
    skipped += env_->reference->skipped.exchange(0);
  };
  for (std::uint32_t seed = 1; seed <= 8; ++seed) {
    for (bool reference : {true, false}) {
      SCOPED_TRACE("seed " + std::to_string(seed) + (reference ? " reference" : " segments"));
      env_ = std::make_unique<TestEnv>(reference);
      std::mt19937 rng(2000 + seed);
      Model model;
      for (int step = 0; step < 40; ++step) {
        RandomWrite(rng, model);
        if (rng() % 3 == 0) env_->Flush();
        if (rng() % 10 == 0) env_->CompactAll();
        if (rng() % 15 == 0) {
          harvest();
          env_->Reopen();
        }
        flushed_queries += env_->segments->List().empty() ? 0 : 1;
        for (int i = 0; i < 3; ++i) {
          bj::object ast = RandomQuery(rng);
          std::vector<std::string> on = AllPages(ast);
          env_->engine->set_columns(false);
          std::vector<std::string> off = AllPages(ast);
          env_->engine->set_light_rows(false);
          std::vector<std::string> bodies = AllPages(ast);
          env_->engine->set_light_rows(true);
          env_->engine->set_columns(true);
          ASSERT_EQ(on, off) << json::Serialize(ast);
          ASSERT_EQ(on, bodies) << json::Serialize(ast);
        }
      }
      harvest();
    }
  }
  EXPECT_GT(flushed_queries, 400) << "too few queries ran over segments";
  EXPECT_GT(projected, 10000u) << "too few rows were read as projections";
  EXPECT_GT(skipped, 1000u) << "too few rows were skipped on ranges";
}

}  // namespace
}  // namespace arbor::query
