// Golden query table: one small fixed data set and, per row of the table, a BTQL text query (pipe
// or SQL syntax) with the rows it must return, or the error it must give. Covers each filter
// operator (with SQL null semantics), full-text MATCH, LIKE/ILIKE, IN, arithmetic, is_root, sort
// and limit, the traces and summary shapes, grouping, and malformed or hostile query text.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "json/json.h"
#include "query/btql.h"
#include "query/btql_text.h"
#include "query/engine.h"
#include "query/test_env.h"

namespace arbor::query {
namespace {

namespace bj = boost::json;

// Two traces (a with child d; b with child f), three lone roots (c, e, g).
constexpr const char* kRows = R"([
  {"id":"a","span_id":"a","root_span_id":"a","input":"hello world","scores":{"acc":0.9},
   "metadata":{"model":"gpt"},"metrics":{"tokens":100},"tags":["x"]},
  {"id":"b","span_id":"b","root_span_id":"b","input":"goodbye world","scores":{"acc":0.2},
   "metadata":{"model":"claude"},"metrics":{"tokens":300},"tags":["y"]},
  {"id":"c","span_id":"c","root_span_id":"c","input":"hello there","metadata":{"model":"gpt"},
   "metrics":{"tokens":50}},
  {"id":"d","span_id":"d","root_span_id":"a","span_parents":["a"],"input":"tool call",
   "metrics":{"tokens":10}},
  {"id":"e","span_id":"e","root_span_id":"e","input":42,"metadata":{"model":"Mistral"}},
  {"id":"f","span_id":"f","root_span_id":"b","span_parents":["b"],"output":"needle42 found",
   "scores":{"acc":0.4}},
  {"id":"g","span_id":"g","root_span_id":"g","input":"50% off","metadata":{"model":"gpt"}}
])";

struct Case {
  const char* query;     // 'E' stands for the experiment
  const char* expected;  // ids in result order, space separated; or "error: <substring>"
  const char* field = "id";
};

const Case kCases[] = {
    // Comparison operators; a null operand never matches (SQL semantics).
    {"from: experiment('E') | filter: metadata.model = 'gpt' | sort: id", "a c g"},
    {"from: experiment('E') | filter: metadata.model != 'gpt' | sort: id", "b e"},
    {"from: experiment('E') | filter: metrics.tokens > 60 | sort: id", "a b"},
    {"from: experiment('E') | filter: metrics.tokens >= 100 AND metrics.tokens <= 300 | sort: id",
     "a b"},
    {"from: experiment('E') | filter: metrics.tokens < 60 | sort: id", "c d"},
    {"from: experiment('E') | filter: scores.acc IS NULL | sort: id", "c d e g"},
    {"from: experiment('E') | filter: scores.acc IS NOT NULL | sort: id", "a b f"},
    {"from: experiment('E') | filter: NOT (metadata.model = 'gpt') | sort: id", "b e"},
    {"from: experiment('E') | filter: NOT (metadata.model = 'gpt' AND metrics.tokens > 60) | "
     "sort: id",
     "b c d e"},  // d: null AND false is false; g: true AND null is null
    {"from: experiment('E') | filter: NOT (scores.acc > 0.5 OR metadata.model = 'gpt') | sort: id",
     "b"},
    {"from: experiment('E') | filter: metadata.model = 'gpt' OR metrics.tokens > 200 | sort: id",
     "a b c g"},
    {"from: experiment('E') | filter: metadata.model IN ('gpt', 'claude') | sort: id", "a b c g"},
    {"from: experiment('E') | filter: metadata.model NOT IN ('gpt') | sort: id", "b e"},
    {"from: experiment('E') | filter: metrics.tokens * 2 > 150 | sort: id", "a b"},
    // Text: MATCH tokenizes, LIKE is a pattern (escapes included), ILIKE ignores case.
    {"from: experiment('E') | filter: input MATCH 'hello' | sort: id", "a c"},
    {"from: experiment('E') | filter: output MATCH 'needle42' | sort: id", "f"},
    {"from: experiment('E') | filter: input MATCH 'absent' | sort: id", ""},
    {"from: experiment('E') | filter: input LIKE 'hello%' | sort: id", "a c"},
    {"from: experiment('E') | filter: input LIKE '50%' | sort: id", "g"},
    {"from: experiment('E') | filter: metadata.model ILIKE 'mis%' | sort: id", "e"},
    {"from: experiment('E') | filter: metadata.model LIKE 'mis%' | sort: id", ""},
    // Trace structure.
    {"from: experiment('E') | filter: is_root | sort: id", "a b c e g"},
    {"from: experiment('E') | filter: root_span_id = 'a' | sort: id", "a d"},
    // Sort and limit.
    {"from: experiment('E') | filter: metrics.tokens IS NOT NULL | sort: metrics.tokens desc | "
     "limit: 2",
     "b a"},
    {"from: experiment('E') | sort: scores.acc desc, id | limit: 3", "a f b"},
    // SQL syntax.
    {"SELECT id FROM experiment('E') WHERE metadata.model = 'gpt' ORDER BY id", "a c g"},
    {"SELECT id FROM experiment('E') WHERE metrics.tokens BETWEEN 50 AND 100 ORDER BY id DESC",
     "error: "},
    {"SELECT id, metrics.tokens * 10 AS t FROM experiment('E') WHERE id = 'b'", "3000", "t"},
    // Shapes: traces returns every span of each matching trace; summary one row per trace.
    {"from: experiment('E') traces | filter: output MATCH 'needle42' | sort: id", "b f"},
    {"from: experiment('E') summary | filter: id = 'f'", "b"},
    {"from: experiment('E') summary | filter: id = 'f'", "2", "num_spans"},
    // Grouping.
    {"from: experiment('E') | filter: metadata.model IS NOT NULL | dimensions: metadata.model "
     "AS m | measures: count(*) AS n | sort: m",
     "1 1 3", "n"},  // Mistral, claude, gpt: strings order by code point
    // Bad and hostile text: clear errors, never a crash.
    {"from: experiment('E') | filter: metrics.tokens >", "error: "},
    {"from: experiment('E') | filter: id = 'unterminated", "error: "},
    {"from: experiment('E') | filter: no_such_function(id) = 1", "error: no_such_function"},
    {"from: nosuch('E')", "error: "},
    {"from: experiment('E') | limit: -1", "error: "},
    {"from: experiment('E') | filter: ((((((((((((((((((((((((((((((id = 'a'", "error: "},
    {"from: experiment('E') | filter: id = 'a'; DROP TABLE spans", "error: "},
};

void ExpectGoldenAnswer(const Case& c, const StatusOr<QueryResult>& r) {
  const std::string expected = c.expected;
  if (expected.rfind("error: ", 0) == 0) {
    ASSERT_FALSE(r.ok()) << c.query << " returned rows";
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << r.status().ToString();
    EXPECT_NE(r.status().message().find(expected.substr(7)), std::string::npos)
        << r.status().ToString();
    return;
  }
  ASSERT_TRUE(r.ok()) << c.query << "\n" << r.status().ToString();
  std::string got;
  for (const auto& row : r->data) {
    const bj::value* v = row.as_object().if_contains(c.field);
    if (!got.empty()) got += " ";
    got += v == nullptr ? "?" : v->is_string() ? std::string(v->get_string()) : json::Serialize(*v);
  }
  EXPECT_EQ(got, expected) << c.query;
}

class GoldenQueryTest : public ::testing::TestWithParam<Case> {
 protected:
  // The data set twice: in the memtable, and flushed to a segment (read through light rows).
  static void SetUpTestSuite() {
    env_ = Load();
    flushed_env_ = Load();
    flushed_env_->Flush();
  }
  static TestEnv* Load() {
    auto* env = new TestEnv();
    bj::array rows = json::Parse(kRows)->as_array();
    for (auto& r : rows) r.as_object()["experiment_id"] = env->exp;
    ARBOR_CHECK(env->writer->Write(env->org, ingest::ParseRows(rows).value()).ok());
    return env;
  }
  static void TearDownTestSuite() {
    delete env_;
    env_ = nullptr;
    delete flushed_env_;
    flushed_env_ = nullptr;
  }

  static StatusOr<QueryResult> Run(TestEnv* env, std::string text) {
    for (std::size_t at; (at = text.find("'E'")) != std::string::npos;) {
      text.replace(at, 3, "'" + env->exp + "'");
    }
    ASSIGN_OR_RETURN(bj::object ast, ParseBtqlText(text));
    ASSIGN_OR_RETURN(Query q, ParseQueryAst(ast));
    return env->engine->Run(env->org, q, std::nullopt);
  }

  static TestEnv* env_;
  static TestEnv* flushed_env_;
};

TestEnv* GoldenQueryTest::env_ = nullptr;
TestEnv* GoldenQueryTest::flushed_env_ = nullptr;

TEST_P(GoldenQueryTest, ReturnsTheGoldenAnswer) {
  for (TestEnv* env : {env_, flushed_env_}) {
    SCOPED_TRACE(env == env_ ? "memtable" : "segment");
    ExpectGoldenAnswer(GetParam(), Run(env, GetParam().query));
  }
}

INSTANTIATE_TEST_SUITE_P(Table, GoldenQueryTest, ::testing::ValuesIn(kCases));

}  // namespace
}  // namespace arbor::query
