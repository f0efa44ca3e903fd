#include "query/expr.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <unordered_map>

#include "json/json.h"
#include "query/functions.h"
#include "query/tokenize.h"

namespace arbor::query {
namespace {

namespace bj = boost::json;

inline constexpr int expr_depth_max = 32;
inline constexpr std::size_t expr_children_max = 10'000;
inline constexpr std::size_t function_args_max = 64;

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
  if (!IsKnownFunction(e.function)) return InvalidArgument("unknown function '" + e.function + "'");
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
    case ExprOp::kIsNull:
    case ExprOp::kIsNotNull: {
      ASSIGN_OR_RETURN(Expr ce, ParseChild(o, "expr", op, depth));
      e.children.push_back(std::move(ce));
      return e;
    }
    default: {
      ASSIGN_OR_RETURN(Expr l, ParseChild(o, "left", op, depth));
      ASSIGN_OR_RETURN(Expr r, ParseChild(o, "right", op, depth));
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
    if (p < pattern.size() && (pattern[p] == '_' || pattern[p] == text[t])) {
      ++t;
      ++p;
    } else if (p < pattern.size() && pattern[p] == '%') {
      star_p = p++;
      star_t = t;
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
void CollectText(const bj::value& v, std::string& out) {
  if (v.is_string()) {
    out.append(v.get_string());
    out.push_back(' ');
  } else if (v.is_array()) {
    for (const auto& e : v.get_array()) CollectText(e, out);
  } else if (v.is_object()) {
    for (const auto& kv : v.get_object()) CollectText(kv.value(), out);
  } else if (!v.is_null()) {
    json::SerializeTo(v, out);
    out.push_back(' ');
  }
}

bool IsTrue(const bj::value& v) { return v.is_bool() && v.get_bool(); }

bj::value Compare(ExprOp op, const bj::value& l, const bj::value& r) {
  if (l.is_null() || r.is_null()) return nullptr;
  int c = json::Compare(l, r);
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

bj::value EvalBinary(const Expr& e, const bj::object& row) {
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
      if (l.is_null() || !r.is_string()) return false;
      std::string text;
      CollectText(l, text);
      return MatchTokens(Tokenize(text), r.get_string());
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
    case ExprOp::kAnd:
      return std::all_of(e.children.begin(), e.children.end(),
                         [&](const Expr& c) { return Matches(c, row); });
    case ExprOp::kOr:
      return std::any_of(e.children.begin(), e.children.end(),
                         [&](const Expr& c) { return Matches(c, row); });
    case ExprOp::kNot:
      return !Matches(e.children[0], row);
    case ExprOp::kIsNull:
      return Evaluate(e.children[0], row).is_null();
    case ExprOp::kIsNotNull:
      return !Evaluate(e.children[0], row).is_null();
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
