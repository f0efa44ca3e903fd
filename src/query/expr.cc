#include "query/expr.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <unordered_map>

#include "base/tokenize.h"
#include "json/json.h"
#include "query/functions.h"

namespace arbor::query {
namespace {

namespace bj = boost::json;

inline constexpr int expr_depth_max = 32;
inline constexpr std::size_t expr_children_max = 10'000;
inline constexpr std::size_t function_args_max = 64;
// Intervals stay within what keeps timestamp arithmetic in 64 bits: 9999 years either way.
inline constexpr std::int64_t interval_months_max = 9999 * 12;
inline constexpr std::int64_t interval_micros_max = 9999LL * 366 * 86'400 * 1'000'000;

const std::unordered_map<std::string, ExprOp>& OpNames() {
  static const std::unordered_map<std::string, ExprOp> names = {
      {"ident", ExprOp::kIdent},
      {"literal", ExprOp::kLiteral},
      {"eq", ExprOp::kEq},
      {"ne", ExprOp::kNe},
      {"lt", ExprOp::kLt},
      {"le", ExprOp::kLe},
      {"gt", ExprOp::kGt},
      {"ge", ExprOp::kGe},
      {"and", ExprOp::kAnd},
      {"or", ExprOp::kOr},
      {"not", ExprOp::kNot},
      {"isnull", ExprOp::kIsNull},
      {"isnotnull", ExprOp::kIsNotNull},
      {"in", ExprOp::kIn},
      {"like", ExprOp::kLike},
      {"ilike", ExprOp::kILike},
      {"match", ExprOp::kMatch},
      {"includes", ExprOp::kIncludes},
      {"function", ExprOp::kFunction},
      {"add", ExprOp::kAdd},
      {"sub", ExprOp::kSub},
      {"mul", ExprOp::kMul},
      {"div", ExprOp::kDiv},
      {"mod", ExprOp::kMod},
      {"neg", ExprOp::kNeg},
      {"interval", ExprOp::kInterval},
      {"if", ExprOp::kIf},
  };
  return names;
}

StatusOr<Expr> ParseNode(const bj::value& node, int depth);
std::string Lower(std::string_view s);

StatusOr<Expr> ParseChild(const bj::object& o, const char* field, const std::string& op,
                          int depth) {
  const bj::value* v = o.if_contains(field);
  if (v == nullptr) return InvalidArgument("'" + op + "' needs '" + field + "'");
  return ParseNode(*v, depth + 1);
}

StatusOr<Expr> ParseIdent(const bj::object& o) {
  Expr e{.op = ExprOp::kIdent};
  const bj::value* name = o.if_contains("name");
  if (name == nullptr || !name->is_array() || name->get_array().empty()) {
    return InvalidArgument("'ident' needs a non-empty 'name' array");
  }
  for (const auto& part : name->get_array()) {
    if (part.is_string()) {
      e.path.emplace_back(part.get_string());
    } else if (part.is_int64()) {
      e.path.push_back(std::to_string(part.get_int64()));
    } else {
      return InvalidArgument("'ident' name parts must be strings or integers");
    }
  }
  return e;
}

StatusOr<Expr> AnySpan(Expr call) {
  if (call.children.size() != 1) {
    return InvalidArgument("'any_span' takes one argument: the predicate a span must satisfy");
  }
  if (ContainsOp(call.children[0], ExprOp::kAnySpan)) {
    return InvalidArgument("'any_span' cannot be nested inside another 'any_span'");
  }
  Expr e{.op = ExprOp::kAnySpan};
  e.children.push_back(std::move(call.children[0]));
  return e;
}

struct IntervalUnit {
  const char* name;
  std::int64_t months;
  std::int64_t micros;
};

// BTQL's interval units, plus `week` (7 days); plural spellings are accepted too.
std::optional<IntervalUnit> UnitNamed(std::string unit) {
  static constexpr IntervalUnit kUnits[] = {
      {"year", 12, 0},
      {"month", 1, 0},
      {"week", 0, 7 * 86'400'000'000LL},
      {"day", 0, 86'400'000'000LL},
      {"hour", 0, 3'600'000'000LL},
      {"minute", 0, 60'000'000},
      {"second", 0, 1'000'000},
      {"millisecond", 0, 1'000},
      {"microsecond", 0, 1},
  };
  unit = Lower(unit);
  if (unit.size() > 1 && unit.back() == 's') unit.pop_back();
  for (const IntervalUnit& u : kUnits) {
    if (unit == u.name) return u;
  }
  return std::nullopt;
}

// {"op":"interval","value":3,"unit":"day"}
StatusOr<Expr> ParseInterval(const bj::object& o) {
  const bj::value* value = o.if_contains("value");
  const bj::value* unit = o.if_contains("unit");
  std::optional<IntervalUnit> u;
  if (unit != nullptr && unit->is_string()) u = UnitNamed(std::string(unit->get_string()));
  if (!u) {
    return InvalidArgument(
        "'interval' needs a 'unit': year, month, week, day, hour, minute, second, millisecond "
        "or microsecond");
  }
  double n = value != nullptr && value->is_number() ? value->to_number<double>() : 0.5;
  if (n != std::floor(n)) return InvalidArgument("'interval' needs a whole-number 'value'");
  const double limit = u->months != 0 ? static_cast<double>(interval_months_max / u->months)
                                      : static_cast<double>(interval_micros_max / u->micros);
  if (std::fabs(n) > limit) return InvalidArgument("'interval' value is out of range");
  Expr e{.op = ExprOp::kInterval};
  e.months = static_cast<std::int64_t>(n) * u->months;
  e.micros = static_cast<std::int64_t>(n) * u->micros;
  return e;
}

// {"op":"if","conds":[{"cond":c,"then":t},...],"else":e}; a missing else is null.
StatusOr<Expr> ParseIf(const bj::object& o, int depth) {
  const bj::value* conds = o.if_contains("conds");
  if (conds == nullptr || !conds->is_array() || conds->get_array().empty() ||
      conds->get_array().size() > expr_children_max) {
    return InvalidArgument("'if' needs a non-empty 'conds' array of {cond, then}");
  }
  Expr e{.op = ExprOp::kIf};
  for (const auto& c : conds->get_array()) {
    if (!c.is_object()) return InvalidArgument("'if' conds must be objects with cond and then");
    ASSIGN_OR_RETURN(Expr cond, ParseChild(c.get_object(), "cond", "if", depth));
    ASSIGN_OR_RETURN(Expr then, ParseChild(c.get_object(), "then", "if", depth));
    e.children.push_back(std::move(cond));
    e.children.push_back(std::move(then));
  }
  const bj::value* otherwise = o.if_contains("else");
  if (otherwise == nullptr || otherwise->is_null()) {
    e.children.push_back(Expr{.op = ExprOp::kLiteral});
  } else {
    ASSIGN_OR_RETURN(Expr el, ParseNode(*otherwise, depth + 1));
    e.children.push_back(std::move(el));
  }
  return e;
}

StatusOr<Expr> ParseFunction(const bj::object& o, int depth) {
  Expr e{.op = ExprOp::kFunction};
  const bj::value* name = o.if_contains("name");
  const bj::value* parts =
      name && name->is_object() ? name->get_object().if_contains("name") : nullptr;
  if (parts == nullptr || !parts->is_array() || parts->get_array().size() != 1 ||
      !parts->get_array()[0].is_string()) {
    return InvalidArgument("'function' needs a 'name' ident with one part");
  }
  e.function = Lower(parts->get_array()[0].get_string());
  const bool any_span = e.function == "any_span";
  if (!any_span && !IsKnownFunction(e.function)) {
    return InvalidArgument("unknown function '" + e.function + "'");
  }
  const bj::value* args = o.if_contains("args");
  if (args != nullptr && !args->is_null()) {
    if (!args->is_array() || args->get_array().size() > function_args_max) {
      return InvalidArgument("'" + e.function + "' args must be an array");
    }
    for (const auto& a : args->get_array()) {
      ASSIGN_OR_RETURN(Expr ae, ParseNode(a, depth + 1));
      e.children.push_back(std::move(ae));
    }
  }
  if (any_span) return AnySpan(std::move(e));
  return e;
}

StatusOr<Expr> ParseNode(const bj::value& node, int depth) {
  if (depth > expr_depth_max) return InvalidArgument("expression is nested too deeply");
  if (!node.is_object()) return InvalidArgument("expression nodes must be JSON objects");
  const bj::object& o = node.get_object();
  const bj::value* opv = o.if_contains("op");
  if (opv == nullptr || !opv->is_string()) return InvalidArgument("expression node lacks 'op'");
  std::string op(opv->get_string());
  auto it = OpNames().find(op);
  if (it == OpNames().end()) return InvalidArgument("unsupported expression op '" + op + "'");
  Expr e{.op = it->second};
  switch (e.op) {
    case ExprOp::kIdent:
      return ParseIdent(o);
    case ExprOp::kFunction:
      return ParseFunction(o, depth);
    case ExprOp::kInterval:
      return ParseInterval(o);
    case ExprOp::kIf:
      return ParseIf(o, depth);
    case ExprOp::kLiteral: {
      const bj::value* v = o.if_contains("value");
      e.literal = v ? *v : bj::value(nullptr);
      return e;
    }
    case ExprOp::kAnd:
    case ExprOp::kOr: {
      const bj::value* c = o.if_contains("children");
      if (c == nullptr || !c->is_array() || c->get_array().size() > expr_children_max) {
        return InvalidArgument("'" + op + "' needs a 'children' array");
      }
      for (const auto& child : c->get_array()) {
        ASSIGN_OR_RETURN(Expr ce, ParseNode(child, depth + 1));
        e.children.push_back(std::move(ce));
      }
      return e;
    }
    case ExprOp::kNot:
    case ExprOp::kNeg:
    case ExprOp::kIsNull:
    case ExprOp::kIsNotNull: {
      ASSIGN_OR_RETURN(Expr ce, ParseChild(o, "expr", op, depth));
      e.children.push_back(std::move(ce));
      return e;
    }
    default: {
      // The SDKs' AST names the operands of `includes` haystack and needle.
      const bool named = e.op == ExprOp::kIncludes && o.contains("haystack");
      ASSIGN_OR_RETURN(Expr l, ParseChild(o, named ? "haystack" : "left", op, depth));
      ASSIGN_OR_RETURN(Expr r, ParseChild(o, named ? "needle" : "right", op, depth));
      e.children.push_back(std::move(l));
      e.children.push_back(std::move(r));
      return e;
    }
  }
}

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// SQL LIKE with % and _ over bytes.
bool LikeMatch(std::string_view text, std::string_view pattern) {
  std::size_t t = 0, p = 0, star_p = std::string_view::npos, star_t = 0;
  while (t < text.size()) {
    // '%' first: it is a wildcard even where the text holds a literal '%'.
    if (p < pattern.size() && pattern[p] == '%') {
      star_p = p++;
      star_t = t;
    } else if (p < pattern.size() && (pattern[p] == '_' || pattern[p] == text[t])) {
      ++t;
      ++p;
    } else if (star_p != std::string_view::npos) {
      p = star_p + 1;
      t = ++star_t;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '%') ++p;
  return p == pattern.size();
}

// Every string leaf under v, concatenated: what full-text match looks in.
bool IsTrue(const bj::value& v) { return v.is_bool() && v.get_bool(); }

// Two timestamps compare as times, whatever their precision or zone ("...:00Z" equals
// "...:00.000Z"); a timestamp and a string that is not one do not compare (null), as a typed
// column would refuse the cast; everything else in json::Compare's total order.
std::optional<int> CompareValues(const bj::value& l, const bj::value& r) {
  if (l.is_string() && r.is_string()) {
    auto a = ParseTimestampMicros(l.get_string());
    auto b = ParseTimestampMicros(r.get_string());
    if (a && b) return *a < *b ? -1 : (*a > *b ? 1 : 0);
    if (a || b) return std::nullopt;
  }
  return json::Compare(l, r);
}

bj::value Compare(ExprOp op, const bj::value& l, const bj::value& r) {
  if (l.is_null() || r.is_null()) return nullptr;
  std::optional<int> compared = CompareValues(l, r);
  if (!compared) return nullptr;
  const int c = *compared;
  switch (op) {
    case ExprOp::kEq:
      return c == 0;
    case ExprOp::kNe:
      return c != 0;
    case ExprOp::kLt:
      return c < 0;
    case ExprOp::kLe:
      return c <= 0;
    case ExprOp::kGt:
      return c > 0;
    default:
      return c >= 0;
  }
}

// Arithmetic on numbers; anything else (or division by zero) is null, as in SQL.
bj::value Arithmetic(ExprOp op, const bj::value& l, const bj::value& r) {
  if (!l.is_number() || !r.is_number()) return nullptr;
  double x = l.to_number<double>(), y = r.to_number<double>();
  switch (op) {
    case ExprOp::kAdd:
      return x + y;
    case ExprOp::kSub:
      return x - y;
    case ExprOp::kMul:
      return x * y;
    case ExprOp::kDiv:
      return y == 0 ? bj::value(nullptr) : bj::value(x / y);
    default:
      return y == 0 ? bj::value(nullptr) : bj::value(std::fmod(x, y));
  }
}

// time ± interval; interval + time. Other uses of an interval are null.
std::optional<bj::value> IntervalArithmetic(const Expr& e, const bj::object& row) {
  if (e.op != ExprOp::kAdd && e.op != ExprOp::kSub) return std::nullopt;
  const Expr& l = e.children[0];
  const Expr& r = e.children[1];
  if (r.op == ExprOp::kInterval && l.op != ExprOp::kInterval) {
    const std::int64_t sign = e.op == ExprOp::kSub ? -1 : 1;
    return ShiftTime(Evaluate(l, row), sign * r.months, sign * r.micros);
  }
  if (l.op == ExprOp::kInterval && r.op != ExprOp::kInterval && e.op == ExprOp::kAdd) {
    return ShiftTime(Evaluate(r, row), l.months, l.micros);
  }
  if (l.op == ExprOp::kInterval || r.op == ExprOp::kInterval) return bj::value(nullptr);
  return std::nullopt;
}

bj::value Negate(const bj::value& v) {
  if (v.is_int64() && v.get_int64() != INT64_MIN) return -v.get_int64();
  if (v.is_number()) return -v.to_number<double>();
  return nullptr;
}

bj::value EvalIf(const Expr& e, const bj::object& row) {
  const std::size_t n = e.children.size();
  for (std::size_t i = 0; i + 1 < n; i += 2) {
    if (Matches(e.children[i], row)) return Evaluate(e.children[i + 1], row);  // null: not taken
  }
  return Evaluate(e.children[n - 1], row);
}

// MATCH: every token of `query` among the text's tokens (a quoted phrase: consecutively). A
// plain query streams the text's tokens instead of collecting them: span text runs to
// kilobytes, and this runs once per scanned row.
bool MatchText(const bj::value& l, std::string_view query) {
  std::string text;
  json::CollectText(l, text);
  if (query.size() >= 2 && query.front() == '"' && query.back() == '"') {
    return MatchTokens(Tokenize(text), query);
  }
  std::vector<std::string> wanted = QueryTokens(query);
  if (wanted.empty()) return false;
  std::vector<bool> found(wanted.size());
  std::size_t missing = wanted.size();
  ForEachToken(text, [&](std::string_view token) {
    for (std::size_t i = 0; missing > 0 && i < wanted.size(); ++i) {
      if (!found[i] && wanted[i] == token) {
        found[i] = true;
        --missing;
      }
    }
  });
  return missing == 0;
}

bj::value EvalBinary(const Expr& e, const bj::object& row) {
  if (auto shifted = IntervalArithmetic(e, row)) return std::move(*shifted);
  if (const Expr& f = e.children[0]; e.op == ExprOp::kMatch && f.op == ExprOp::kIdent &&
                                     !(f.path.size() == 1 && f.path[0] == "is_root")) {
    const bj::value* l = json::FindPath(row, f.path);  // the field itself, not a copy
    bj::value r = Evaluate(e.children[1], row);
    return l != nullptr && !l->is_null() && r.is_string() && MatchText(*l, r.get_string());
  }
  bj::value l = Evaluate(e.children[0], row);
  bj::value r = Evaluate(e.children[1], row);
  switch (e.op) {
    case ExprOp::kAdd:
    case ExprOp::kSub:
    case ExprOp::kMul:
    case ExprOp::kDiv:
    case ExprOp::kMod:
      return Arithmetic(e.op, l, r);
    case ExprOp::kIn: {
      if (l.is_null() || !r.is_array()) return nullptr;
      const bj::array& a = r.get_array();
      return std::any_of(a.begin(), a.end(),
                         [&](const bj::value& x) { return json::Equals(l, x); });
    }
    case ExprOp::kLike:
    case ExprOp::kILike: {
      if (!l.is_string() || !r.is_string()) return nullptr;
      if (e.op == ExprOp::kLike) return LikeMatch(l.get_string(), r.get_string());
      return LikeMatch(Lower(l.get_string()), Lower(r.get_string()));
    }
    case ExprOp::kMatch: {
      return !l.is_null() && r.is_string() && MatchText(l, r.get_string());
    }
    case ExprOp::kIncludes: {
      if (!l.is_array()) return false;
      const bj::array& a = l.get_array();
      return std::any_of(a.begin(), a.end(),
                         [&](const bj::value& x) { return json::Equals(x, r); });
    }
    default:
      return Compare(e.op, l, r);
  }
}

}  // namespace

bool ContainsAggregate(const Expr& e) {
  if (e.op == ExprOp::kFunction && IsAggregateFunction(e.function)) return true;
  return std::any_of(e.children.begin(), e.children.end(),
                     [](const Expr& c) { return ContainsAggregate(c); });
}

bool IsRoot(const bj::object& row) {
  const bj::value* parents = row.if_contains("span_parents");
  return parents == nullptr || parents->is_null() ||
         (parents->is_array() && parents->get_array().empty());
}

bool ContainsOp(const Expr& e, ExprOp op) {
  if (e.op == op) return true;
  return std::any_of(e.children.begin(), e.children.end(),
                     [op](const Expr& c) { return ContainsOp(c, op); });
}

bool SameExpr(const Expr& a, const Expr& b) {
  if (a.op != b.op || a.path != b.path || a.function != b.function || a.months != b.months ||
      a.micros != b.micros || !json::Equals(a.literal, b.literal) ||
      a.children.size() != b.children.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.children.size(); ++i) {
    if (!SameExpr(a.children[i], b.children[i])) return false;
  }
  return true;
}

std::string TraceScopeKey(const bj::object& row) {
  std::string key;
  for (const char* field : {"experiment_id", "dataset_id", "prompt_session_id", "project_id"}) {
    const bj::value* v = row.if_contains(field);
    if (v != nullptr && v->is_string()) {
      key = v->get_string();
      break;
    }
  }
  key.push_back('/');
  for (const char* field : {"root_span_id", "id"}) {
    const bj::value* v = row.if_contains(field);
    if (v != nullptr && v->is_string()) {
      key.append(v->get_string());
      break;
    }
  }
  return key;
}

Expr ResolveAnySpan(const Expr& e, const TraceKeysOf& traces_matching) {
  if (e.op == ExprOp::kAnySpan) {
    Expr resolved{.op = ExprOp::kTraceIn};
    resolved.trace_keys = traces_matching(e.children[0]);
    return resolved;
  }
  Expr copy = e;
  for (Expr& c : copy.children) c = ResolveAnySpan(c, traces_matching);
  return copy;
}

StatusOr<Expr> ParseExpr(const bj::value& node) { return ParseNode(node, 0); }

bj::value Evaluate(const Expr& e, const bj::object& row) {
  switch (e.op) {
    case ExprOp::kLiteral:
      return e.literal;
    case ExprOp::kIdent: {
      if (e.path.size() == 1 && e.path[0] == "is_root") return IsRoot(row);
      const bj::value* v = json::FindPath(row, e.path);
      return v ? *v : bj::value(nullptr);
    }
    // Three-valued logic as in SQL: null is "unknown", so NOT (x = 1) excludes rows without x
    // just as x != 1 does, and a filter keeps a row only when it is true.
    case ExprOp::kAnd: {
      bool unknown = false;
      for (const Expr& c : e.children) {
        bj::value v = Evaluate(c, row);
        if (v.is_null()) {
          unknown = true;
        } else if (!IsTrue(v)) {
          return false;
        }
      }
      return unknown ? bj::value(nullptr) : bj::value(true);
    }
    case ExprOp::kOr: {
      bool unknown = false;
      for (const Expr& c : e.children) {
        bj::value v = Evaluate(c, row);
        if (IsTrue(v)) return true;
        unknown = unknown || v.is_null();
      }
      return unknown ? bj::value(nullptr) : bj::value(false);
    }
    case ExprOp::kNot: {
      bj::value v = Evaluate(e.children[0], row);
      return v.is_null() ? bj::value(nullptr) : bj::value(!IsTrue(v));
    }
    case ExprOp::kIsNull:
      return Evaluate(e.children[0], row).is_null();
    case ExprOp::kIsNotNull:
      return !Evaluate(e.children[0], row).is_null();
    case ExprOp::kNeg:
      return Negate(Evaluate(e.children[0], row));
    case ExprOp::kInterval:
      return nullptr;  // meaningful only added to or subtracted from a time
    case ExprOp::kIf:
      return EvalIf(e, row);
    case ExprOp::kAnySpan:
      return Matches(e.children[0], row);
    case ExprOp::kTraceIn:
      return e.trace_keys != nullptr && e.trace_keys->count(TraceScopeKey(row)) > 0;
    case ExprOp::kFunction: {
      if (IsAggregateFunction(e.function)) return nullptr;  // only meaningful over a group
      std::vector<bj::value> args;
      args.reserve(e.children.size());
      for (const Expr& c : e.children) args.push_back(Evaluate(c, row));
      return CallScalar(e.function, args);
    }
    default:
      return EvalBinary(e, row);
  }
}

bool Matches(const Expr& expr, const bj::object& row) { return IsTrue(Evaluate(expr, row)); }

}  // namespace arbor::query
