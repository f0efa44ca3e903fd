// Filter expressions of the BTQL JSON AST (protocol §4.1) and their evaluation on a row.
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "base/status.h"

namespace arbor::query {

enum class ExprOp {
  kIdent,
  kLiteral,
  kEq,
  kNe,
  kLt,
  kLe,
  kGt,
  kGe,
  kAnd,
  kOr,
  kNot,
  kIsNull,
  kIsNotNull,
  kIn,
  kLike,
  kILike,
  kMatch,
  kIncludes,
  kFunction,  // name in `function`, arguments in `children`
  kAdd,
  kSub,
  kMul,
  kDiv,
  kMod,
  kNeg,       // {"op":"neg","expr":...}
  kInterval,  // a duration to add to or subtract from a time: `months` and `micros`
  kIf,        // children: cond, then, cond, then, ..., else (the first true cond wins)
  kAnySpan,   // any_span(predicate): does any span of the row's trace satisfy the predicate?
  kTraceIn,   // internal, never parsed: any_span() resolved to the set of matching traces
};

struct Expr {
  ExprOp op = ExprOp::kLiteral;
  std::vector<std::string> path;  // kIdent
  boost::json::value literal;     // kLiteral
  std::vector<Expr> children;     // operands, in order
  std::string function;           // kFunction: lower-case name
  // kInterval: a calendar part (whole months) and an exact part, kept apart because a month
  // has no fixed length.
  std::int64_t months = 0;
  std::int64_t micros = 0;
  // kTraceIn: TraceScopeKey() of every trace in which the any_span() predicate held.
  std::shared_ptr<const std::unordered_set<std::string>> trace_keys;
};

// Aggregate functions are evaluated over groups (query/aggregate.cc), never per row.
bool IsAggregateFunction(const std::string& name);
bool ContainsAggregate(const Expr& expr);
bool ContainsOp(const Expr& expr, ExprOp op);
// Structural equality (paths, literals, ops, function names, intervals).
bool SameExpr(const Expr& a, const Expr& b);

// Parses an AST node; errors name the offending op. Depth is bounded.
StatusOr<Expr> ParseExpr(const boost::json::value& node);

// The value of an expression on `row`; missing paths and non-values evaluate to null.
boost::json::value Evaluate(const Expr& expr, const boost::json::object& row);
// A span is a root when it has no parents (protocol §3.3); `is_root` is a virtual column.
bool IsRoot(const boost::json::object& row);

// The trace a span belongs to, qualified by the object that holds it (trace ids are unique
// only within an object): "<experiment_id|dataset_id|prompt_session_id|project_id>/<root>",
// where root is root_span_id, else the row's id.
std::string TraceScopeKey(const boost::json::object& row);

// `expr` with every any_span(p) replaced by a kTraceIn over `traces_matching(p)`, the trace
// keys where p holds on some span. Without this step any_span(p) is evaluated on the span
// alone, as if each span were its own trace.
using TraceKeysOf =
    std::function<std::shared_ptr<const std::unordered_set<std::string>>(const Expr& predicate)>;
Expr ResolveAnySpan(const Expr& expr, const TraceKeysOf& traces_matching);

// SQL-ish truth: only a boolean true passes a filter.
bool Matches(const Expr& expr, const boost::json::object& row);

}  // namespace arbor::query
