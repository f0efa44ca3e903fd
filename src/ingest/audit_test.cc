#include "ingest/audit.h"

#include <gtest/gtest.h>

#include "base/limits.h"
#include "ingest/rows.h"
#include "ingest/xact.h"

namespace arbor::ingest {
namespace {

namespace bj = boost::json;

IncomingRow Row(const char* text) {
  auto r = ParseRow(json::Parse(text).value(), 0);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return std::move(r).value();
}

TEST(Audit, ParseKeepsSourceAndMetadataOutOfTheRow) {
  IncomingRow r = Row(R"({"id":"a","experiment_id":"e","_is_merge":true,"scores":{"h":1},
                          "_audit_source":"app","_audit_metadata":{"reviewer":"r1"},
                          "audit_data":[{"forged":true}]})");
  ASSERT_TRUE(r.audit.has_value());
  EXPECT_EQ(r.audit->source, "app");
  EXPECT_EQ(json::CanonicalString(r.audit->metadata), R"({"reviewer":"r1"})");
  EXPECT_FALSE(r.fields.contains("_audit_source"));
  EXPECT_FALSE(r.fields.contains("_audit_metadata"));
  EXPECT_FALSE(r.fields.contains("audit_data"));  // the trail is the server's, not the client's
  EXPECT_FALSE(Row(R"({"id":"a","experiment_id":"e"})").audit.has_value());
}

TEST(Audit, UnknownSourceIsRejected) {
  auto r =
      ParseRow(json::Parse(R"({"id":"a","experiment_id":"e","_audit_source":"x"})").value(), 3);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("row 3"), std::string::npos);
}

TEST(Audit, MergeAddsAnEntryWithChangesAndReplaceKeepsTheTrail) {
  bj::object old = json::Parse(R"({"id":"a","scores":{"h":0.2,"k":1},"input":"q"})")->as_object();
  IncomingRow fb = Row(R"({"id":"a","experiment_id":"e","_is_merge":true,"scores":{"h":0.9},
                           "_audit_source":"external"})");
  fb.audit->key_id = "key-1";
  bj::object merged = old;
  json::MergeInto(merged, fb.fields, {});
  std::uint64_t x1 = kXactTopBits | (1ull << 16);
  UpdateAuditTrail(merged, &old, fb, x1);
  const bj::array& trail = merged.at("audit_data").as_array();
  ASSERT_EQ(trail.size(), 1u);
  const bj::object& e = trail[0].as_object();
  EXPECT_EQ(e.at("_xact_id").as_string(), XactToString(x1));
  EXPECT_EQ(e.at("source").as_string(), "external");
  EXPECT_EQ(e.at("key_id").as_string(), "key-1");
  EXPECT_TRUE(e.at("user_id").is_null());
  EXPECT_TRUE(e.at("metadata").is_null());
  EXPECT_EQ(json::CanonicalString(e.at("audit_data")),
            R"({"action":"merge","changes":[{"from":0.2,"path":["scores","h"],"to":0.9}]})");

  // A later replace without audit fields keeps the trail and adds nothing.
  IncomingRow replace = Row(R"({"id":"a","experiment_id":"e","input":"new"})");
  bj::object next = replace.fields;
  UpdateAuditTrail(next, &merged, replace, x1 + 1);
  EXPECT_EQ(next.at("audit_data").as_array().size(), 1u);

  // A row never written with audit fields has no trail at all.
  bj::object plain = replace.fields;
  UpdateAuditTrail(plain, nullptr, replace, x1 + 2);
  EXPECT_FALSE(plain.contains("audit_data"));
}

TEST(Audit, NewRowIsAnUpsertAndBigValuesAreOnlyNamed) {
  IncomingRow c = Row(R"({"id":"c","experiment_id":"e","comment":{"text":"nice"},
                          "origin":{"id":"a"},"_audit_source":"app"})");
  bj::object row = c.fields;
  UpdateAuditTrail(row, nullptr, c, kXactTopBits);
  EXPECT_EQ(json::CanonicalString(row.at("audit_data").as_array()[0].at("audit_data")),
            R"({"action":"upsert"})");

  bj::object old = json::Parse(R"({"id":"a","output":"short"})")->as_object();
  IncomingRow big = Row(R"({"id":"a","experiment_id":"e","_is_merge":true,"_audit_source":"api",
                            "output":[1,2,3]})");
  bj::object merged = old;
  UpdateAuditTrail(merged, &old, big, kXactTopBits);
  EXPECT_EQ(json::CanonicalString(merged.at("audit_data").as_array()[0].at("audit_data")),
            R"({"action":"merge","changes":[{"from":"short","path":["output"]}]})");
}

TEST(Audit, TrailKeepsTheNewestEntries) {
  bj::object row = json::Parse(R"({"id":"a"})")->as_object();
  IncomingRow fb =
      Row(R"({"id":"a","experiment_id":"e","_is_merge":true,"_audit_source":"app","tags":[]})");
  for (std::uint64_t i = 0; i < limits::audit_entries_max + 5; ++i) {
    bj::object prev = row;
    UpdateAuditTrail(row, &prev, fb, kXactTopBits + i);
  }
  const bj::array& trail = row.at("audit_data").as_array();
  ASSERT_EQ(trail.size(), limits::audit_entries_max);
  EXPECT_EQ(trail.back().at("_xact_id").as_string(),
            XactToString(kXactTopBits + limits::audit_entries_max + 4));
}

TEST(Audit, AuditLogRowsExpandEachEntryWithTheRowIds) {
  bj::array rows = json::Parse(R"([
      {"id":"a","experiment_id":"e","project_id":"p","input":"q","audit_data":[
        {"_xact_id":"1","source":"app","audit_data":{"action":"upsert"}},
        {"_xact_id":"2","source":"external","audit_data":{"action":"merge"}}]},
      {"id":"b","experiment_id":"e","input":"z"}])")
                       ->as_array();
  bj::array log = AuditLogRows(rows);
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(json::CanonicalString(log[1]),
            R"({"_xact_id":"2","audit_data":{"action":"merge"},"experiment_id":"e","id":"a",)"
            R"("project_id":"p","source":"external"})");
}

}  // namespace
}  // namespace arbor::ingest
