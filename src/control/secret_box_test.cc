#include "control/secret_box.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "base/util.h"
#include "control/secrets.h"

namespace arbor::control {
namespace {

SecretBox NewBox() {
  auto box = SecretBox::Create(RandomBytes(kAesKeyBytes));
  return std::move(*box);
}

TEST(AesGcm, RoundTripWithAad) {
  std::string key = RandomBytes(kAesKeyBytes);
  auto sealed = AesGcmSeal(key, "sk-live-value", "org/1");
  ASSERT_TRUE(sealed.ok());
  EXPECT_EQ(sealed->size(), kGcmNonceBytes + 13 + kGcmTagBytes);
  EXPECT_EQ(sealed->find("sk-live-value"), std::string::npos);
  auto opened = AesGcmOpen(key, *sealed, "org/1");
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(*opened, "sk-live-value");
  EXPECT_EQ(AesGcmOpen(key, *sealed, "org/2").status().code(), StatusCode::kPermissionDenied);
  EXPECT_FALSE(AesGcmOpen(key, "short", "org/1").ok());
  EXPECT_FALSE(AesGcmSeal("short key", "x", "").ok());
}

TEST(AesGcm, EveryTamperedByteFails) {
  std::string key = RandomBytes(kAesKeyBytes);
  std::string sealed = *AesGcmSeal(key, "a secret value", "aad");
  for (std::size_t i = 0; i < sealed.size(); ++i) {
    std::string bad = sealed;
    bad[i] = static_cast<char>(bad[i] ^ 0x01);
    EXPECT_FALSE(AesGcmOpen(key, bad, "aad").ok()) << "byte " << i;
  }
}

TEST(AesGcm, NoncesAreUnique) {
  std::string key = RandomBytes(kAesKeyBytes);
  std::set<std::string> nonces;
  for (int i = 0; i < 2000; ++i) {
    nonces.insert(AesGcmSeal(key, "same plaintext", "")->substr(0, kGcmNonceBytes));
  }
  EXPECT_EQ(nonces.size(), 2000u);
}

TEST(SecretBox, SealOpenAndWrongKey) {
  SecretBox box = NewBox();
  auto sealed = box.Seal("sk-1234567890abcdef", "org/id");
  ASSERT_TRUE(sealed.ok());
  EXPECT_EQ(sealed->sealed_value.find(HexEncode("sk-1234567890abcdef")), std::string::npos);
  EXPECT_EQ(*box.Open(*sealed, "org/id"), "sk-1234567890abcdef");
  // Same value twice: different data keys and nonces.
  auto again = box.Seal("sk-1234567890abcdef", "org/id");
  EXPECT_NE(again->sealed_value, sealed->sealed_value);
  EXPECT_NE(again->wrapped_key, sealed->wrapped_key);
  EXPECT_FALSE(NewBox().Open(*sealed, "org/id").ok());
  EXPECT_FALSE(box.Open(*sealed, "other-org/id").ok());
  SealedSecret swapped{sealed->sealed_value, again->wrapped_key};
  EXPECT_FALSE(box.Open(swapped, "org/id").ok());  // another secret's data key
  SealedSecret bad_hex{sealed->sealed_value, "zz"};
  EXPECT_FALSE(box.Open(bad_hex, "org/id").ok());
}

TEST(SecretBox, RewrapKeepsValueAndDropsOldKey) {
  SecretBox old_box = NewBox();
  SecretBox new_box = NewBox();
  SealedSecret sealed = *old_box.Seal("value", "a");
  auto rewrapped = old_box.Rewrap(sealed.wrapped_key, "a", new_box);
  ASSERT_TRUE(rewrapped.ok());
  SealedSecret rotated{sealed.sealed_value, *rewrapped};
  EXPECT_EQ(*new_box.Open(rotated, "a"), "value");
  EXPECT_FALSE(old_box.Open(rotated, "a").ok());
  EXPECT_FALSE(new_box.Rewrap(sealed.wrapped_key, "a", old_box).ok());
}

TEST(MasterKey, ParsesBase64Of32Bytes) {
  std::string raw = RandomBytes(kAesKeyBytes);
  auto key = ParseMasterKey("  " + Base64Encode(raw) + "\n");
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(*key, raw);
  EXPECT_FALSE(ParseMasterKey(Base64Encode(RandomBytes(16))).ok());
  EXPECT_FALSE(ParseMasterKey("not base64!").ok());
  EXPECT_FALSE(ParseMasterKey("").ok());
  EXPECT_EQ(*Base64Decode(Base64Encode("ab")), "ab");
  EXPECT_FALSE(SecretBox::Create("short").ok());
}

TEST(MasterKey, GeneratedOnceWithOwnerOnlyMode) {
  std::string dir = std::filesystem::temp_directory_path() / ("arbor-kek-" + NewUuid());
  std::filesystem::create_directories(dir);
  unsetenv("ARBOR_MASTER_KEY");
  bool generated = false;
  EXPECT_EQ(LoadMasterKey("", dir, /*may_generate=*/false, generated).status().code(),
            StatusCode::kNotFound);
  auto first = LoadMasterKey("", dir, /*may_generate=*/true, generated);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_TRUE(generated);
  auto perms = std::filesystem::status(dir + "/master.key").permissions();
  EXPECT_EQ(perms & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  auto second = LoadMasterKey("", dir, /*may_generate=*/true, generated);
  EXPECT_FALSE(generated);
  EXPECT_EQ(*second, *first);
  EXPECT_FALSE(LoadMasterKey(dir + "/missing.key", dir, true, generated).ok());
  std::filesystem::remove_all(dir);
}

TEST(AiSecrets, RotationAndVerifyOverARealCatalog) {
  std::string path =
      std::filesystem::temp_directory_path() / ("arbor-secrets-" + NewUuid() + ".db");
  auto cat = catalog::OpenSqliteCatalog(path);
  ASSERT_TRUE(cat.ok());
  auto org = (*cat)->CreateOrg("acme");
  SecretBox old_box = NewBox();
  SecretBox new_box = NewBox();
  AiSecrets secrets(**cat, old_box);
  for (const char* name : {"OPENAI_API_KEY", "ANTHROPIC_API_KEY"}) {
    auto made = secrets.Create(org->id, {.name = name, .secret = std::string("sk-") + name});
    ASSERT_TRUE(made.ok()) << made.status().ToString();
    EXPECT_EQ(made->record.preview, MaskSecret(std::string("sk-") + name));
  }
  EXPECT_EQ(VerifyAll(**cat, old_box)->ok, 2u);
  EXPECT_TRUE(CheckMasterKey(**cat, old_box).ok());
  EXPECT_FALSE(RotateMasterKey(**cat, new_box, old_box).ok());  // wrong old key: no change
  EXPECT_EQ(VerifyAll(**cat, old_box)->ok, 2u);
  EXPECT_EQ(*RotateMasterKey(**cat, old_box, new_box), 2u);
  EXPECT_EQ(VerifyAll(**cat, new_box)->ok, 2u);
  EXPECT_EQ(VerifyAll(**cat, old_box)->ok, 0u);
  EXPECT_FALSE(CheckMasterKey(**cat, old_box).ok());
  std::filesystem::remove(path);
}

TEST(AiSecrets, MaskNeverShowsShortValues) {
  EXPECT_EQ(MaskSecret("short"), "********");
  EXPECT_EQ(MaskSecret("sk-abcdefghijkl"), "********ijkl");
}

}  // namespace
}  // namespace arbor::control
