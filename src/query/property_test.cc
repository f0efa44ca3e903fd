// Property test: the engine (index lookups, scans, cursor paging, snapshots, deletes, with
// rows moving to segments, compactions and restarts from disk) against a naive model that keeps
// every object's rows in a map and filters them one by one.
#include <gtest/gtest.h>

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
    if (rng() % 3 == 0) row["span_parents"] = bj::array{"x"};
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
    int pick = static_cast<int>(rng() % (depth > 0 ? 13 : 8));
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
      case 8:
        return bj::object{{"op", "not"}, {"expr", RandomFilter(rng, depth - 1, any_span)}};
      case 9: {  // cond ? a : b
        bj::object branch{{"cond", RandomFilter(rng, depth - 1, any_span)},
                          {"then", RandomFilter(rng, depth - 1, any_span)}};
        return bj::object{{"op", "if"},
                          {"conds", bj::array{branch}},
                          {"else", RandomFilter(rng, depth - 1, any_span)}};
      }
      case 10:
        if (any_span) {
          return bj::object{{"op", "function"},
                            {"name", bj::object{{"op", "ident"}, {"name", bj::array{"any_span"}}}},
                            {"args", bj::array{RandomFilter(rng, depth - 1, false)}}};
        }
        [[fallthrough]];
      default: {
        bj::array children{RandomFilter(rng, depth - 1, any_span),
                           RandomFilter(rng, depth - 1, any_span)};
        return bj::object{{"op", pick == 11 ? "and" : "or"}, {"children", children}};
      }
    }
  }

  std::set<std::string> EngineIds(const bj::value& filter, std::size_t page,
                                  std::optional<std::uint64_t> version) {
    bj::object ast{
        {"from",
         bj::object{{"op", "function"},
                    {"name", bj::object{{"op", "ident"}, {"name", bj::array{"experiment"}}}},
                    {"args", bj::array{bj::object{{"op", "literal"}, {"value", env_->exp}}}}}},
        {"filter", filter},
        {"limit", static_cast<std::int64_t>(page)}};
    Query q = ParseQueryAst(ast).value();
    std::set<std::string> ids;
    for (int pages = 0; pages < 1000; ++pages) {
      auto r = env_->engine->Run(env_->org, q, version);
      EXPECT_TRUE(r.ok()) << r.status().ToString();
      if (!r.ok()) break;
      for (const auto& row : r->data) {
        EXPECT_TRUE(ids.insert(std::string(row.as_object().at("id").as_string())).second)
            << "a row came back twice";
      }
      if (r->cursor.empty()) break;
      q.cursor = r->cursor;
    }
    return ids;
  }

  // any_span(p) resolved the naive way: the traces of the model rows where p holds.
  static std::set<std::string> ModelIds(const Model& model, const bj::value& filter) {
    Expr e = ResolveAnySpan(ParseExpr(filter).value(), [&](const Expr& p) {
      auto keys = std::make_shared<std::unordered_set<std::string>>();
      for (const auto& [id, row] : model) {
        if (Matches(p, row)) keys->insert(TraceScopeKey(row));
      }
      return std::shared_ptr<const std::unordered_set<std::string>>(std::move(keys));
    });
    std::set<std::string> ids;
    for (const auto& [id, row] : model) {
      if (Matches(e, row)) ids.insert(id);
    }
    return ids;
  }

  std::unique_ptr<TestEnv> env_ = std::make_unique<TestEnv>();
};

TEST_F(PropertyTest, EngineAgreesWithNaiveModel) {
  for (std::uint32_t seed = 1; seed <= 12; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937 rng(seed);
    Model model;
    std::vector<std::pair<std::uint64_t, Model>> history;  // snapshots for version reads
    for (int step = 0; step < 60; ++step) {
      RandomWrite(rng, model);
      history.emplace_back(env_->writer->visible_xact(), model);
      // Rows move to segments and the process restarts from disk at random points; answers,
      // cursors and version reads must not change.
      if (rng() % 6 == 0) env_->Flush();
      if (rng() % 15 == 0) env_->CompactAll();
      if (rng() % 20 == 0) env_->Reopen();
      bj::value filter = RandomFilter(rng, 3);
      std::size_t page = 1 + rng() % 7;
      ASSERT_EQ(EngineIds(filter, page, std::nullopt), ModelIds(model, filter))
          << json::Serialize(filter);
      const auto& [xact, old] = history[rng() % history.size()];
      ASSERT_EQ(EngineIds(filter, page, xact), ModelIds(old, filter))
          << "version read, " << json::Serialize(filter);
    }
    EXPECT_FALSE(env_->segments->List().empty()) << "no flush happened";
    env_ = std::make_unique<TestEnv>();  // a fresh experiment for the next seed
  }
}

}  // namespace
}  // namespace arbor::query
