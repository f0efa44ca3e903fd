// The stored fields a query reads, so scans can read row projections built from a segment's
// typed columns (storage::ProjectRow, RowLoader::LoadProjected) instead of whole light rows.
#pragma once

#include <optional>
#include <vector>

#include "query/btql.h"
#include "storage/row_store.h"

namespace arbor::query {

// A set of field paths, or "the whole row" once some read cannot be pinned to paths: an
// ident with an empty path, a heavy field (input, output, expected: those are read from
// bodies), `comments` (attached by Present, not stored), or a caller's own say-so.
class ReadPaths {
 public:
  // What evaluating `e` (query/expr.h Evaluate) reads: `is_root` reads span_parents,
  // any_span() (resolved) the trace key fields of TraceScopeKey.
  void Add(const Expr& e);
  void Add(const std::vector<SortItem>& items);
  void Add(const std::vector<SelectItem>& items);
  void AddField(storage::FieldPath path);
  void AddWholeRow() { whole_row_ = true; }
  // The fields TraceScopeKey reads.
  void AddTraceScopeKey();
  void Add(const ReadPaths& other);

  // Sorted, without paths another one listed already covers (a prefix of them); nullopt when
  // the whole row is read.
  std::optional<std::vector<storage::FieldPath>> Paths() const;

 private:
  std::vector<storage::FieldPath> paths_;
  bool whole_row_ = false;
};

// The paths `e` reads: Evaluate(e, row) equals Evaluate(e, ProjectRow(row, *PathsOf(e))).
// nullopt when `e` needs the whole row.
std::optional<std::vector<storage::FieldPath>> PathsOf(const Expr& e);

}  // namespace arbor::query
