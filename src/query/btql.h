// A BTQL query as the SDKs send it (the JSON AST, protocol §4.1), parsed into a plan.
#pragma once

#include <boost/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "ingest/rows.h"
#include "query/expr.h"

namespace arbor::query {

struct SelectItem {
  Expr expr;
  std::string alias;
};

struct SortItem {
  Expr expr;
  bool descending = false;
};

// What one result row is (brainstore.md §1.9): a span; every span of each trace that has a
// matching span; or one summary row per such trace.
enum class Shape { kSpans, kTraces, kSummary };

inline constexpr std::size_t preview_length_default = 124;

struct Query {
  ingest::ObjectType source = ingest::ObjectType::kExperiment;
  Shape shape = Shape::kSpans;
  std::size_t preview_length = preview_length_default;  // summary shape: preview text length
  std::vector<std::string> object_ids;
  std::vector<SelectItem> select;  // empty: every field (select star)
  // Aggregation: one output row per distinct dimension tuple, with each measure computed
  // over that group (count, count_distinct, sum, avg, min, max, percentile).
  std::vector<SelectItem> dimensions;
  std::vector<SelectItem> measures;
  // HAVING: a filter over the output rows of an aggregation (names are output columns). Its
  // aggregate calls that are not among the measures were appended to `measures` as the last
  // `hidden_measures` entries, which are dropped from the output.
  std::optional<Expr> having;
  std::size_t hidden_measures = 0;
  std::optional<Expr> filter;
  std::vector<SortItem> sort;
  std::size_t limit = 0;
  std::string cursor;
};

// Parses `{"select":..., "from":..., "filter":..., "sort":..., "limit":..., "cursor":...}`,
// plus `dimensions`, `measures`, `having` (Arbor's field for SQL HAVING), `shape` and
// `preview_length`.
StatusOr<Query> ParseQueryAst(const boost::json::object& ast);

}  // namespace arbor::query
