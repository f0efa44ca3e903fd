// Executes queries over the row store: BTQL, REST fetch, dataset counts and experiment
// summaries. Reads see every durable write (the writer's visible xact) and nothing newer.
#pragma once

#include <boost/json.hpp>
#include <optional>
#include <string>

#include "base/status.h"
#include "catalog/catalog.h"
#include "ingest/writer.h"
#include "query/btql.h"
#include "query/scan.h"
#include "storage/row_store.h"

namespace arbor::query {

struct QueryResult {
  boost::json::array data;
  std::string cursor;  // empty when there are no more rows
};

// One summary entry per score or metric (the exact key sets of protocol §4.5).
struct ComparisonOptions {
  std::string experiment_id;
  std::optional<std::string> base_experiment_id;
};

class Engine {
 public:
  Engine(catalog::Catalog& catalog, const storage::RowStore& store, const ingest::Writer& writer)
      : catalog_(catalog), store_(store), writer_(writer) {}

  // `version`: read as of that _xact_id (a snapshot); otherwise the newest durable state.
  StatusOr<QueryResult> Run(const std::string& org_id, const Query& query,
                            std::optional<std::uint64_t> version);

  // Live (non-deleted, non-comment) rows of an object.
  StatusOr<std::size_t> CountRows(const std::string& org_id, const ingest::ObjectRef& object);

  // {"scores": {...}, "metrics": {...}} for an experiment, compared with a base if given.
  StatusOr<boost::json::object> CompareExperiments(const std::string& org_id,
                                                   const ComparisonOptions& options);

  // Newest _xact_id written to an object, if any.
  StatusOr<std::optional<std::uint64_t>> MaxXact(const std::string& org_id,
                                                 const ingest::ObjectRef& object);

  // Off: every flushed row is read whole, as before segment format 2 had light rows. For
  // tests, which check that both paths give byte-identical answers.
  void set_light_rows(bool on) { light_rows_ = on; }
  // Off: scans read light rows, never projections built from segment columns, and skip no
  // block on column statistics. On by default unless ARBOR_QUERY_COLUMNS=off (benchmarks
  // compare both on the same data); tests check both give byte-identical answers.
  void set_columns(bool on) { columns_ = on; }

 private:
  Status CheckObject(const std::string& org_id, const ingest::ObjectRef& object);
  // A filter with any_span(): resolves each one to the traces where it holds, then runs.
  StatusOr<QueryResult> RunWithAnySpan(const std::string& org_id, const Query& q,
                                       std::optional<std::uint64_t> version);
  // Spans with a sort: ranks every match, presents one page. `start` is the decoded cursor.
  StatusOr<QueryResult> RunSorted(const std::string& org_id, const Query& q, const Cursor& start);
  // dimensions/measures: groups the matching rows and pages over the groups.
  StatusOr<QueryResult> RunAggregate(const std::string& org_id, const Query& q,
                                     std::uint64_t snapshot, std::uint64_t offset);
  // The traces and summary shapes: results are grouped by trace and paged by trace.
  StatusOr<QueryResult> RunTraces(const std::string& org_id, const Query& q, std::uint64_t snapshot,
                                  std::uint64_t offset);
  // Every live row of an object, light; `reads`: what the caller reads from them (rows may
  // be column projections onto those paths).
  StatusOr<std::vector<storage::VisibleRow>> AllRows(const std::string& org_id,
                                                     const ingest::ObjectRef& object,
                                                     const ReadPaths& reads);
  // How Select may read rows: light when the caller can use light rows and they are on.
  RowReads Reads(bool light_ok) const;
  // What Select is told the caller reads from returned rows: nullptr (no columns) when
  // columns are off.
  const ReadPaths* Returned(const ReadPaths& reads) const { return columns_ ? &reads : nullptr; }
  static bool ColumnsByDefault();

  catalog::Catalog& catalog_;
  const storage::RowStore& store_;
  const ingest::Writer& writer_;
  bool light_rows_ = true;
  bool columns_ = ColumnsByDefault();
};

}  // namespace arbor::query
