// BTQL text (protocol §4.3): the pipe syntax (`select: * | from: experiment('id') | filter: ...`)
// and the SQL syntax (`SELECT * FROM experiment('id') WHERE ...`), turned into the same JSON AST
// the SDKs send (protocol §4.1), so ParseQueryAst consumes either without knowing the source.
#pragma once

#include <boost/json.hpp>
#include <cstddef>
#include <string_view>

#include "base/status.h"

namespace arbor::query {

// Bounds on hostile text. The produced AST is still checked by ParseQueryAst/ParseExpr, whose
// own depth bound (counted in AST nodes, not parentheses) may reject what passes here.
inline constexpr std::size_t btql_text_bytes_max = 1u << 20;
inline constexpr std::size_t btql_text_tokens_max = 100'000;
inline constexpr int btql_text_depth_max = 64;  // nested parentheses and NOTs

// Parses either syntax (detected from the first clause) into
// `{"select":[...], "from":{...}, "filter":..., "sort":[...], "limit":n, "cursor":"..."}`.
// Aggregations (`dimensions:`/`measures:`, or SQL aggregates with GROUP BY) give "dimensions"
// and "measures" instead of "select"; their sort keys are rewritten to the output column names.
// SQL HAVING, the pipe `having:` clause and `filter:` terms that name only output columns of an
// aggregation give "having". Intervals, `? :`, CASE and any_span() become the SDK AST's
// "interval", "if" and `any_span` function nodes.
// The shape word or `shape =>` argument lands in `from.shape`; ParseQueryAst ignores it for now.
// Errors are InvalidArgument and start with "line L, column C: " (1-based; columns count bytes).
StatusOr<boost::json::object> ParseBtqlText(std::string_view text);

}  // namespace arbor::query
