#include "server/retention.h"

#include <chrono>
#include <iostream>
#include <optional>

#include "base/util.h"
#include "ingest/rows.h"
#include "query/btql.h"
#include "query/btql_text.h"

namespace arbor::ops {
namespace {

namespace bj = boost::json;

constexpr std::size_t kSweepBatchRows = 1000;
constexpr int kSweepBatchesMax = 10000;  // per object and pass; the next pass continues

// Ids of up to kSweepBatchRows live rows of `from` created before `cutoff`.
StatusOr<std::vector<std::string>> ExpiredIds(query::Engine& engine, const std::string& org_id,
                                              const std::string& from, const std::string& cutoff) {
  ASSIGN_OR_RETURN(bj::object ast,
                   query::ParseBtqlText("select: id | from: " + from + " | filter: created < '" +
                                        cutoff + "' | limit: " + std::to_string(kSweepBatchRows)));
  ASSIGN_OR_RETURN(query::Query q, query::ParseQueryAst(ast));
  ASSIGN_OR_RETURN(query::QueryResult r, engine.Run(org_id, q, std::nullopt));
  std::vector<std::string> ids;
  for (const bj::value& row : r.data) {
    const bj::value* id = row.is_object() ? row.as_object().if_contains("id") : nullptr;
    if (id != nullptr && id->is_string()) ids.emplace_back(id->as_string());
  }
  return ids;
}

// Deletes every expired row of one object; `target` holds its routing fields.
StatusOr<std::size_t> SweepObject(query::Engine& engine, ingest::Writer& writer,
                                  const std::string& org_id, const std::string& from,
                                  const bj::object& target, const std::string& cutoff) {
  std::size_t deleted = 0;
  for (int batch = 0; batch < kSweepBatchesMax; ++batch) {
    ASSIGN_OR_RETURN(std::vector<std::string> ids, ExpiredIds(engine, org_id, from, cutoff));
    if (ids.empty()) break;
    bj::array rows;
    for (const std::string& id : ids) {
      bj::object row = target;
      row["id"] = id;
      row["_object_delete"] = true;
      rows.push_back(std::move(row));
    }
    ASSIGN_OR_RETURN(std::vector<ingest::IncomingRow> parsed, ingest::ParseRows(std::move(rows)));
    RETURN_IF_ERROR(writer.Write(org_id, std::move(parsed)).status());
    deleted += ids.size();
  }
  return deleted;
}

}  // namespace

StatusOr<SweepStats> SweepRetention(catalog::Catalog& catalog, query::Engine& engine,
                                    ingest::Writer& writer, std::int64_t now_us) {
  SweepStats stats;
  ASSIGN_OR_RETURN(std::vector<catalog::RetentionPolicy> policies,
                   catalog.ListRetentionPolicies(""));
  for (const catalog::RetentionPolicy& p : policies) {
    ++stats.policies;
    const std::string cutoff = FormatIsoTime(now_us - p.max_age_days * 86400ll * 1000000ll);
    auto project = catalog.GetObject(p.org_id, catalog::ObjectKind::kProject, p.project_id);
    if (!project.ok()) continue;  // deleted project: nothing to sweep
    if (p.object_type == "project_logs") {
      ASSIGN_OR_RETURN(std::size_t n,
                       SweepObject(engine, writer, p.org_id, "project_logs('" + p.project_id + "')",
                                   {{"project_id", p.project_id}, {"log_id", "g"}}, cutoff));
      stats.rows_deleted += n;
    } else if (p.object_type == "experiment") {
      ASSIGN_OR_RETURN(auto experiments,
                       catalog.ListObjects(p.org_id, catalog::ObjectKind::kExperiment,
                                           {.project_id = p.project_id}));
      for (const catalog::CatalogObject& e : experiments) {
        ASSIGN_OR_RETURN(std::size_t n,
                         SweepObject(engine, writer, p.org_id, "experiment('" + e.id + "')",
                                     {{"experiment_id", e.id}}, cutoff));
        stats.rows_deleted += n;
      }
    }
  }
  return stats;
}

RetentionSweeper::RetentionSweeper(catalog::Catalog& catalog, query::Engine& engine,
                                   ingest::Writer& writer, int interval_s)
    : catalog_(catalog), engine_(engine), writer_(writer), interval_s_(interval_s) {}

RetentionSweeper::~RetentionSweeper() { Stop(); }

void RetentionSweeper::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void RetentionSweeper::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::uint64_t RetentionSweeper::rows_deleted() const {
  std::lock_guard<std::mutex> lock(mu_);
  return rows_deleted_;
}

void RetentionSweeper::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    lock.unlock();
    auto swept = SweepRetention(catalog_, engine_, writer_, NowMicros());
    lock.lock();
    if (swept.ok()) {
      rows_deleted_ += swept->rows_deleted;
    } else {
      std::cerr << "arbor: retention sweep failed: " << swept.status().message() << std::endl;
    }
    cv_.wait_for(lock, std::chrono::seconds(interval_s_), [this] { return stopping_; });
  }
}

}  // namespace arbor::ops
