#include "query/btql_text.h"

#include <gtest/gtest.h>

#include <string>

#include "json/json.h"
#include "query/btql.h"

namespace arbor::query {
namespace {

namespace bj = boost::json;

// The canonical text of what `text` parses to; ParseQueryAst must accept every success.
std::string Ast(std::string_view text) {
  auto ast = ParseBtqlText(text);
  EXPECT_TRUE(ast.ok()) << text << "\n" << ast.status().ToString();
  if (!ast.ok()) return "";
  auto q = ParseQueryAst(*ast);
  EXPECT_TRUE(q.ok()) << text << "\n" << q.status().ToString();
  return json::CanonicalString(*ast);
}

std::string Canon(std::string_view json_text) {
  return json::CanonicalString(json::Parse(json_text).value());
}

// The AST of `filter: <expr>` over one experiment, for expression tests.
std::string FilterAst(std::string_view expr) {
  auto ast = ParseBtqlText("from: experiment('e')\nfilter: " + std::string(expr));
  EXPECT_TRUE(ast.ok()) << expr << "\n" << ast.status().ToString();
  if (!ast.ok()) return "";
  EXPECT_TRUE(ParseQueryAst(*ast).ok()) << expr;
  return json::CanonicalString(ast->at("filter"));
}

std::string Error(std::string_view text) {
  auto ast = ParseBtqlText(text);
  EXPECT_FALSE(ast.ok()) << text << " parsed as " << json::Serialize(ast.value());
  if (ast.ok()) return "";
  EXPECT_EQ(ast.status().code(), StatusCode::kInvalidArgument);
  return ast.status().message();
}

constexpr const char* kFromE =
    R"({"op":"function","name":{"op":"ident","name":["experiment"]},
        "args":[{"op":"literal","value":"e"}]})";

std::string Id(const char* name) { return std::string(R"({"op":"ident","name":[)") + name + "]}"; }

// ---- pipe syntax ------------------------------------------------------------------------------

TEST(BtqlTextPipe, FullQueryOnSeparateLines) {
  EXPECT_EQ(Ast("select: *\n"
                "from: experiment('e')\n"
                "filter: metadata.model = 'gpt-4'\n"
                "sort: created desc, id asc\n"
                "limit: 10\n"
                "cursor: 'abc'\n"),
            Canon(std::string(R"({"select":[{"op":"star"}],"from":)") + kFromE +
                  R"(,"filter":{"op":"eq","left":)" + Id(R"("metadata","model")") +
                  R"(,"right":{"op":"literal","value":"gpt-4"}},
                     "sort":[{"expr":)" +
                  Id(R"("created")") + R"(,"dir":"desc"},
                             {"expr":)" +
                  Id(R"("id")") + R"(,"dir":"asc"}],
                     "limit":10,"cursor":"abc"})"));
}

TEST(BtqlTextPipe, BarSeparatedOneLineEqualsMultiLine) {
  EXPECT_EQ(Ast("select: * | from: experiment('e') | filter: id = 'x' | limit: 5"),
            Ast("select: *\nfrom: experiment('e')\nfilter: id = 'x'\nlimit: 5"));
}

TEST(BtqlTextPipe, SelectDefaultsToStarAndSortDefaultsToAsc) {
  EXPECT_EQ(Ast("from: dataset('d')\nsort: created"), Canon(R"({"select":[{"op":"star"}],
                      "from":{"op":"function","name":{"op":"ident","name":["dataset"]},
                              "args":[{"op":"literal","value":"d"}]},
                      "sort":[{"expr":{"op":"ident","name":["created"]},"dir":"asc"}]})"));
}

TEST(BtqlTextPipe, SelectListWithAliases) {
  EXPECT_EQ(Ast("select: id, metadata.model, scores.x AS s | from: experiment('e')"),
            Canon(std::string(R"({"from":)") + kFromE + R"(,"select":[
                {"expr":)" +
                  Id(R"("id")") + R"(,"alias":"id"},
                {"expr":)" +
                  Id(R"("metadata","model")") + R"(,"alias":"model"},
                {"expr":)" +
                  Id(R"("scores","x")") + R"(,"alias":"s"}]})"));
}

TEST(BtqlTextPipe, SourcesIdsAndShapes) {
  auto ast = ParseBtqlText("from: experiment('a', 'b') traces");
  ASSERT_TRUE(ast.ok()) << ast.status().ToString();
  EXPECT_EQ(json::CanonicalString(ast->at("from")),
            Canon(R"({"op":"function","name":{"op":"ident","name":["experiment"]},
                      "args":[{"op":"literal","value":"a"},{"op":"literal","value":"b"}],
                      "shape":"traces"})"));
  auto q = ParseQueryAst(*ast);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->object_ids, (std::vector<std::string>{"a", "b"}));

  ast = ParseBtqlText("from: project_logs('p') spans");
  ASSERT_TRUE(ast.ok());
  EXPECT_EQ(ast->at("from").at("shape"), "spans");
  q = ParseQueryAst(*ast);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->source, ingest::ObjectType::kProjectLogs);
  EXPECT_TRUE(ParseBtqlText("from: dataset('d') summary").ok());
}

TEST(BtqlTextPipe, KeywordsAndClauseNamesAreCaseInsensitive) {
  EXPECT_EQ(Ast("FROM: Experiment('e') | FILTER: a = 1 And b Is Not Null"),
            Ast("from: experiment('e') | filter: a = 1 and b is not null"));
}

TEST(BtqlTextPipe, PreviewLength) {
  EXPECT_EQ(Ast("from: experiment('e') summary | preview_length: 40"),
            Canon(R"({"select":[{"op":"star"}],"preview_length":40,
                      "from":{"op":"function","name":{"op":"ident","name":["experiment"]},
                              "args":[{"op":"literal","value":"e"}],"shape":"summary"}})"));
}

TEST(BtqlTextPipe, CursorNullAndComments) {
  EXPECT_EQ(
      Ast("-- first page\nfrom: experiment('e') -- the experiment\ncursor: null"),
      Canon(std::string(R"({"select":[{"op":"star"}],"from":)") + kFromE + R"(,"cursor":null})"));
}

// ---- SQL syntax -------------------------------------------------------------------------------

TEST(BtqlTextSql, FullQuery) {
  EXPECT_EQ(Ast("SELECT id, input AS i FROM experiment('e') WHERE scores.f > 0.8 "
                "ORDER BY created DESC, id LIMIT 50;"),
            Canon(std::string(R"({"select":[{"expr":)") + Id(R"("id")") +
                  R"(,"alias":"id"},{"expr":)" + Id(R"("input")") + R"(,"alias":"i"}],
                  "from":)" +
                  kFromE + R"(,
                  "filter":{"op":"gt","left":)" +
                  Id(R"("scores","f")") +
                  R"(,"right":{"op":"literal","value":0.8}},
                  "sort":[{"expr":)" +
                  Id(R"("created")") + R"(,"dir":"desc"},
                          {"expr":)" +
                  Id(R"("id")") + R"(,"dir":"asc"}],
                  "limit":50})"));
}

TEST(BtqlTextSql, MatchesPipeSyntaxAndIgnoresCase) {
  EXPECT_EQ(Ast("select * from experiment('e') where a = 'x' order by created desc limit 3"),
            Ast("select: * | from: experiment('e') | filter: a = 'x' | sort: created desc | "
                "limit: 3"));
}

TEST(BtqlTextSql, ShapeNamedArgument) {
  auto ast = ParseBtqlText("SELECT * FROM project_logs('p', shape => 'traces')");
  ASSERT_TRUE(ast.ok()) << ast.status().ToString();
  EXPECT_EQ(json::CanonicalString(ast->at("from")),
            Canon(R"({"op":"function","name":{"op":"ident","name":["project_logs"]},
                      "args":[{"op":"literal","value":"p"}],"shape":"traces"})"));
  EXPECT_TRUE(ParseQueryAst(*ast).ok());
}

// ---- expressions ------------------------------------------------------------------------------

TEST(BtqlTextExpr, Comparisons) {
  const char* ops[][2] = {{"=", "eq"},  {"!=", "ne"}, {"<>", "ne"}, {"<", "lt"},
                          {"<=", "le"}, {">", "gt"},  {">=", "ge"}};
  for (const auto& [text, op] : ops) {
    EXPECT_EQ(FilterAst(std::string("n ") + text + " 3"),
              Canon(std::string(R"({"op":")") + op + R"(","left":)" + Id(R"("n")") +
                    R"(,"right":{"op":"literal","value":3}})"))
        << text;
  }
}

TEST(BtqlTextExpr, Literals) {
  auto lit = [](const char* v) {
    return Canon(std::string(R"({"op":"literal","value":)") + v + "}");
  };
  auto right = [](const std::string& ast) {
    return json::CanonicalString(json::Parse(ast)->at("right"));
  };
  EXPECT_EQ(right(FilterAst("a = 'it''s'")), lit(R"("it's")"));
  EXPECT_EQ(right(FilterAst("a = ''")), lit(R"("")"));
  EXPECT_EQ(right(FilterAst("a = -12")), lit("-12"));
  EXPECT_EQ(right(FilterAst("a = 1.5e3")), lit("1500.0"));
  EXPECT_EQ(right(FilterAst("a = -0.25")), lit("-0.25"));
  EXPECT_EQ(right(FilterAst("a = TRUE")), lit("true"));
  EXPECT_EQ(right(FilterAst("a = false")), lit("false"));
  EXPECT_EQ(right(FilterAst("a = null")), lit("null"));
  EXPECT_EQ(right(FilterAst("a = 'multi\nline'")), lit(R"("multi\nline")"));
}

TEST(BtqlTextExpr, IdentifierForms) {
  auto left = [](const std::string& ast) {
    return json::CanonicalString(json::Parse(ast)->at("left"));
  };
  EXPECT_EQ(left(FilterAst(R"(metadata."braintrust.input_json" = 1)")),
            Canon(Id(R"("metadata","braintrust.input_json")")));
  EXPECT_EQ(left(FilterAst("metadata.`a.b` = 1")), Canon(Id(R"("metadata","a.b")")));
  EXPECT_EQ(left(FilterAst("metadata.'k' = 1")), Canon(Id(R"("metadata","k")")));
  EXPECT_EQ(left(FilterAst("tags[0] = 'x'")), Canon(Id(R"("tags",0)")));
  EXPECT_EQ(left(FilterAst("tags[-1] = 'x'")), Canon(Id(R"("tags",-1)")));
  EXPECT_EQ(left(FilterAst("m['k'][2].z = 1")), Canon(Id(R"("m","k",2,"z")")));
  EXPECT_EQ(left(FilterAst(R"("select" = 1)")), Canon(Id(R"("select")")));
  EXPECT_EQ(left(FilterAst("metadata.limit = 1")), Canon(Id(R"("metadata","limit")")));
}

TEST(BtqlTextExpr, PrecedenceOrAndNot) {
  const std::string a = R"({"op":"eq","left":{"op":"ident","name":["a"]},
                            "right":{"op":"literal","value":1}})";
  const std::string b = R"({"op":"eq","left":{"op":"ident","name":["b"]},
                            "right":{"op":"literal","value":2}})";
  const std::string c = R"({"op":"eq","left":{"op":"ident","name":["c"]},
                            "right":{"op":"literal","value":3}})";
  EXPECT_EQ(FilterAst("a = 1 OR b = 2 AND c = 3"),
            Canon(R"({"op":"or","children":[)" + a + R"(,{"op":"and","children":[)" + b + "," + c +
                  "]}]}"));
  EXPECT_EQ(
      FilterAst("(a = 1 OR b = 2) AND c = 3"),
      Canon(R"({"op":"and","children":[{"op":"or","children":[)" + a + "," + b + "]}," + c + "]}"));
  EXPECT_EQ(FilterAst("NOT a = 1 AND b = 2"),
            Canon(R"({"op":"and","children":[{"op":"not","expr":)" + a + "}," + b + "]}"));
  EXPECT_EQ(FilterAst("a = 1 AND b = 2 AND c = 3"),
            Canon(R"({"op":"and","children":[)" + a + "," + b + "," + c + "]}"));
  EXPECT_EQ(FilterAst("NOT NOT a = 1"),
            Canon(R"({"op":"not","expr":{"op":"not","expr":)" + a + "}}"));
}

TEST(BtqlTextExpr, NullChecks) {
  EXPECT_EQ(FilterAst("span_attributes.purpose IS NULL"),
            Canon(R"({"op":"isnull","expr":)" + Id(R"("span_attributes","purpose")") + "}"));
  EXPECT_EQ(FilterAst("x is not null"), Canon(R"({"op":"isnotnull","expr":)" + Id(R"("x")") + "}"));
}

TEST(BtqlTextExpr, WordOperators) {
  auto bin = [](const char* op, const char* right) {
    return Canon(std::string(R"({"op":")") + op + R"(","left":)" + Id(R"("x")") + R"(,"right":)" +
                 right + "}");
  };
  EXPECT_EQ(FilterAst("x LIKE 'a%'"), bin("like", R"({"op":"literal","value":"a%"})"));
  EXPECT_EQ(FilterAst("x ilike 'a%'"), bin("ilike", R"({"op":"literal","value":"a%"})"));
  EXPECT_EQ(FilterAst("x MATCH 'hello'"), bin("match", R"({"op":"literal","value":"hello"})"));
  EXPECT_EQ(FilterAst("x INCLUDES 't'"), bin("includes", R"({"op":"literal","value":"t"})"));
  EXPECT_EQ(FilterAst("x CONTAINS 't'"), bin("includes", R"({"op":"literal","value":"t"})"));
  EXPECT_EQ(FilterAst("x IN ('a', 1, null, -2.5)"),
            bin("in", R"({"op":"literal","value":["a",1,null,-2.5]})"));
  EXPECT_EQ(
      FilterAst("x NOT LIKE 'a%'"),
      Canon(R"({"op":"not","expr":)" + bin("like", R"({"op":"literal","value":"a%"})") + "}"));
  EXPECT_EQ(FilterAst("x NOT IN ('a')"),
            Canon(R"({"op":"not","expr":)" + bin("in", R"({"op":"literal","value":["a"]})") + "}"));
  EXPECT_EQ(
      FilterAst("x not ilike 'A'"),
      Canon(R"({"op":"not","expr":)" + bin("ilike", R"({"op":"literal","value":"A"})") + "}"));
  EXPECT_EQ(FilterAst("x = y"), bin("eq", Id(R"("y")").c_str()));
}

TEST(BtqlTextExpr, SelectExpressionNeedsAlias) {
  EXPECT_EQ(Ast("select: a = 1 AS is_one | from: experiment('e')"),
            Canon(std::string(R"({"from":)") + kFromE + R"(,"select":[{"expr":{"op":"eq",
                  "left":)" +
                  Id(R"("a")") + R"(,"right":{"op":"literal","value":1}},
                  "alias":"is_one"}]})"));
  EXPECT_NE(Error("select: a = 1 | from: experiment('e')").find("line 1, column 9: name this"),
            std::string::npos);
}

// ---- functions and arithmetic -----------------------------------------------------------------

std::string Fn(const char* name, const std::string& args) {
  return std::string(R"({"op":"function","name":{"op":"ident","name":[")") + name +
         R"("]},"args":[)" + args + "]}";
}

std::string Lit(const char* v) { return std::string(R"({"op":"literal","value":)") + v + "}"; }

std::string Bin(const char* op, const std::string& l, const std::string& r) {
  return std::string(R"({"op":")") + op + R"(","left":)" + l + R"(,"right":)" + r + "}";
}

TEST(BtqlTextExpr, FunctionCalls) {
  EXPECT_EQ(FilterAst("lower(metadata.model) = 'gpt'"),
            Canon(Bin("eq", Fn("lower", Id(R"("metadata","model")")), Lit(R"("gpt")"))));
  EXPECT_EQ(FilterAst("COALESCE(a, b, 'x') = concat('a', upper(c))"),
            Canon(Bin("eq", Fn("coalesce", Id(R"("a")") + "," + Id(R"("b")") + "," + Lit(R"("x")")),
                      Fn("concat", Lit(R"("a")") + "," + Fn("upper", Id(R"("c")"))))));
  EXPECT_EQ(FilterAst("date_trunc('day', created) = '2026-01-01T00:00:00Z'"),
            Canon(Bin("eq", Fn("date_trunc", Lit(R"("day")") + "," + Id(R"("created")")),
                      Lit(R"("2026-01-01T00:00:00Z")"))));
  EXPECT_EQ(FilterAst("len(tags) > 0"), Canon(Bin("gt", Fn("len", Id(R"("tags")")), Lit("0"))));
  // A known function name may still be a field when not called.
  EXPECT_EQ(FilterAst("lower = 1"), Canon(Bin("eq", Id(R"("lower")"), Lit("1"))));
}

TEST(BtqlTextExpr, ArithmeticPrecedence) {
  const std::string a = Id(R"("a")"), b = Id(R"("b")"), c = Id(R"("c")");
  EXPECT_EQ(FilterAst("a + b * c = 1"),
            Canon(Bin("eq", Bin("add", a, Bin("mul", b, c)), Lit("1"))));
  EXPECT_EQ(FilterAst("(a + b) * c = 1"),
            Canon(Bin("eq", Bin("mul", Bin("add", a, b), c), Lit("1"))));
  EXPECT_EQ(FilterAst("a - b - c = 1"),
            Canon(Bin("eq", Bin("sub", Bin("sub", a, b), c), Lit("1"))));
  EXPECT_EQ(FilterAst("a / b % c > 1"),
            Canon(Bin("gt", Bin("mod", Bin("div", a, b), c), Lit("1"))));
  EXPECT_EQ(FilterAst("-a * b < 1"),
            Canon(Bin("lt", Bin("mul", Bin("sub", Lit("0"), a), b), Lit("1"))));
  EXPECT_EQ(FilterAst("a - -1 = 2"), Canon(Bin("eq", Bin("sub", a, Lit("-1")), Lit("2"))));
  EXPECT_EQ(FilterAst("a-1 = 2"), Canon(Bin("eq", Bin("sub", a, Lit("1")), Lit("2"))));
  EXPECT_EQ(
      FilterAst("a = b + 1 AND NOT c * 2 >= 4"),
      Canon(std::string(R"({"op":"and","children":[)") + Bin("eq", a, Bin("add", b, Lit("1"))) +
            R"(,{"op":"not","expr":)" + Bin("ge", Bin("mul", c, Lit("2")), Lit("4")) + "}]}"));
  EXPECT_EQ(
      FilterAst("abs(a - 1) * 2 <= round(b)"),
      Canon(Bin("le", Bin("mul", Fn("abs", Bin("sub", a, Lit("1"))), Lit("2")), Fn("round", b))));
}

TEST(BtqlTextExpr, ArithmeticAndFunctionsEvaluate) {
  auto ast = ParseBtqlText(
      "from: experiment('e')\n"
      "filter: metrics.tokens * 2 + 1 = 21 AND lower(name) LIKE 'ab%' AND -metrics.x < 0 AND "
      "metrics.tokens % 3 = 1");
  ASSERT_TRUE(ast.ok()) << ast.status().ToString();
  auto q = ParseQueryAst(*ast);
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_TRUE(Matches(*q->filter,
                      json::Parse(R"({"metrics":{"tokens":10,"x":2},"name":"ABC"})")->as_object()));
  EXPECT_FALSE(Matches(*q->filter,
                       json::Parse(R"({"metrics":{"tokens":9,"x":2},"name":"ABC"})")->as_object()));
  EXPECT_FALSE(Matches(
      *q->filter, json::Parse(R"({"metrics":{"tokens":10,"x":-2},"name":"ABC"})")->as_object()));
}

// ---- aggregation ------------------------------------------------------------------------------

TEST(BtqlTextAggregation, PipeDimensionsAndMeasures) {
  const std::string model = Id(R"("metadata","model")");
  const std::string want =
      Canon(std::string(R"({"from":)") + kFromE + R"(,"dimensions":[{"expr":)" + model +
            R"(,"alias":"model"},{"expr":)" +
            Fn("date_trunc", Lit(R"("day")") + "," + Id(R"("created")")) +
            R"(,"alias":"day"}],"measures":[{"expr":)" + Fn("count", "") +
            R"(,"alias":"count"},{"expr":)" + Fn("avg", Id(R"("scores","f")")) +
            R"(,"alias":"f"},{"expr":)" +
            Fn("percentile", Id(R"("metrics","latency")") + "," + Lit("0.95")) +
            R"(,"alias":"percentile"}],"filter":)" + Bin("ne", model, Lit("null")) +
            R"(,"sort":[{"expr":)" + Id(R"("count")") + R"(,"dir":"desc"}],"limit":10})");
  EXPECT_EQ(Ast("from: experiment('e')\n"
                "dimensions: metadata.model, date_trunc('day', created) AS day\n"
                "measures: count(*), avg(scores.f) AS f, percentile(metrics.latency, 0.95)\n"
                "filter: metadata.model != null\n"
                "sort: count desc\n"
                "limit: 10"),
            want);
  // Sorting by a measure's expression sorts by its column.
  EXPECT_EQ(Ast("from: experiment('e') | dimensions: metadata.model, "
                "date_trunc('day', created) AS day | measures: count(*), avg(scores.f) AS f, "
                "percentile(metrics.latency, 0.95) | filter: metadata.model != null | "
                "sort: count(*) desc | limit: 10"),
            want);
  // Measures alone, and dimensions alone.
  auto ast = ParseBtqlText("from: experiment('e') | measures: sum(metrics.tokens) AS tokens");
  ASSERT_TRUE(ast.ok()) << ast.status().ToString();
  EXPECT_FALSE(ast->contains("select"));
  EXPECT_FALSE(ast->contains("dimensions"));
  auto q = ParseQueryAst(*ast);
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_EQ(q->measures.size(), 1u);
  EXPECT_EQ(q->measures[0].alias, "tokens");
  ast = ParseBtqlText("from: experiment('e') | dimensions: metadata.model");
  ASSERT_TRUE(ast.ok());
  EXPECT_FALSE(ast->contains("select"));
  EXPECT_TRUE(ParseQueryAst(*ast).ok());
}

TEST(BtqlTextAggregation, SqlGroupBy) {
  const std::string model = Id(R"("metadata","model")");
  const std::string want = Canon(
      std::string(R"({"from":)") + kFromE + R"(,"dimensions":[{"expr":)" + model +
      R"(,"alias":"m"}],"measures":[{"expr":)" + Fn("count", "") + R"(,"alias":"count"},{"expr":)" +
      Fn("sum", Id(R"("metrics","tokens")")) + R"(,"alias":"tokens"}],"filter":)" +
      Bin("gt", Id(R"("scores","f")"), Lit("0.5")) + R"(,"sort":[{"expr":)" + Id(R"("tokens")") +
      R"(,"dir":"desc"},{"expr":)" + Id(R"("m")") + R"(,"dir":"asc"}],"limit":5})");
  EXPECT_EQ(Ast("SELECT metadata.model AS m, count(*), sum(metrics.tokens) AS tokens "
                "FROM experiment('e') WHERE scores.f > 0.5 GROUP BY metadata.model "
                "ORDER BY tokens DESC, m LIMIT 5"),
            want);
  // GROUP BY an alias or a position; ORDER BY an aggregate or a grouped expression.
  EXPECT_EQ(Ast("select metadata.model as m, COUNT(*), sum(metrics.tokens) as tokens "
                "from experiment('e') where scores.f > 0.5 group by m "
                "order by sum(metrics.tokens) desc, metadata.model limit 5"),
            want);
  EXPECT_EQ(Ast("SELECT metadata.model AS m, count(*), sum(metrics.tokens) AS tokens "
                "FROM experiment('e') WHERE scores.f > 0.5 GROUP BY 1 "
                "ORDER BY 3 DESC, m LIMIT 5")
                .empty(),
            false);
  // The same query in pipe syntax.
  EXPECT_EQ(Ast("from: experiment('e') | dimensions: metadata.model AS m | "
                "measures: count(*), sum(metrics.tokens) AS tokens | filter: scores.f > 0.5 | "
                "sort: tokens desc, m | limit: 5"),
            want);
  // Aggregates without GROUP BY: measures only. GROUP BY without aggregates: dimensions only.
  auto ast = ParseBtqlText("SELECT count(*) AS n, max(created) FROM experiment('e')");
  ASSERT_TRUE(ast.ok()) << ast.status().ToString();
  EXPECT_EQ(json::CanonicalString(ast->at("measures")),
            Canon(R"([{"expr":)" + Fn("count", "") + R"(,"alias":"n"},{"expr":)" +
                  Fn("max", Id(R"("created")")) + R"(,"alias":"max"}])"));
  EXPECT_FALSE(ast->contains("select"));
  EXPECT_FALSE(ast->contains("dimensions"));
  EXPECT_TRUE(ParseQueryAst(*ast).ok());
  ast = ParseBtqlText("SELECT tags FROM experiment('e') GROUP BY tags");
  ASSERT_TRUE(ast.ok()) << ast.status().ToString();
  EXPECT_EQ(json::CanonicalString(ast->at("dimensions")),
            Canon(R"([{"expr":)" + Id(R"("tags")") + R"(,"alias":"tags"}])"));
  EXPECT_FALSE(ast->contains("measures"));
  EXPECT_TRUE(ParseQueryAst(*ast).ok());
}

TEST(BtqlTextAggregation, CountDistinctAndScalarDimensions) {
  auto ast = ParseBtqlText(
      "SELECT lower(metadata.model), count_distinct(id) AS ids, min(metrics.x * 2) AS lo "
      "FROM dataset('d') GROUP BY lower(metadata.model)");
  ASSERT_TRUE(ast.ok()) << ast.status().ToString();
  auto q = ParseQueryAst(*ast);
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  ASSERT_EQ(q->dimensions.size(), 1u);
  EXPECT_EQ(q->dimensions[0].alias, "lower");
  ASSERT_EQ(q->measures.size(), 2u);
  EXPECT_EQ(q->measures[0].expr.function, "count_distinct");
  EXPECT_EQ(q->measures[1].alias, "lo");
}

// ---- errors: each names the line and column -----------------------------------------------------

TEST(BtqlTextErrors, PositionedMessages) {
  const std::pair<const char*, const char*> cases[] = {
      {"from: experiment('e')\nfilter: a = 'abc", "line 2, column 13: unterminated string"},
      {"from: experiment('e) | limit: 1", "line 1, column 18: unterminated string"},
      {"SELECT * WHERE a = 1", "line 1, column 10: expected FROM after the select list"},
      {"select: *\nfilter: a = 1", "line 1, column 1: the query has no 'from:' clause"},
      {"from: experiment('e')\nwhere: a = 1", "line 2, column 1: unknown clause 'where:'"},
      {"from: experiment('e')\nfilter: a = 1 b", "line 2, column 15: unexpected 'b' after the"},
      {"SELECT * FROM experiment('e') LIMIT 3 garbage",
       "line 1, column 39: unexpected 'garbage' after the end of the query"},
      {"from: experiment('e')\nlimit: -1", "line 2, column 8: the limit must be a non-negative"},
      {"from: experiment('e')\nlimit: abc",
       "line 2, column 8: expected a non-negative integer after limit:, found 'abc'"},
      {"from: experiment('e')\nlimit: 2.5", "line 2, column 8: the limit must be a non-negative"},
      {"from: experiment('e')\nfilter: (a = 1 AND (b = 2)",
       "line 2, column 27: expected ')' to close the '(' at line 2, column 9"},
      {"from: experiment('e')\nfilter: a = 1)", "line 2, column 14: unexpected ')'"},
      {"from: experiment('e')\nfilter: x IN ()", "line 2, column 15: the IN list is empty"},
      {"from: experiment('e') | filter: a = 1 AND",
       "line 1, column 42: expected an expression after 'AND'"},
      {"from: experiment('e') | filter: a = 1 AND OR b = 2",
       "line 1, column 43: expected an expression after 'AND', found the keyword 'OR'"},
      {"from: experiment('e') | filter:",
       "line 1, column 32: expected an expression after "
       "'filter:', found the end of the query"},
      {"", "line 1, column 1: the query is empty"},
      {"from: experiment('e')\nfilter: lowr(x) = 'a'",
       "line 2, column 9: unknown function 'lowr()'; known are lower"},
      {"from: experiment('e')\nfilter: a + = 2",
       "line 2, column 13: expected an expression after '+', found '='"},
      {"from: experiment('e')\nfilter: lower(x = 'a'",
       "line 2, column 22: expected ')' to close the arguments of 'lower(' at line 2, column 14"},
      {"from: experiment('e')\nfilter: sum(x) > 1",
       "line 2, column 9: the aggregate 'sum()' cannot be used in a filter"},
      {"from: experiment('e')\nfilter: sum(*) > 1", "line 2, column 13: '*' is only allowed"},
      {"select: count(*) | from: experiment('e')",
       "line 1, column 9: the aggregate 'count()' does not belong in 'select:'"},
      {"dimensions: a\nmeasures: count(*)\nselect: b\nfrom: experiment('e')",
       "line 3, column 1: use either 'select:' or 'dimensions:'/'measures:', not both"},
      {"from: experiment('e')\nmeasures: x", "line 2, column 11: a measure must be an aggregate"},
      {"from: experiment('e')\nmeasures: sum(x) / count(*) AS r",
       "line 2, column 11: a measure must be a single aggregate call"},
      {"from: experiment('e')\nmeasures: sum(count(x))",
       "line 2, column 15: the aggregate 'count()' cannot be used inside another aggregate"},
      {"from: experiment('e')\ndimensions: max(x)",
       "line 2, column 13: the aggregate 'max()' does not belong in 'dimensions:'"},
      {"from: experiment('e')\ndimensions: *", "line 2, column 13: '*' is not allowed in"},
      {"from: experiment('e')\ndimensions: a + 1", "line 2, column 13: name this selected"},
      {"from: experiment('e')\nmeasures: count(*), count(x)",
       "line 2, column 21: the column name 'count' is used twice"},
      {"from: experiment('e')\nmeasures: count(*)\nsort: sum(x)",
       "line 3, column 7: sorting by the aggregate 'sum()' needs the same aggregate"},
      {"SELECT a, count(*) FROM experiment('e')",
       "line 1, column 8: the column 'a' must appear in GROUP BY"},
      {"SELECT a, b, count(*) FROM experiment('e') GROUP BY a",
       "line 1, column 11: the column 'b' must appear in GROUP BY"},
      {"SELECT a FROM experiment('e') GROUP BY a, b",
       "line 1, column 43: this GROUP BY key is not a selected column"},
      {"SELECT a FROM experiment('e') GROUP BY count(*)",
       "line 1, column 40: GROUP BY cannot use the aggregate 'count()'"},
      {"SELECT a FROM experiment('e') GROUP a", "line 1, column 37: expected BY after GROUP"},
      {"SELECT a FROM experiment('e') HAVING count(*) > 1",
       "line 1, column 31: HAVING filters groups; add GROUP BY"},
      {"SELECT * FROM experiment('e') GROUP BY x",
       "line 1, column 8: SELECT * cannot be combined with GROUP BY"},
      {"SELECT count(*) + 1 AS n FROM experiment('e')",
       "line 1, column 8: a measure must be a single aggregate call"},
      {"from: experiment('e')\nfilter: a = 1 = 2", "line 2, column 15: comparisons do not chain"},
      {"from: experiment('e')\nfilter: a # 1", "line 2, column 11: unexpected character '#'"},
      {"from: prompt('p')", "line 1, column 7: expected a source such as experiment"},
      {"from: experiment()", "line 1, column 18: expected a quoted object id"},
      {"from: experiment('e', shape => 'rows')", "line 1, column 32: shape must be 'spans'"},
      {"from: experiment('e')\nfrom: dataset('d')",
       "line 2, column 1: the 'from:' clause appears twice"},
      {"from: experiment('e') limit: 3", "line 1, column 23: unexpected 'limit' after the 'from:'"},
      {"pivot: x | from: experiment('e')",
       "line 1, column 1: the 'pivot:' clause is not supported yet"},
      {"from: experiment('e')\nfilter: a IS 3", "line 2, column 14: expected NULL after 'IS'"},
      {"from: experiment('e')\nfilter: 12abc = 1", "line 2, column 9: malformed number '12abc'"},
      {"from: experiment('e')\nfilter: a = 1e999", "line 2, column 13: the number 1e999 is out"},
      {"from: experiment('e')\nfilter: x IN (a)", "line 2, column 15: IN lists may hold only"},
      {"from: experiment('e')\nfilter: \"abc = 1", "line 2, column 9: unterminated quoted name"},
      {"from: experiment('e') |", "line 1, column 24: expected a clause such as 'filter:'"},
      {"from: experiment('e')\nfilter: a BETWEEN 1 AND 2",
       "line 2, column 11: BETWEEN is not supported yet"},
  };
  for (const auto& [text, want] : cases) {
    std::string got = Error(text);
    EXPECT_EQ(got.rfind(want, 0), 0u)
        << "query: " << text << "\n got: " << got << "\nwant prefix: " << want;
  }
}

TEST(BtqlTextErrors, DeepNestingIsRejectedNotRecursedInto) {
  std::string deep = "from: experiment('e')\nfilter: " + std::string(10'000, '(') + "a = 1" +
                     std::string(10'000, ')');
  EXPECT_NE(Error(deep).find("nested more than 64 levels"), std::string::npos);
  std::string nots = "from: experiment('e')\nfilter: ";
  for (int i = 0; i < 10'000; ++i) nots += "NOT ";
  nots += "a = 1";
  EXPECT_NE(Error(nots).find("nested more than 64 levels"), std::string::npos);
  std::string minuses = "from: experiment('e')\nfilter: ";
  for (int i = 0; i < 10'000; ++i) minuses += "- ";
  EXPECT_NE(Error(minuses + "a = 1").find("nested more than 64 levels"), std::string::npos);
  std::string sums = "from: experiment('e')\nfilter: a";
  for (int i = 0; i < 10'000; ++i) sums += " + a";
  EXPECT_NE(Error(sums + " = 1").find("nested more than 64 levels"), std::string::npos);
  std::string calls = "from: experiment('e')\nfilter: ";
  for (int i = 0; i < 10'000; ++i) calls += "abs(";
  EXPECT_NE(Error(calls + "a").find("nested more than 64 levels"), std::string::npos);
  // Within the bound, nesting parses.
  EXPECT_TRUE(ParseBtqlText("from: experiment('e')\nfilter: " + std::string(60, '(') + "a = 1" +
                            std::string(60, ')'))
                  .ok());
}

TEST(BtqlTextErrors, SizeAndTokenLimits) {
  std::string big(btql_text_bytes_max + 1, ' ');
  EXPECT_NE(Error(big).find("the limit is"), std::string::npos);
  std::string many = "from: experiment('e')\nfilter: x IN (";
  for (std::size_t i = 0; i < btql_text_tokens_max; ++i) many += "1,";
  many += "1)";
  EXPECT_NE(Error(many).find("tokens"), std::string::npos);
}

TEST(BtqlTextErrors, HostileBytesNeverCrash) {
  const std::string inputs[] = {std::string("\0\0\0", 3),
                                "\xff\xfe",
                                "'",
                                "\"",
                                "`",
                                "(((",
                                "select:",
                                "SELECT",
                                "from: experiment(",
                                "from:experiment('",
                                "a:b:c:",
                                "||||",
                                "select: *, *, * | from: x"};
  for (const auto& s : inputs) EXPECT_FALSE(ParseBtqlText(s).ok()) << s;
}

// ---- end to end: text → AST → Query → evaluation
// --------------------------------------------------

TEST(BtqlTextEndToEnd, FilterFromTextMatchesRows) {
  auto ast = ParseBtqlText(
      "SELECT * FROM experiment('e') "
      "WHERE metadata.model = 'gpt' AND (scores.s >= 0.5 OR tags INCLUDES 'x') "
      "AND span_attributes.purpose IS NULL AND input ILIKE 'hello%' AND id NOT IN ('b', 'c') "
      "LIMIT 20");
  ASSERT_TRUE(ast.ok()) << ast.status().ToString();
  auto q = ParseQueryAst(*ast);
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_EQ(q->limit, 20u);
  ASSERT_TRUE(q->filter.has_value());
  auto matches = [&](std::string_view row) {
    return Matches(*q->filter, json::Parse(row)->as_object());
  };
  EXPECT_TRUE(matches(R"({"id":"a","metadata":{"model":"gpt"},"scores":{"s":0.2},"tags":["x"],
                          "input":"Hello World"})"));
  // Excluded id.
  EXPECT_FALSE(matches(R"({"id":"b","metadata":{"model":"gpt"},"scores":{"s":0.9},
                           "input":"Hello"})"));
  // A scorer span.
  EXPECT_FALSE(matches(R"({"id":"a","metadata":{"model":"gpt"},"scores":{"s":0.9},
                           "input":"Hello","span_attributes":{"purpose":"scorer"}})"));
  // Neither side of the OR.
  EXPECT_FALSE(matches(R"({"id":"a","metadata":{"model":"gpt"},"scores":{"s":0.1},
                           "input":"Hello"})"));
}

}  // namespace
}  // namespace arbor::query
