#include <gtest/gtest.h>

#include <filesystem>

#include "base/util.h"
#include "control/auth.h"
#include "control/registry.h"

namespace arbor::control {
namespace {

std::unique_ptr<catalog::Catalog> NewCatalog() {
  auto path = std::filesystem::temp_directory_path() / ("arbor-ctl-" + NewUuid() + ".db");
  return std::move(catalog::OpenSqliteCatalog(path).value());
}

TEST(Auth, KeysAreStoredHashedAndVerified) {
  auto cat = NewCatalog();
  auto org = cat->CreateOrg("o").value();
  Auth auth(*cat);
  auto key = auth.CreateKey(org.id, "admin");
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(key->secret.rfind("arb_", 0), 0u);
  auto keys = cat->ListApiKeys().value();
  ASSERT_EQ(keys.size(), 1u);
  EXPECT_NE(keys[0].key_hash, key->secret);
  EXPECT_EQ(keys[0].key_hash, Sha256Hex(key->secret));
  auto p = auth.Authenticate(key->secret);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->org_id, org.id);
  EXPECT_EQ(auth.Authenticate("wrong").status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(auth.Authenticate("").status().code(), StatusCode::kUnauthenticated);
}

TEST(Auth, RevokedKeyIsRejected) {
  auto cat = NewCatalog();
  auto org = cat->CreateOrg("o").value();
  auto key = Auth(*cat).CreateKey(org.id, "k", "fixed-secret").value();
  ASSERT_TRUE(cat->RevokeApiKey(key.id).ok());
  Auth fresh(*cat);
  EXPECT_EQ(fresh.Authenticate("fixed-secret").status().code(), StatusCode::kUnauthenticated);
}

TEST(Registry, ExperimentNamesAreDeduplicatedUnlessUpdate) {
  auto cat = NewCatalog();
  auto org = cat->CreateOrg("o").value();
  Registry reg(*cat);
  auto project = reg.RegisterProject(org.id, "p").value();
  EXPECT_EQ(reg.RegisterProject(org.id, "p")->id, project.id);
  auto e1 = reg.RegisterExperiment(org.id, project, {.name = "exp"}).value();
  auto e2 = reg.RegisterExperiment(org.id, project, {.name = "exp"}).value();
  EXPECT_EQ(e1.name, "exp");
  EXPECT_EQ(e2.name, "exp-1");
  auto e3 = reg.RegisterExperiment(org.id, project, {.name = "exp", .update = true}).value();
  EXPECT_EQ(e3.id, e1.id);
}

TEST(Registry, BaseIsStoredOrNewestEarlier) {
  auto cat = NewCatalog();
  auto org = cat->CreateOrg("o").value();
  Registry reg(*cat);
  auto project = reg.RegisterProject(org.id, "p").value();
  auto a = reg.RegisterExperiment(org.id, project, {.name = "a"}).value();
  EXPECT_FALSE(reg.BaseExperiment(org.id, a.id).value().has_value());
  auto b = reg.RegisterExperiment(org.id, project, {.name = "b"}).value();
  auto c = reg.RegisterExperiment(org.id, project, {.name = "c"}).value();
  EXPECT_EQ(reg.BaseExperiment(org.id, c.id).value()->id, b.id);
  boost::json::object data;
  data["base_exp_id"] = a.id;
  auto d = reg.RegisterExperiment(org.id, project, {.name = "d", .data = data}).value();
  EXPECT_EQ(reg.BaseExperiment(org.id, d.id).value()->id, a.id);
}

}  // namespace
}  // namespace arbor::control
