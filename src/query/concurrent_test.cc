// Property test under concurrency: one thread writes random requests (inserts, merges,
// deletes), another flushes and compacts, while the test thread reads. Every read at a snapshot
// (`version` = an acknowledged _xact_id) must equal a model built from the acknowledged writes
// up to it, whatever moved to segments meanwhile; and a cursor walk over the newest rows while
// writes continue neither repeats a row nor skips one that was live when the walk began and was
// not deleted during it.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include "json/json.h"
#include "query/engine.h"
#include "query/test_env.h"

namespace arbor::query {
namespace {

namespace bj = boost::json;

using Model = std::map<std::string, bj::object>;  // live rows by id

// One request: its _xact_id once acknowledged (0 while in flight) and its rows as sent.
struct Acked {
  std::uint64_t xact = 0;
  bj::array rows;
};

bj::object Ident(std::initializer_list<const char*> path) {
  bj::array name;
  for (const char* p : path) name.push_back(bj::value(p));
  return bj::object{{"op", "ident"}, {"name", name}};
}

bj::object Compare(const char* op, bj::object left, bj::value literal) {
  return bj::object{{"op", op},
                    {"left", std::move(left)},
                    {"right", bj::object{{"op", "literal"}, {"value", std::move(literal)}}}};
}

// The filters the readers use (none, a number, a string, a nested field).
std::vector<bj::value> Filters() {
  return {bj::value(nullptr), Compare("ge", Ident({"n"}), bj::value(10)),
          Compare("eq", Ident({"s"}), bj::value("beta")),
          Compare("eq", Ident({"metadata", "m"}), bj::value(1))};
}

class ConcurrentTest : public ::testing::Test {
 protected:
  void SetUp() override { env_ = std::make_unique<TestEnv>(); }

  bj::object From() const {
    return bj::object{{"op", "function"},
                      {"name", bj::object{{"op", "ident"}, {"name", bj::array{"experiment"}}}},
                      {"args", bj::array{bj::object{{"op", "literal"}, {"value", env_->exp}}}}};
  }

  // One random request; the model is what the rows should read as once it is acknowledged.
  bj::array RandomRequest(std::mt19937& rng, std::set<std::string>& ids) {
    static const char* words[] = {"alpha", "beta", "gamma"};
    bj::array rows;
    std::set<std::string> used;
    for (int i = 0, n = 1 + static_cast<int>(rng() % 4); i < n; ++i) {
      std::string id = "r" + std::to_string(rng() % 60);
      if (!used.insert(id).second) continue;
      bj::object row{{"id", id}, {"experiment_id", env_->exp}};
      const int kind = static_cast<int>(rng() % 8);
      if (kind == 0 && ids.count(id)) {
        row["_object_delete"] = true;
        ids.erase(id);
      } else {
        if (kind == 1 && ids.count(id)) row["_is_merge"] = true;
        if (rng() % 2) row["n"] = static_cast<std::int64_t>(rng() % 20);
        if (rng() % 2) row["s"] = words[rng() % 3];
        if (rng() % 2) row["metadata"] = bj::object{{"m", static_cast<std::int64_t>(rng() % 3)}};
        row["input"] = "text " + std::to_string(rng() % 1000);
        row["created"] = "2026-01-01T00:00:00Z";
        ids.insert(id);
      }
      rows.push_back(std::move(row));
    }
    return rows;
  }

  static void Apply(const bj::array& rows, Model& model) {
    for (const bj::value& v : rows) {
      bj::object row = v.as_object();
      std::string id(row.at("id").as_string());
      if (row.contains("_object_delete")) {
        model.erase(id);
      } else if (row.contains("_is_merge") && model.count(id)) {
        row.erase("_is_merge");
        json::MergeInto(model[id], row, {});
      } else {
        row.erase("_is_merge");
        model[id] = std::move(row);
      }
    }
  }

  // Every page of a query at `version` (or the newest state), as id -> serialized input+n+s.
  std::map<std::string, std::string> Read(const bj::value& filter,
                                          std::optional<std::uint64_t> version, std::size_t page) {
    bj::object ast{{"from", From()}, {"limit", static_cast<std::int64_t>(page)}};
    if (!filter.is_null()) ast["filter"] = filter;
    Query q = ParseQueryAst(ast).value();
    std::map<std::string, std::string> out;
    for (int pages = 0; pages < 1000; ++pages) {
      auto r = env_->engine->Run(env_->org, q, version);
      EXPECT_TRUE(r.ok()) << r.status().ToString();
      if (!r.ok()) break;
      for (const auto& row : r->data) {
        const bj::object& o = row.as_object();
        EXPECT_TRUE(out.emplace(std::string(o.at("id").as_string()), Fingerprint(o)).second)
            << "row " << o.at("id") << " came back twice";
      }
      if (r->cursor.empty()) break;
      q.cursor = r->cursor;
    }
    return out;
  }

  static std::string Fingerprint(const bj::object& row) {
    bj::object f;
    for (const char* key : {"input", "n", "s", "metadata"}) {
      if (const bj::value* v = row.if_contains(key)) f[key] = *v;
    }
    return json::Serialize(f);
  }

  std::unique_ptr<TestEnv> env_;
};

TEST_F(ConcurrentTest, SnapshotsAndCursorsHoldWhileWritesFlushesAndCompactionsRun) {
  constexpr int requests = 1500;
  std::mutex mu;
  // In xact order (one writer thread); the last one may still be in flight. A request is
  // listed before it is sent, so a reader never sees a write the list does not know of.
  std::vector<Acked> acked;
  std::atomic<bool> done{false};

  std::thread writer([&] {
    std::mt19937 rng(7);
    std::set<std::string> ids;
    for (int i = 0; i < requests; ++i) {
      bj::array rows = RandomRequest(rng, ids);
      {
        std::lock_guard<std::mutex> lock(mu);
        acked.push_back({0, rows});
      }
      auto parsed = ingest::ParseRows(rows);
      auto xact = parsed.ok() ? env_->writer->Write(env_->org, std::move(*parsed))
                              : StatusOr<std::uint64_t>(parsed.status());
      if (!xact.ok()) {
        ADD_FAILURE() << xact.status().ToString();
        break;
      }
      std::lock_guard<std::mutex> lock(mu);
      acked.back().xact = *xact;
    }
    done = true;
  });
  std::thread mover([&] {
    for (int round = 0; !done; ++round) {
      env_->Flush();
      if (round % 3 == 2) env_->CompactAll();
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });

  const std::vector<bj::value> filters = Filters();
  std::mt19937 rng(11);
  int snapshot_reads = 0, walks = 0;
  while (!done || snapshot_reads < 20) {
    std::vector<Acked> log;
    {
      std::lock_guard<std::mutex> lock(mu);
      log = acked;
    }
    if (!log.empty() && log.back().xact == 0) log.pop_back();  // in flight
    if (log.empty()) continue;
    // A snapshot read at an acknowledged _xact_id, against the model at that point.
    const Acked& at = log[rng() % log.size()];
    Model model;
    for (const Acked& a : log) {
      if (a.xact <= at.xact) Apply(a.rows, model);
    }
    const bj::value& filter = filters[rng() % filters.size()];
    std::map<std::string, std::string> want;
    for (const auto& [id, row] : model) {
      if (filter.is_null() || Matches(ParseExpr(filter).value(), row)) {
        want.emplace(id, Fingerprint(row));
      }
    }
    ASSERT_EQ(Read(filter, at.xact, 1 + rng() % 9), want)
        << "snapshot " << at.xact << " filter " << json::Serialize(filter);
    ++snapshot_reads;

    // A cursor walk over the newest rows while writes go on.
    Model live;
    for (const Acked& a : log) Apply(a.rows, live);
    const std::uint64_t began = log.back().xact;
    auto seen = Read(bj::value(nullptr), std::nullopt, 3);
    std::set<std::string> deleted_since;
    {
      std::lock_guard<std::mutex> lock(mu);
      for (const Acked& a : acked) {
        if (a.xact != 0 && a.xact <= began) continue;  // in flight (0) may have landed
        for (const bj::value& v : a.rows) {
          if (v.as_object().contains("_object_delete")) {
            deleted_since.insert(std::string(v.as_object().at("id").as_string()));
          }
        }
      }
    }
    for (const auto& [id, row] : live) {
      if (deleted_since.count(id)) continue;
      EXPECT_TRUE(seen.count(id)) << "the walk skipped " << id << " (live at " << began << ")";
    }
    ++walks;
  }
  writer.join();
  mover.join();
  EXPECT_GE(walks, 20);
  RecordProperty("snapshot_reads", snapshot_reads);
  RecordProperty("segments", static_cast<int>(env_->segments->List().size()));
  // Nothing was lost on the way: the final state equals the model of every write.
  Model all;
  for (const Acked& a : acked) Apply(a.rows, all);
  std::map<std::string, std::string> want;
  for (const auto& [id, row] : all) want.emplace(id, Fingerprint(row));
  EXPECT_EQ(Read(bj::value(nullptr), std::nullopt, 50), want);
  EXPECT_FALSE(env_->segments->List().empty()) << "no flush happened during the test";
}

}  // namespace
}  // namespace arbor::query
