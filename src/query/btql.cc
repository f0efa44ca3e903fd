#include "query/btql.h"

#include <algorithm>

#include "base/limits.h"
#include "query/functions.h"

namespace arbor::query {
namespace {

namespace bj = boost::json;

inline constexpr std::size_t query_object_ids_max = 100;

StatusOr<ingest::ObjectType> SourceType(const std::string& name) {
  if (name == "experiment") return ingest::ObjectType::kExperiment;
  if (name == "dataset") return ingest::ObjectType::kDataset;
  if (name == "project_logs") return ingest::ObjectType::kProjectLogs;
  if (name == "playground_logs") return ingest::ObjectType::kPlaygroundLogs;
  return InvalidArgument("unknown source '" + name +
                         "': use experiment, dataset, project_logs or playground_logs");
}

Status ParseFrom(const bj::value* from, Query& q) {
  if (from == nullptr || !from->is_object()) return InvalidArgument("query needs a 'from' object");
  const bj::object& f = from->get_object();
  const bj::value* name = f.if_contains("name");
  const bj::value* args = f.if_contains("args");
  if (name == nullptr || !name->is_object()) return InvalidArgument("'from' needs a 'name'");
  const bj::value* parts = name->get_object().if_contains("name");
  if (parts == nullptr || !parts->is_array() || parts->get_array().size() != 1 ||
      !parts->get_array()[0].is_string()) {
    return InvalidArgument("'from.name' must be an ident with one part");
  }
  ASSIGN_OR_RETURN(q.source, SourceType(std::string(parts->get_array()[0].get_string())));
  if (args == nullptr || !args->is_array() || args->get_array().empty() ||
      args->get_array().size() > query_object_ids_max) {
    return InvalidArgument("'from.args' must list 1 to 100 object ids");
  }
  for (const auto& a : args->get_array()) {
    const bj::value* v = a.is_object() ? a.get_object().if_contains("value") : nullptr;
    if (v == nullptr || !v->is_string() || v->get_string().empty()) {
      return InvalidArgument("'from.args' entries must be string literals");
    }
    q.object_ids.emplace_back(v->get_string());
  }
  return Status::Ok();
}

Status ParseSelect(const bj::value* select, Query& q) {
  if (select == nullptr || select->is_null()) return Status::Ok();
  if (!select->is_array()) return InvalidArgument("'select' must be an array");
  for (const auto& item : select->get_array()) {
    if (!item.is_object()) return InvalidArgument("'select' items must be objects");
    const bj::object& o = item.get_object();
    if (const bj::value* op = o.if_contains("op");
        op && op->is_string() && op->get_string() == "star") {
      q.select.clear();
      return Status::Ok();  // star wins: every field
    }
    const bj::value* expr = o.if_contains("expr");
    const bj::value* alias = o.if_contains("alias");
    if (expr == nullptr || alias == nullptr || !alias->is_string()) {
      return InvalidArgument("'select' items need 'expr' and a string 'alias'");
    }
    ASSIGN_OR_RETURN(Expr e, ParseExpr(*expr));
    q.select.push_back({std::move(e), std::string(alias->get_string())});
  }
  return Status::Ok();
}

StatusOr<std::vector<SelectItem>> ParseItems(const bj::value* items, const char* clause) {
  std::vector<SelectItem> out;
  if (items == nullptr || items->is_null()) return out;
  if (!items->is_array()) return InvalidArgument(std::string("'") + clause + "' must be an array");
  for (const auto& item : items->get_array()) {
    const bj::value* expr = item.is_object() ? item.get_object().if_contains("expr") : nullptr;
    const bj::value* alias = item.is_object() ? item.get_object().if_contains("alias") : nullptr;
    if (expr == nullptr || alias == nullptr || !alias->is_string()) {
      return InvalidArgument(std::string("'") + clause +
                             "' items need 'expr' and a string 'alias'");
    }
    ASSIGN_OR_RETURN(Expr e, ParseExpr(*expr));
    out.push_back({std::move(e), std::string(alias->get_string())});
  }
  return out;
}

// any_span() asks about a span's trace; it means something only in a filter.
Status CheckNoAnySpan(const std::vector<SelectItem>& items, const char* clause) {
  for (const SelectItem& item : items) {
    if (ContainsOp(item.expr, ExprOp::kAnySpan)) {
      return InvalidArgument(std::string("any_span() belongs in 'filter', not in '") + clause +
                             "'");
    }
  }
  return Status::Ok();
}

Expr Ident(const std::string& name) {
  Expr e{.op = ExprOp::kIdent};
  e.path.push_back(name);
  return e;
}

bool IsOutputName(const Query& q, const std::string& name) {
  auto named = [&](const SelectItem& s) { return s.alias == name; };
  return std::any_of(q.dimensions.begin(), q.dimensions.end(), named) ||
         std::any_of(q.measures.begin(), q.measures.end(), named);
}

// Rewrites a HAVING expression to refer to output columns only: a dimension's expression
// becomes its name, an aggregate call becomes the measure computing it (a hidden one when no
// measure does), and other names must be output columns.
StatusOr<Expr> RewriteHaving(const Expr& e, Query& q) {
  for (const SelectItem& d : q.dimensions) {
    if (SameExpr(e, d.expr)) return Ident(d.alias);
  }
  if (e.op == ExprOp::kFunction && IsAggregateFunction(e.function)) {
    for (const SelectItem& m : q.measures) {
      if (SameExpr(e, m.expr)) return Ident(m.alias);
    }
    std::string alias;
    for (std::size_t n = q.hidden_measures;; ++n) {
      alias = "_having_" + std::to_string(n);
      if (!IsOutputName(q, alias)) break;
    }
    q.measures.push_back({e, alias});
    ++q.hidden_measures;
    return Ident(alias);
  }
  if (e.op == ExprOp::kIdent) {
    if (e.path.size() == 1 && IsOutputName(q, e.path[0])) return e;
    std::string name = e.path.front();
    for (std::size_t i = 1; i < e.path.size(); ++i) name += "." + e.path[i];
    return InvalidArgument("'having' can use only dimensions, measures and aggregates; '" + name +
                           "' is none of these");
  }
  if (e.op == ExprOp::kAnySpan)
    return InvalidArgument("any_span() belongs in 'filter', not in 'having'");
  Expr copy = e;
  for (Expr& c : copy.children) {
    ASSIGN_OR_RETURN(c, RewriteHaving(c, q));
  }
  return copy;
}

Status ParseAggregation(const bj::object& ast, Query& q) {
  ASSIGN_OR_RETURN(q.dimensions, ParseItems(ast.if_contains("dimensions"), "dimensions"));
  ASSIGN_OR_RETURN(q.measures, ParseItems(ast.if_contains("measures"), "measures"));
  for (const SelectItem& d : q.dimensions) {
    if (ContainsAggregate(d.expr)) {
      return InvalidArgument("dimension '" + d.alias + "' must not use an aggregate function");
    }
  }
  for (const SelectItem& m : q.measures) {
    if (m.expr.op != ExprOp::kFunction || !IsAggregateFunction(m.expr.function)) {
      return InvalidArgument("measure '" + m.alias +
                             "' must be an aggregate: count, count_distinct, sum, avg, min, max "
                             "or percentile");
    }
  }
  if (!q.select.empty() && (!q.dimensions.empty() || !q.measures.empty())) {
    return InvalidArgument("use either 'select' or 'dimensions'/'measures', not both");
  }
  for (const SelectItem& s : q.select) {
    if (ContainsAggregate(s.expr)) {
      return InvalidArgument("aggregate functions belong in 'measures', not 'select'");
    }
  }
  RETURN_IF_ERROR(CheckNoAnySpan(q.select, "select"));
  RETURN_IF_ERROR(CheckNoAnySpan(q.dimensions, "dimensions"));
  RETURN_IF_ERROR(CheckNoAnySpan(q.measures, "measures"));
  for (const SortItem& s : q.sort) {
    if (ContainsOp(s.expr, ExprOp::kAnySpan)) {
      return InvalidArgument("any_span() belongs in 'filter', not in 'sort'");
    }
  }
  return Status::Ok();
}

Status ParseHaving(const bj::value* having, Query& q) {
  if (having == nullptr || having->is_null()) return Status::Ok();
  if (q.dimensions.empty() && q.measures.empty()) {
    return InvalidArgument("'having' filters aggregated rows; it needs 'dimensions' or 'measures'");
  }
  ASSIGN_OR_RETURN(Expr e, ParseExpr(*having));
  ASSIGN_OR_RETURN(Expr rewritten, RewriteHaving(e, q));
  q.having = std::move(rewritten);
  return Status::Ok();
}

Status ParseFilter(const bj::value* filter, Query& q) {
  if (filter == nullptr || filter->is_null()) return Status::Ok();
  if (filter->is_array()) {  // an array of filters means AND
    Expr all{.op = ExprOp::kAnd};
    for (const auto& f : filter->get_array()) {
      ASSIGN_OR_RETURN(Expr e, ParseExpr(f));
      all.children.push_back(std::move(e));
    }
    q.filter = std::move(all);
    return Status::Ok();
  }
  ASSIGN_OR_RETURN(Expr e, ParseExpr(*filter));
  q.filter = std::move(e);
  return Status::Ok();
}

Status ParseSort(const bj::value* sort, Query& q) {
  if (sort == nullptr || sort->is_null()) return Status::Ok();
  if (!sort->is_array()) return InvalidArgument("'sort' must be an array");
  for (const auto& item : sort->get_array()) {
    const bj::value* expr = item.is_object() ? item.get_object().if_contains("expr") : nullptr;
    if (expr == nullptr) return InvalidArgument("'sort' items need 'expr'");
    const bj::value* dir = item.get_object().if_contains("dir");
    ASSIGN_OR_RETURN(Expr e, ParseExpr(*expr));
    bool desc = dir && dir->is_string() && dir->get_string() == "desc";
    q.sort.push_back({std::move(e), desc});
  }
  return Status::Ok();
}

// `shape` may sit at the top level or inside `from` (both forms are in use).
Status ParseShape(const bj::object& ast, Query& q) {
  const bj::value* shape = ast.if_contains("shape");
  if (const bj::value* from = ast.if_contains("from");
      (shape == nullptr || shape->is_null()) && from != nullptr && from->is_object()) {
    shape = from->get_object().if_contains("shape");
  }
  if (shape == nullptr || shape->is_null()) return Status::Ok();
  if (!shape->is_string()) return InvalidArgument("'shape' must be spans, traces or summary");
  std::string_view s = shape->get_string();
  if (s == "spans") {
    q.shape = Shape::kSpans;
  } else if (s == "traces") {
    q.shape = Shape::kTraces;
  } else if (s == "summary") {
    q.shape = Shape::kSummary;
  } else {
    return InvalidArgument("unknown shape '" + std::string(s) + "': use spans, traces or summary");
  }
  return Status::Ok();
}

}  // namespace

StatusOr<Query> ParseQueryAst(const bj::object& ast) {
  Query q;
  RETURN_IF_ERROR(ParseFrom(ast.if_contains("from"), q));
  RETURN_IF_ERROR(ParseSelect(ast.if_contains("select"), q));
  RETURN_IF_ERROR(ParseFilter(ast.if_contains("filter"), q));
  RETURN_IF_ERROR(ParseSort(ast.if_contains("sort"), q));
  RETURN_IF_ERROR(ParseShape(ast, q));
  RETURN_IF_ERROR(ParseAggregation(ast, q));
  RETURN_IF_ERROR(ParseHaving(ast.if_contains("having"), q));
  if (const bj::value* p = ast.if_contains("preview_length"); p && !p->is_null()) {
    if (!p->is_int64() || p->get_int64() < 0 || p->get_int64() > 1'000'000) {
      return InvalidArgument("'preview_length' must be an integer from 0 to 1000000");
    }
    q.preview_length = static_cast<std::size_t>(p->get_int64());
  }
  q.limit = limits::btql_limit_default;
  if (const bj::value* limit = ast.if_contains("limit"); limit && !limit->is_null()) {
    if (!limit->is_int64() || limit->get_int64() < 0) {
      return InvalidArgument("'limit' must be a non-negative integer");
    }
    q.limit =
        std::min<std::size_t>(static_cast<std::size_t>(limit->get_int64()), limits::btql_limit_max);
  }
  if (const bj::value* cursor = ast.if_contains("cursor"); cursor && !cursor->is_null()) {
    if (!cursor->is_string()) return InvalidArgument("'cursor' must be a string");
    q.cursor = std::string(cursor->get_string());
  }
  return q;
}

}  // namespace arbor::query
