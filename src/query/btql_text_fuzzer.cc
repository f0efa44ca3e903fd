// Fuzzes the BTQL text parser: any bytes must give an AST or an error, never a crash; a parsed
// AST must be safe for ParseQueryAst and the evaluator; parsing must be deterministic.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "json/json.h"
#include "query/btql.h"
#include "query/btql_text.h"

namespace {

// The text an outcome leaves: the canonical AST, or the error message.
std::string Outcome(std::string_view text) {
  auto ast = arbor::query::ParseBtqlText(text);
  if (!ast.ok()) return "error: " + ast.status().message();
  return arbor::json::CanonicalString(*ast);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto ast = arbor::query::ParseBtqlText(text);
  if (!ast.ok()) {
    // Every error is a client error that says where.
    if (ast.status().code() != arbor::StatusCode::kInvalidArgument ||
        ast.status().message().rfind("line ", 0) != 0) {
      std::abort();
    }
  }
  std::string first =
      ast.ok() ? arbor::json::CanonicalString(*ast) : "error: " + ast.status().message();
  if (Outcome(text) != first) std::abort();  // deterministic
  if (!ast.ok()) return 0;
  auto q = arbor::query::ParseQueryAst(*ast);
  if (!q.ok()) return 0;
  static const boost::json::object row =
      arbor::json::Parse(R"({"id":"a","input":"hi there","scores":{"s":0.5},"tags":["x"],
                            "metadata":{"m":[1,2,{"k":"v"}]},"span_parents":["p"],
                            "created":"2024-01-31T10:00:00.5Z","metrics":{"start":1.5}})")
          ->as_object();
  if (q->filter) (void)arbor::query::Matches(*q->filter, row);
  if (q->having) (void)arbor::query::Matches(*q->having, row);
  for (const auto& s : q->select) (void)arbor::query::Evaluate(s.expr, row);
  for (const auto& s : q->sort) (void)arbor::query::Evaluate(s.expr, row);
  return 0;
}
