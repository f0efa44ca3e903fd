#include "storage/object_store.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "base/util.h"

namespace arbor::storage {
namespace {

TEST(ObjectStore, KeyValidation) {
  EXPECT_TRUE(IsValidObjectKey("attachments/org/abc-123.bin"));
  EXPECT_FALSE(IsValidObjectKey("../etc/passwd"));
  EXPECT_FALSE(IsValidObjectKey("/abs"));
  EXPECT_FALSE(IsValidObjectKey("a//b"));
  EXPECT_FALSE(IsValidObjectKey("a/../b"));
  EXPECT_FALSE(IsValidObjectKey("sp ace"));
  EXPECT_FALSE(IsValidObjectKey(""));
}

TEST(ObjectStore, LocalDirRoundTrip) {
  std::string root = std::filesystem::temp_directory_path() / ("arbor-obj-" + NewUuid());
  auto store = NewLocalDirObjectStore(root);
  ASSERT_TRUE(store->Put("a/b/c.bin", std::string("\0bytes", 6)).ok());
  auto got = store->Get("a/b/c.bin");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, std::string("\0bytes", 6));
  ASSERT_TRUE(store->Delete("a/b/c.bin").ok());
  EXPECT_EQ(store->Get("a/b/c.bin").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store->Put("../x", "y").code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace arbor::storage
