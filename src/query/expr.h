// Filter expressions of the BTQL JSON AST (protocol §4.1) and their evaluation on a row.
#pragma once

#include <boost/json.hpp>
#include <memory>
#include <string>
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
};

struct Expr {
  ExprOp op = ExprOp::kLiteral;
  std::vector<std::string> path;  // kIdent
  boost::json::value literal;     // kLiteral
  std::vector<Expr> children;     // operands, in order
  std::string function;           // kFunction: lower-case name
};

// Aggregate functions are evaluated over groups (query/aggregate.cc), never per row.
bool IsAggregateFunction(const std::string& name);
bool ContainsAggregate(const Expr& expr);

// Parses an AST node; errors name the offending op. Depth is bounded.
StatusOr<Expr> ParseExpr(const boost::json::value& node);

// The value of an expression on `row`; missing paths and non-values evaluate to null.
boost::json::value Evaluate(const Expr& expr, const boost::json::object& row);
// A span is a root when it has no parents (protocol §3.3); `is_root` is a virtual column.
bool IsRoot(const boost::json::object& row);

// SQL-ish truth: only a boolean true passes a filter.
bool Matches(const Expr& expr, const boost::json::object& row);

}  // namespace arbor::query
