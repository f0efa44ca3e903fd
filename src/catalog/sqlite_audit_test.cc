// The audit log table: append, org scoping, filters and the newest-first cursor.
#include <gtest/gtest.h>

#include <filesystem>

#include "base/util.h"
#include "catalog/catalog.h"

namespace arbor::catalog {
namespace {

class AuditTable : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = std::filesystem::temp_directory_path() / ("arbor-audit-" + NewUuid() + ".db");
    auto cat = OpenSqliteCatalog(path_);
    ASSERT_TRUE(cat.ok()) << cat.status().ToString();
    cat_ = std::move(*cat);
  }
  void TearDown() override {
    cat_.reset();
    std::filesystem::remove(path_);
  }
  void Add(const std::string& org, const std::string& action, const std::string& actor,
           std::int64_t time_us = 0) {
    auto e = cat_->AppendAuditEvent(AuditEvent{.time_us = time_us,
                                               .org_id = org,
                                               .actor_type = "api_key",
                                               .actor_id = actor,
                                               .action = action,
                                               .outcome = "ok"});
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    EXPECT_GT(e->seq, 0);
    EXPECT_FALSE(e->time.empty());
  }
  std::vector<std::string> Actions(const std::string& org, const AuditQuery& q) {
    auto list = cat_->ListAuditEvents(org, q);
    EXPECT_TRUE(list.ok());
    std::vector<std::string> out;
    for (const auto& e : *list) out.push_back(e.action);
    return out;
  }

  std::string path_;
  std::unique_ptr<Catalog> cat_;
};

TEST_F(AuditTable, OrgScopedNewestFirstWithFilters) {
  Add("a", "api_key.create", "k1", 1'000);
  Add("a", "ai_secret.read", "k2", 2'000);
  Add("b", "api_key.revoke", "k3", 3'000);
  Add("a", "api_key.revoke", "k1", 4'000);
  EXPECT_EQ(Actions("a", {}),
            (std::vector<std::string>{"api_key.revoke", "ai_secret.read", "api_key.create"}));
  EXPECT_EQ(Actions("b", {}), (std::vector<std::string>{"api_key.revoke"}));
  EXPECT_EQ(Actions("a", {.action = "api_key.*"}),
            (std::vector<std::string>{"api_key.revoke", "api_key.create"}));
  EXPECT_EQ(Actions("a", {.action = "ai_secret.read"}),
            (std::vector<std::string>{"ai_secret.read"}));
  EXPECT_EQ(Actions("a", {.actor = "k2"}), (std::vector<std::string>{"ai_secret.read"}));
  EXPECT_EQ(Actions("a", {.since_us = 2'000}),
            (std::vector<std::string>{"api_key.revoke", "ai_secret.read"}));
}

TEST_F(AuditTable, CursorPagesWithoutGapsOrRepeats) {
  for (int i = 0; i < 5; ++i) Add("a", "prompt.update", "k1");
  auto first = cat_->ListAuditEvents("a", {.limit = 2});
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->size(), 2u);
  auto rest = cat_->ListAuditEvents("a", {.limit = 10, .before_seq = first->back().seq});
  ASSERT_TRUE(rest.ok());
  ASSERT_EQ(rest->size(), 3u);
  EXPECT_LT(rest->front().seq, first->back().seq);
}

}  // namespace
}  // namespace arbor::catalog
