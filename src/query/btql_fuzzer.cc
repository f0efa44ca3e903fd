// Fuzzes the BTQL JSON AST parser and the filter evaluator.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "json/json.h"
#include "query/btql.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto ast = arbor::json::Parse(text);
  if (!ast.ok() || !ast->is_object()) return 0;
  auto q = arbor::query::ParseQueryAst(ast->get_object());
  if (!q.ok()) return 0;
  static const boost::json::object row =
      arbor::json::Parse(R"({"id":"a","input":"hi there","scores":{"s":0.5},"tags":["x"],
                            "metadata":{"m":[1,2,{"k":"v"}]},"span_parents":["p"],
                            "created":"2024-01-31T10:00:00.5Z","metrics":{"start":1.5}})")
          ->as_object();
  if (q->filter) (void)arbor::query::Matches(*q->filter, row);
  if (q->having) (void)arbor::query::Matches(*q->having, row);
  for (const auto& s : q->select) (void)arbor::query::Evaluate(s.expr, row);
  return 0;
}
