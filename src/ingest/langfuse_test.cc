#include "ingest/langfuse.h"

#include <gtest/gtest.h>

#include "json/json.h"

namespace arbor::ingest::langfuse {
namespace {

namespace bj = boost::json;

StatusOr<Batch> Map(std::string_view text) { return MapBatch(json::Parse(text).value()); }

TEST(Langfuse, RejectsBodiesThatAreNotBatches) {
  for (const char* bad : {"[]", "{}", R"({"batch":{}})", R"({"batch":"x"})"}) {
    EXPECT_EQ(Map(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(Langfuse, ObservationTimesUsageAndImplicitTraceRoot) {
  auto b = Map(R"({"batch":[{"id":"e1","type":"generation-create","body":{
    "id":"g","traceId":"t","name":"llm","startTime":"2024-01-02T03:04:05.250Z",
    "endTime":"2024-01-02T04:04:05.750+01:00","usage":{"promptTokens":2,"completionTokens":3},
    "costDetails":{"total":0.5},"model":"m","level":"ERROR","statusMessage":"boom"}}]})");
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  ASSERT_EQ(b->rows.size(), 2u);
  EXPECT_TRUE(json::Equals(b->rows[0], json::Parse(R"({"id":"t","span_id":"t",
    "root_span_id":"t"})")
                                           .value()));
  const bj::object& g = b->rows[1];
  EXPECT_EQ(g.at("span_parents"), bj::array{"t"});
  EXPECT_EQ(g.at("created"), "2024-01-02T03:04:05.250Z");
  EXPECT_DOUBLE_EQ(g.at("metrics").at("end").as_double() - g.at("metrics").at("start").as_double(),
                   0.5);
  EXPECT_EQ(g.at("metrics").at("tokens"), 5);
  EXPECT_EQ(g.at("metrics").at("estimated_cost"), 0.5);
  EXPECT_EQ(g.at("error"), "boom");
  EXPECT_EQ(g.at("span_attributes"), (bj::object{{"type", "llm"}, {"name", "llm"}}));
  ASSERT_EQ(b->results.size(), 1u);
  EXPECT_EQ(b->results[0].status, 201);
}

TEST(Langfuse, UpdatesKeepParentsAndBadEventsAreListed) {
  auto b = Map(R"({"batch":[
    {"id":"u","type":"span-update","body":{"id":"s","output":1}},
    {"id":"bad1","type":"nope-create","body":{"id":"x"}},
    {"id":"bad2","type":"score-create","body":{"traceId":"t","name":"n","value":[1]}},
    {"type":"trace-create","body":{"id":"t"}},
    "not an event"]})");
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  ASSERT_EQ(b->rows.size(), 1u);
  EXPECT_FALSE(b->rows[0].contains("span_parents"));
  EXPECT_FALSE(b->rows[0].contains("root_span_id"));
  ASSERT_EQ(b->results.size(), 5u);
  EXPECT_EQ(b->results[0].status, 201);
  for (std::size_t i = 1; i < 5; ++i) EXPECT_EQ(b->results[i].status, 400) << i;
  EXPECT_NE(b->results[1].message.find("nope-create"), std::string::npos);
  EXPECT_NE(b->results[3].message.find("id"), std::string::npos);
}

}  // namespace
}  // namespace arbor::ingest::langfuse
