#include "query/ranges.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

#include "query/functions.h"

namespace arbor::query {
namespace {

namespace bj = boost::json;

constexpr double kInf = std::numeric_limits<double>::infinity();

void Conjuncts(const Expr& e, std::vector<const Expr*>& out) {
  if (e.op != ExprOp::kAnd) {
    out.push_back(&e);
    return;
  }
  for (const Expr& c : e.children) Conjuncts(c, out);
}

// A step json::FindPath would take as an array index. Column statistics are kept per object
// key, so a path that may step into an array is left alone.
bool IsIndexStep(const std::string& step) {
  long long index = 0;
  auto [end, ec] = std::from_chars(step.data(), step.data() + step.size(), index);
  return ec == std::errc() && end == step.data() + step.size();
}

// A stored field: Evaluate reads the value at its path (is_root is computed instead).
bool IsPlainField(const Expr& e) {
  if (e.op != ExprOp::kIdent || e.path.empty()) return false;
  if (e.path.size() == 1 && e.path[0] == "is_root") return false;
  return std::none_of(e.path.begin() + 1, e.path.end(), IsIndexStep);
}

// Row-independent: no field, no any_span, no function (now() changes while a scan runs).
bool IsConstant(const Expr& e) {
  if (e.op == ExprOp::kIdent || e.op == ExprOp::kFunction || e.op == ExprOp::kTraceIn ||
      e.op == ExprOp::kAnySpan) {
    return false;
  }
  return std::all_of(e.children.begin(), e.children.end(), IsConstant);
}

// The operator with its operands swapped: `5 < x` is `x > 5`.
ExprOp Mirror(ExprOp op) {
  switch (op) {
    case ExprOp::kLt:
      return ExprOp::kGt;
    case ExprOp::kLe:
      return ExprOp::kGe;
    case ExprOp::kGt:
      return ExprOp::kLt;
    case ExprOp::kGe:
      return ExprOp::kLe;
    default:
      return op;
  }
}

// `field op d` for a number d: json::Compare orders numbers as doubles, so a number passes
// only inside these bounds (other types rank below or above every number and may pass).
storage::ColumnRange NumberRange(storage::FieldPath path, ExprOp op, double d) {
  storage::ColumnRange r{.path = std::move(path)};
  if (std::isnan(d)) return r;  // NaN compares "equal" to every number in json::Compare
  switch (op) {
    case ExprOp::kEq:
      r.lo = r.hi = d;
      break;
    case ExprOp::kLt:
      r.hi = std::nextafter(d, -kInf);
      break;
    case ExprOp::kLe:
      r.hi = d;
      break;
    case ExprOp::kGt:
      r.lo = std::nextafter(d, kInf);
      break;
    case ExprOp::kGe:
      r.lo = d;
      break;
    default:
      break;  // `!=` rules out only nothing and null
  }
  return r;
}

// `field op c` for a constant c. Any comparison with null is null, so a row without the
// field fails whatever c is.
storage::ColumnRange ComparisonRange(storage::FieldPath path, ExprOp op, const bj::value& c) {
  if (c.is_number()) return NumberRange(std::move(path), op, c.to_number<double>());
  storage::ColumnRange r{.path = std::move(path)};
  // Two timestamps compare as times ("...:00Z" equals "...:00.000Z"), so only a string that
  // is not one pins the value to itself.
  if (op == ExprOp::kEq && c.is_string() && !ParseTimestampMicros(c.get_string())) {
    r.equals = std::string(c.get_string());
  }
  return r;
}

// `field IN [...]`: json::Equals against each element (no timestamp rule).
storage::ColumnRange InRange(storage::FieldPath path, const bj::value& list) {
  storage::ColumnRange r{.path = std::move(path)};
  if (!list.is_array() || list.get_array().empty()) return r;
  const bj::array& a = list.get_array();
  if (a.size() == 1 && a[0].is_string()) {
    r.equals = std::string(a[0].get_string());
    return r;
  }
  if (!std::all_of(a.begin(), a.end(), [](const bj::value& v) { return v.is_number(); })) {
    return r;
  }
  r.lo = kInf;
  r.hi = -kInf;
  for (const bj::value& v : a) {
    r.lo = std::min(r.lo, v.to_number<double>());
    r.hi = std::max(r.hi, v.to_number<double>());
  }
  return r;
}

std::optional<storage::ColumnRange> ComparisonConjunct(const Expr& e) {
  const Expr& l = e.children[0];
  const Expr& r = e.children[1];
  if (IsPlainField(l) && IsConstant(r)) {
    return ComparisonRange(l.path, e.op, Evaluate(r, bj::object()));
  }
  if (IsPlainField(r) && IsConstant(l)) {
    return ComparisonRange(r.path, Mirror(e.op), Evaluate(l, bj::object()));
  }
  return std::nullopt;
}

std::optional<storage::ColumnRange> RangeOf(const Expr& e) {
  switch (e.op) {
    case ExprOp::kEq:
    case ExprOp::kNe:
    case ExprOp::kLt:
    case ExprOp::kLe:
    case ExprOp::kGt:
    case ExprOp::kGe:
      return ComparisonConjunct(e);
    case ExprOp::kIn:
      if (!IsPlainField(e.children[0]) || !IsConstant(e.children[1])) return std::nullopt;
      return InRange(e.children[0].path, Evaluate(e.children[1], bj::object()));
    case ExprOp::kIsNotNull:
      if (!IsPlainField(e.children[0])) return std::nullopt;
      return storage::ColumnRange{.path = e.children[0].path};
    case ExprOp::kLike:
    case ExprOp::kILike:
    case ExprOp::kMatch:
    case ExprOp::kIncludes:
      // Each is false (or null) where its left operand is null.
      if (!IsPlainField(e.children[0])) return std::nullopt;
      return storage::ColumnRange{.path = e.children[0].path};
    default:
      return std::nullopt;
  }
}

}  // namespace

std::vector<storage::ColumnRange> RangesOf(const std::optional<Expr>& filter) {
  std::vector<storage::ColumnRange> out;
  if (!filter) return out;
  std::vector<const Expr*> conjuncts;
  Conjuncts(*filter, conjuncts);
  for (const Expr* c : conjuncts) {
    if (auto r = RangeOf(*c)) out.push_back(std::move(*r));
  }
  return out;
}

}  // namespace arbor::query
