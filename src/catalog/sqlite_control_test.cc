// Prompts/functions versions and AI secret rows in the SQLite catalog.
#include <gtest/gtest.h>

#include <filesystem>

#include "base/util.h"
#include "catalog/catalog.h"

namespace arbor::catalog {
namespace {

constexpr std::uint64_t kBase = 0x0DE1ull << 48;

class ControlTables : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = std::filesystem::temp_directory_path() / ("arbor-ctl-" + NewUuid() + ".db");
    auto cat = OpenSqliteCatalog(path_);
    ASSERT_TRUE(cat.ok()) << cat.status().ToString();
    cat_ = std::move(*cat);
  }
  void TearDown() override {
    cat_.reset();
    std::filesystem::remove(path_);
  }
  FunctionRecord Prompt(const std::string& org, const std::string& slug, const char* text) {
    return FunctionRecord{.id = NewUuid(),
                          .org_id = org,
                          .project_id = "p1",
                          .kind = "prompt",
                          .slug = slug,
                          .created = "now",
                          .data = {{"text", text}}};
  }

  std::string path_;
  std::unique_ptr<Catalog> cat_;
};

TEST_F(ControlTables, VersionsEnvironmentsAndSlugs) {
  auto v1 = cat_->CreateFunction(Prompt("o1", "greet", "one"), kBase + 10, {"prod"});
  ASSERT_TRUE(v1.ok()) << v1.status().ToString();
  EXPECT_EQ(v1->xact_id, kBase + 10);
  FunctionRecord next = *v1;
  next.data = {{"text", "two"}};
  // A smaller min_xact still yields a larger version.
  auto v2 = cat_->AddFunctionVersion(next, kBase, {});
  ASSERT_TRUE(v2.ok());
  EXPECT_EQ(v2->xact_id, kBase + 11);

  EXPECT_EQ(cat_->GetFunction("o1", v1->id, {})->data.at("text"), "two");
  EXPECT_EQ(cat_->GetFunction("o1", v1->id, {.version = kBase + 10})->data.at("text"), "one");
  EXPECT_EQ(cat_->GetFunction("o1", v1->id, {.environment = "prod"})->xact_id, kBase + 10);
  EXPECT_FALSE(cat_->GetFunction("o1", v1->id, {.version = kBase + 9}).ok());
  EXPECT_FALSE(cat_->GetFunction("o1", v1->id, {.environment = "dev"}).ok());
  EXPECT_FALSE(cat_->GetFunction("o2", v1->id, {}).ok());  // another org

  EXPECT_EQ(cat_->CreateFunction(Prompt("o1", "greet", "dup"), kBase, {}).status().code(),
            StatusCode::kAlreadyExists);
  EXPECT_TRUE(cat_->CreateFunction(Prompt("o2", "greet", "theirs"), kBase, {}).ok());
  auto listed = cat_->ListFunctions("o1", {.slug = "greet"});
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ(listed->front().xact_id, kBase + 11);

  ASSERT_TRUE(cat_->DeleteFunction("o1", v1->id).ok());
  EXPECT_FALSE(cat_->GetFunction("o1", v1->id, {}).ok());
  EXPECT_EQ(cat_->DeleteFunction("o1", v1->id).code(), StatusCode::kNotFound);
  EXPECT_TRUE(cat_->CreateFunction(Prompt("o1", "greet", "again"), kBase, {}).ok());
}

TEST_F(ControlTables, SecretsAreScopedAndRewrapIsAllOrNothing) {
  AiSecretRecord s{.id = NewUuid(),
                   .org_id = "o1",
                   .name = "OPENAI",
                   .type = "openai",
                   .metadata = nullptr,
                   .preview = "********",
                   .sealed_value = "aa",
                   .wrapped_key = "k1",
                   .created = "now",
                   .updated_at = "now"};
  ASSERT_TRUE(cat_->CreateAiSecret(s).ok());
  AiSecretRecord dup = s;
  dup.id = NewUuid();
  EXPECT_EQ(cat_->CreateAiSecret(dup).code(), StatusCode::kAlreadyExists);
  dup.project_id = "p1";  // project-level: a different namespace
  EXPECT_TRUE(cat_->CreateAiSecret(dup).ok());
  EXPECT_FALSE(cat_->GetAiSecret("o2", s.id).ok());
  EXPECT_EQ(cat_->ListAiSecrets("o2")->size(), 0u);
  EXPECT_EQ(cat_->ListAiSecrets("")->size(), 2u);
  EXPECT_EQ(cat_->DeleteAiSecret("o2", s.id).code(), StatusCode::kNotFound);

  EXPECT_FALSE(cat_->RewrapAiSecrets({{s.id, "k2"}, {"missing", "k3"}}).ok());
  EXPECT_EQ(cat_->GetAiSecret("o1", s.id)->wrapped_key, "k1");  // rolled back
  ASSERT_TRUE(cat_->RewrapAiSecrets({{s.id, "k2"}}).ok());
  EXPECT_EQ(cat_->GetAiSecret("o1", s.id)->wrapped_key, "k2");
  EXPECT_EQ(cat_->GetAiSecret("o1", s.id)->type, "openai");
}

}  // namespace
}  // namespace arbor::catalog
