#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>

#include "base/util.h"
#include "catalog/catalog.h"
#include "catalog/sqlite_backup.h"

namespace arbor::catalog {
namespace {

class RetentionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("arbor-retention-" + NewUuid());
    std::filesystem::create_directories(dir_);
    auto cat = OpenSqliteCatalog((dir_ / "catalog.db").string());
    ASSERT_TRUE(cat.ok()) << cat.status().ToString();
    cat_ = std::move(*cat);
  }
  void TearDown() override {
    cat_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::filesystem::path dir_;
  std::unique_ptr<Catalog> cat_;
};

TEST_F(RetentionTest, SetReplaceListAndRemove) {
  ASSERT_TRUE(cat_->SetRetentionPolicy({"org1", "p1", "project_logs", 30, ""}).ok());
  ASSERT_TRUE(cat_->SetRetentionPolicy({"org1", "p1", "experiment", 90, ""}).ok());
  ASSERT_TRUE(cat_->SetRetentionPolicy({"org2", "p2", "project_logs", 7, ""}).ok());
  ASSERT_TRUE(cat_->SetRetentionPolicy({"org1", "p1", "project_logs", 10, ""}).ok());  // replace

  auto org1 = cat_->ListRetentionPolicies("org1");
  ASSERT_TRUE(org1.ok());
  ASSERT_EQ(org1->size(), 2u);
  EXPECT_EQ((*org1)[0].object_type, "experiment");
  EXPECT_EQ((*org1)[0].max_age_days, 90);
  EXPECT_EQ((*org1)[1].object_type, "project_logs");
  EXPECT_EQ((*org1)[1].max_age_days, 10);
  EXPECT_FALSE((*org1)[1].updated.empty());
  EXPECT_EQ(cat_->ListRetentionPolicies("")->size(), 3u);  // every org, for the sweep

  ASSERT_TRUE(cat_->SetRetentionPolicy({"org1", "p1", "project_logs", 0, ""}).ok());  // remove
  EXPECT_EQ(cat_->ListRetentionPolicies("org1")->size(), 1u);
  EXPECT_EQ(cat_->ListRetentionPolicies("org3")->size(), 0u);
}

TEST_F(RetentionTest, OnlineBackupCopiesACommittedState) {
  ASSERT_TRUE(cat_->CreateOrg("acme").ok());
  ASSERT_TRUE(cat_->SetRetentionPolicy({"o", "p", "project_logs", 5, ""}).ok());
  const std::string copy = (dir_ / "copy.db").string();
  // The source stays open and in use (WAL journal) while it is copied.
  ASSERT_TRUE(BackupSqliteFile((dir_ / "catalog.db").string(), copy).ok());
  EXPECT_EQ(BackupSqliteFile((dir_ / "catalog.db").string(), copy).code(),
            StatusCode::kAlreadyExists);
  ASSERT_TRUE(cat_->CreateOrg("after-backup").ok());

  auto restored = OpenSqliteCatalog(copy);
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  EXPECT_TRUE((*restored)->FindOrgByName("acme").ok());
  EXPECT_FALSE((*restored)->FindOrgByName("after-backup").ok());
  EXPECT_EQ((*restored)->ListRetentionPolicies("")->size(), 1u);
}

}  // namespace
}  // namespace arbor::catalog
