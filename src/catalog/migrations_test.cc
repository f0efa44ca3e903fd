#include "catalog/migrations.h"

#include <gtest/gtest.h>

#include <vector>

#include "catalog/sqlite_stmt.h"

namespace arbor::catalog {
namespace {

class MigrationsTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(sqlite3_open(":memory:", &db_), SQLITE_OK); }
  void TearDown() override { sqlite3_close(db_); }

  bool HasTable(const std::string& name) {
    Stmt s(db_, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?");
    s.Bind(1, name);
    return s.Step() == SQLITE_ROW;
  }

  sqlite3* db_ = nullptr;
};

TEST_F(MigrationsTest, FreshCatalogGetsEveryMigration) {
  ASSERT_TRUE(Migrate(db_, CatalogMigrations()).ok());
  EXPECT_EQ(*SchemaVersion(db_), CatalogMigrations().back().version);
  EXPECT_TRUE(HasTable("orgs"));
  EXPECT_TRUE(HasTable("functions"));
  EXPECT_TRUE(HasTable("ai_secrets"));
  // Opening again changes nothing.
  ASSERT_TRUE(Migrate(db_, CatalogMigrations()).ok());
  EXPECT_EQ(*SchemaVersion(db_), CatalogMigrations().back().version);
}

TEST_F(MigrationsTest, OlderCatalogIsUpgradedInOrder) {
  std::vector<Migration> first = {CatalogMigrations().front()};
  ASSERT_TRUE(Migrate(db_, first).ok());
  EXPECT_EQ(*SchemaVersion(db_), 1);
  EXPECT_FALSE(HasTable("functions"));
  ASSERT_TRUE(Migrate(db_, CatalogMigrations()).ok());
  EXPECT_EQ(*SchemaVersion(db_), CatalogMigrations().back().version);
  EXPECT_TRUE(HasTable("functions"));
}

TEST_F(MigrationsTest, NewerCatalogIsRefused) {
  ASSERT_TRUE(Migrate(db_, CatalogMigrations()).ok());
  std::vector<Migration> older = {CatalogMigrations().front()};
  Status s = Migrate(db_, older);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("newer"), std::string::npos);
}

TEST_F(MigrationsTest, FailedMigrationLeavesThePreviousVersionWhole) {
  std::vector<Migration> list = {
      {1, "one", "CREATE TABLE a (x INTEGER);"},
      {2, "broken", "CREATE TABLE b (x INTEGER); INSERT INTO no_such_table VALUES (1);"},
  };
  Status s = Migrate(db_, list);
  EXPECT_EQ(s.code(), StatusCode::kInternal);
  EXPECT_NE(s.message().find("broken"), std::string::npos);
  EXPECT_EQ(*SchemaVersion(db_), 1);
  EXPECT_TRUE(HasTable("a"));
  EXPECT_FALSE(HasTable("b"));  // rolled back with the failing statement
}

}  // namespace
}  // namespace arbor::catalog
