// For tests: random rows and random expressions over a small pool of fields, with values of
// every JSON type (and the awkward ones: -0.0, integers beyond 2^53, timestamps at different
// precisions, strings that look like numbers, arrays on object paths) so that evaluation,
// projection and range rules meet the corners of json::Compare and json::FindPath.
#pragma once

#include <boost/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "query/expr.h"

namespace arbor::query::testing {

namespace bj = boost::json;

class RandomGen {
 public:
  explicit RandomGen(std::uint32_t seed) : rng_(seed) {}

  std::uint32_t Next(std::uint32_t n) { return static_cast<std::uint32_t>(rng_() % n); }
  bool Coin(std::uint32_t one_in) { return Next(one_in) == 0; }

  bj::value Scalar() {
    static const char* strings[] = {"alpha",
                                    "beta",
                                    "gamma delta",
                                    "",
                                    "5",
                                    "-0",
                                    "Beta",
                                    "2026-01-01T10:00:00Z",
                                    "2026-01-01T10:00:00.000Z",
                                    "2026-01-02",
                                    "2026-01-01T11:00:00+01:00"};
    switch (Next(12)) {
      case 0:
        return nullptr;
      case 1:
        return Coin(2);
      case 2:
      case 3:
        return static_cast<std::int64_t>(Next(12)) - 3;
      case 4: {
        static const double doubles[] = {0.5, -0.0, 0.0, 1.25, 2.0, -2.5, 1e-300, 3.0};
        return doubles[Next(8)];
      }
      case 5: {
        static const std::int64_t big[] = {9007199254740992LL, 9007199254740993LL, INT64_MIN,
                                           INT64_MAX};
        return big[Next(4)];
      }
      case 6:
        return Coin(2) ? bj::value(std::uint64_t{18446744073709551615ULL})
                       : bj::value(std::uint64_t{3});
      default:
        return strings[Next(11)];
    }
  }

  bj::value Value(int depth) {
    if (depth <= 0) return Scalar();
    switch (Next(6)) {
      case 0: {
        bj::array a;
        for (int i = static_cast<int>(Next(4)); i > 0; --i) a.push_back(Value(depth - 1));
        return a;
      }
      case 1:
      case 2:
        return Object(depth - 1);
      default:
        return Scalar();
    }
  }

  // Keys in random order: projections must keep the order of the stored object.
  bj::object Object(int depth) {
    static const char* keys[] = {"x", "y", "0", "1", "z", "text"};
    bj::object o;
    for (int i = static_cast<int>(Next(4)); i > 0; --i) o[keys[Next(6)]] = Value(depth);
    return o;
  }

  bj::object Row() {
    static const char* fields[] = {"id",
                                   "root_span_id",
                                   "experiment_id",
                                   "project_id",
                                   "dataset_id",
                                   "span_parents",
                                   "n",
                                   "s",
                                   "b",
                                   "metadata",
                                   "scores",
                                   "metrics",
                                   "arr",
                                   "comment",
                                   "is_root",
                                   "created",
                                   "input",
                                   "output",
                                   "expected",
                                   "comments",
                                   "tags"};
    bj::object row;
    for (const char* f : fields) {
      if (Coin(3)) continue;
      row[f] = Field(f);
    }
    return row;
  }

  bj::value Field(const std::string& name) {
    if (name == "span_parents") {
      switch (Next(5)) {
        case 0:
          return nullptr;
        case 1:
          return bj::array{};
        case 2:
          return bj::array{"p"};
        default:
          return Value(1);
      }
    }
    if (name == "id" || name == "root_span_id") {
      return Coin(5) ? Value(1) : bj::value("t" + std::to_string(Next(3)));
    }
    if (name == "metadata" || name == "scores" || name == "metrics" || name == "comment") {
      return Coin(5) ? Value(2) : bj::value(Object(2));
    }
    return Value(2);
  }

  std::vector<std::string> Path() {
    static const std::vector<std::vector<std::string>> paths = {{"n"},
                                                                {"s"},
                                                                {"b"},
                                                                {"metadata"},
                                                                {"metadata", "x"},
                                                                {"metadata", "x", "y"},
                                                                {"metadata", "0"},
                                                                {"arr"},
                                                                {"arr", "0"},
                                                                {"arr", "-1"},
                                                                {"arr", "1", "x"},
                                                                {"scores", "x"},
                                                                {"metrics", "y"},
                                                                {"span_parents"},
                                                                {"is_root"},
                                                                {"is_root", "x"},
                                                                {"comment"},
                                                                {"comment", "text"},
                                                                {"created"},
                                                                {"id"},
                                                                {"root_span_id"},
                                                                {"missing"},
                                                                {"missing", "x"},
                                                                {"tags", "0"},
                                                                {"s", "x"}};
    // Rarely a field that needs the whole row (heavy, comments).
    static const std::vector<std::vector<std::string>> rare = {
        {"input"}, {"output", "x"}, {"comments"}, {"expected"}};
    return Coin(25) ? rare[Next(4)] : paths[Next(static_cast<std::uint32_t>(paths.size()))];
  }

  static bj::object Ident(const std::vector<std::string>& path) {
    bj::array name;
    for (const std::string& p : path) name.emplace_back(p);
    return {{"op", "ident"}, {"name", name}};
  }
  static bj::object Literal(bj::value v) { return {{"op", "literal"}, {"value", std::move(v)}}; }
  static bj::object Binary(const char* op, bj::object l, bj::object r) {
    return {{"op", op}, {"left", std::move(l)}, {"right", std::move(r)}};
  }
  static bj::object Call(const char* name, bj::array args) {
    return {{"op", "function"},
            {"name", bj::object{{"op", "ident"}, {"name", bj::array{name}}}},
            {"args", std::move(args)}};
  }

  // A constant, mostly a literal; sometimes folded arithmetic or a negation.
  bj::object Constant() {
    if (Coin(6)) return {{"op", "neg"}, {"expr", Literal(Scalar())}};
    if (Coin(8)) return Binary("mul", Literal(Scalar()), Literal(Scalar()));
    if (Coin(10)) {
      bj::array list;
      for (int i = static_cast<int>(Next(3)); i >= 0; --i) list.push_back(Scalar());
      return Literal(list);
    }
    return Literal(Scalar());
  }

  // A comparison of a field with a constant, in either operand order.
  bj::object Comparison() {
    static const char* ops[] = {"eq", "ne",   "lt",    "le",    "gt",      "ge",
                                "in", "like", "ilike", "match", "includes"};
    const char* op = ops[Next(11)];
    bj::object field = Ident(Path());
    bj::object constant = Constant();
    if (std::string(op) == "like" || std::string(op) == "ilike" || std::string(op) == "match") {
      static const char* patterns[] = {"%a%", "beta", "2026%", "_", "x"};
      constant = Literal(patterns[Next(5)]);
    }
    if (Coin(3)) std::swap(field, constant);
    return Binary(op, std::move(field), std::move(constant));
  }

  // `any_span` false inside an any_span(), which does not nest.
  bj::object Expression(int depth, bool any_span = true) {
    if (depth <= 0) {
      switch (Next(4)) {
        case 0:
          return Ident(Path());
        case 1:
          return Constant();
        default:
          return Comparison();
      }
    }
    switch (Next(14)) {
      case 0:
      case 1:
        return {{"op", Coin(2) ? "and" : "or"},
                {"children",
                 bj::array{Expression(depth - 1, any_span), Expression(depth - 1, any_span)}}};
      case 2:
        return {{"op", "not"}, {"expr", Expression(depth - 1, any_span)}};
      case 3:
        return {{"op", Coin(2) ? "isnull" : "isnotnull"},
                {"expr", Expression(depth - 1, any_span)}};
      case 4: {
        static const char* ops[] = {"add", "sub", "mul", "div",      "mod",   "eq",
                                    "lt",  "ge",  "in",  "includes", "match", "like"};
        return Binary(ops[Next(12)], Expression(depth - 1, any_span),
                      Expression(depth - 1, any_span));
      }
      case 5: {
        bj::object branch{{"cond", Expression(depth - 1, any_span)},
                          {"then", Expression(depth - 1, any_span)}};
        return {
            {"op", "if"}, {"conds", bj::array{branch}}, {"else", Expression(depth - 1, any_span)}};
      }
      case 6: {
        static const char* fns[] = {"lower",     "upper",     "concat",      "coalesce", "nullif",
                                    "least",     "greatest",  "len",         "round",    "abs",
                                    "to_string", "to_number", "json_extract"};
        return Call(fns[Next(13)],
                    bj::array{Expression(depth - 1, any_span), Expression(depth - 1, any_span)});
      }
      case 7: {
        bj::object interval{{"op", "interval"}, {"value", 1}, {"unit", "hour"}};
        return Binary("add", Ident({"created"}), interval);
      }
      case 8:
        if (any_span) return Call("any_span", bj::array{Expression(depth - 1, false)});
        return Comparison();
      case 9:
        return {{"op", "neg"}, {"expr", Expression(depth - 1, any_span)}};
      default:
        return Comparison();
    }
  }

  // A filter shaped like real ones: an AND (sometimes nested) of comparisons and other terms.
  bj::object Filter() {
    if (Coin(5)) return Expression(3);
    bj::array children;
    for (int i = static_cast<int>(Next(4)); i >= 0; --i) {
      children.push_back(Coin(4) ? Expression(2) : (Coin(6) ? Filter() : Comparison()));
    }
    return {{"op", "and"}, {"children", std::move(children)}};
  }

 private:
  std::mt19937 rng_;
};

}  // namespace arbor::query::testing
