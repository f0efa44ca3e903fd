#include "catalog/catalog.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "base/util.h"

namespace arbor::catalog {
namespace {

std::vector<std::string>& TempPaths() {
  static std::vector<std::string> paths;
  return paths;
}

// A fresh database path; the file and its WAL side files go when the test binary exits.
std::string TempPath() {
  if (TempPaths().empty()) {
    std::atexit([] {
      for (const std::string& p : TempPaths()) {
        for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(p + suffix);
      }
    });
  }
  std::string path = std::filesystem::temp_directory_path() / ("arbor-cat-" + NewUuid() + ".db");
  TempPaths().push_back(path);
  return path;
}

TEST(SqliteCatalog, OrgsKeysAndObjectsPersist) {
  std::string path = TempPath();
  std::string org_id, project_id;
  {
    auto cat = OpenSqliteCatalog(path);
    ASSERT_TRUE(cat.ok()) << cat.status().ToString();
    auto org = (*cat)->CreateOrg("acme");
    ASSERT_TRUE(org.ok());
    org_id = org->id;
    EXPECT_EQ((*cat)->CreateOrg("acme").status().code(), StatusCode::kAlreadyExists);
    ASSERT_TRUE((*cat)
                    ->CreateApiKey({.id = NewUuid(),
                                    .org_id = org_id,
                                    .name = "k",
                                    .key_hash = Sha256Hex("secret"),
                                    .created = "now"})
                    .ok());
    CatalogObject p{.id = NewUuid(),
                    .org_id = org_id,
                    .kind = ObjectKind::kProject,
                    .name = "proj",
                    .created = "now"};
    auto created = (*cat)->CreateObject(p);
    ASSERT_TRUE(created.ok());
    project_id = created->id;
    EXPECT_EQ((*cat)->CreateObject(p).status().code(), StatusCode::kAlreadyExists);
  }
  auto cat = OpenSqliteCatalog(path);
  ASSERT_TRUE(cat.ok());
  auto key = (*cat)->FindApiKeyByHash(Sha256Hex("secret"));
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(key->org_id, org_id);
  EXPECT_FALSE(key->revoked);
  ASSERT_TRUE((*cat)->RevokeApiKey(key->id).ok());
  EXPECT_TRUE((*cat)->FindApiKeyByHash(Sha256Hex("secret"))->revoked);
  auto got = (*cat)->GetObject(org_id, ObjectKind::kProject, project_id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->name, "proj");
  // Another org cannot see it.
  EXPECT_EQ((*cat)->GetObject("other", ObjectKind::kProject, project_id).status().code(),
            StatusCode::kNotFound);
  auto list = (*cat)->ListObjects(org_id, ObjectKind::kProject, {.name = "proj"});
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->size(), 1u);
  ASSERT_TRUE((*cat)->DeleteObject(org_id, ObjectKind::kProject, project_id).ok());
  EXPECT_EQ((*cat)->ListObjects(org_id, ObjectKind::kProject, {})->size(), 0u);
}

}  // namespace
}  // namespace arbor::catalog
