#include "ingest/rows.h"

#include <gtest/gtest.h>

namespace arbor::ingest {
namespace {

StatusOr<IncomingRow> P(std::string_view text) { return ParseRow(json::Parse(text).value(), 0); }

TEST(Rows, RoutesEachObjectType) {
  EXPECT_EQ(P(R"({"id":"a","experiment_id":"e"})")->object.type, ObjectType::kExperiment);
  EXPECT_EQ(P(R"({"id":"a","dataset_id":"d"})")->object.type, ObjectType::kDataset);
  EXPECT_EQ(P(R"({"id":"a","project_id":"p","log_id":"g"})")->object.type,
            ObjectType::kProjectLogs);
  EXPECT_EQ(P(R"({"id":"a","prompt_session_id":"s","log_id":"x"})")->object.type,
            ObjectType::kPlaygroundLogs);
}

TEST(Rows, RejectsMissingOrSeveralObjectIds) {
  EXPECT_EQ(P(R"({"id":"a"})").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(P(R"({"id":"a","experiment_id":"e","dataset_id":"d"})").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_FALSE(P(R"({"id":"a","project_id":"p"})").ok());  // no log_id
  EXPECT_FALSE(P(R"({"id":"a","experiment_id":"e","project_id":"p","log_id":"g"})").ok());
  // A bare project_id beside an experiment id is informational.
  EXPECT_EQ(P(R"({"id":"a","experiment_id":"e","project_id":"p"})")->object.type,
            ObjectType::kExperiment);
  EXPECT_FALSE(P(R"([1,2])").ok());
}

TEST(Rows, RejectsWrongTypesInReservedFields) {
  for (const char* bad : {
           R"({"id":5,"experiment_id":"e"})",
           R"({"id":"a","experiment_id":"e","_is_merge":"yes"})",
           R"({"id":"a","experiment_id":"e","span_parents":"p"})",
           R"({"id":"a","experiment_id":"e","scores":[1]})",
           R"({"id":"a","experiment_id":"e","scores":{"s":"high"}})",
           R"({"id":"a","experiment_id":"e","tags":{"a":1}})",
           R"({"id":"a","experiment_id":"e","created":12})",
           R"({"id":"a","experiment_id":"e","metadata":"m"})",
           R"({"id":"a","experiment_id":"e","_merge_paths":["a"]})",
           R"({"id":"a","experiment_id":7})",
       }) {
    EXPECT_EQ(P(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(Rows, StripsControlFlagsAndAuditFields) {
  auto r = P(R"({"id":"a","experiment_id":"e","_is_merge":true,"_audit_source":"app",
                 "_audit_metadata":{},"_merge_paths":[["input"]],"scores":{"s":null}})");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->is_merge);
  EXPECT_EQ(r->merge_paths.size(), 1u);
  EXPECT_FALSE(r->fields.contains("_is_merge"));
  EXPECT_FALSE(r->fields.contains("_audit_source"));
  EXPECT_TRUE(r->fields.contains("scores"));
}

TEST(Rows, MissingIdGetsAUuid) {
  auto r = P(R"({"dataset_id":"d","input":1})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->id.size(), 36u);
}

TEST(Rows, OneBadRowRejectsTheRequest) {
  auto rows = json::Parse(R"([{"id":"a","experiment_id":"e"},{"id":"b"}])").value();
  auto parsed = ParseRows(rows.as_array());
  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.status().message().find("row 1"), std::string::npos);
}

}  // namespace
}  // namespace arbor::ingest
