// argon2id password hashing: round trip, mismatch, encoded parameters, policy.
#include "control/password.h"

#include <gtest/gtest.h>

#include <chrono>

#include "base/limits.h"

namespace arbor::control {
namespace {

TEST(Password, RoundTrip) {
  auto hash = HashPassword("correct horse battery");
  ASSERT_TRUE(hash.ok()) << hash.status().ToString();
  EXPECT_TRUE(VerifyPassword(*hash, "correct horse battery"));
  EXPECT_FALSE(VerifyPassword(*hash, "correct horse batterY"));
  EXPECT_FALSE(VerifyPassword(*hash, ""));
  // The plaintext is not in the stored form.
  EXPECT_EQ(hash->find("correct"), std::string::npos);
}

TEST(Password, EncodedFormCarriesTheParameters) {
  auto hash = HashPassword("password-1");
  ASSERT_TRUE(hash.ok());
  std::string params = "$argon2id$v=19$m=" + std::to_string(limits::password_argon2_memory_kib) +
                       ",t=" + std::to_string(limits::password_argon2_passes) +
                       ",p=" + std::to_string(limits::password_argon2_lanes) + "$";
  EXPECT_EQ(hash->rfind(params, 0), 0u) << *hash;
}

TEST(Password, SaltsDiffer) {
  auto a = HashPassword("same password");
  auto b = HashPassword("same password");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(*a, *b);
  EXPECT_TRUE(VerifyPassword(*b, "same password"));
}

TEST(Password, MalformedHashesNeverMatch) {
  EXPECT_FALSE(VerifyPassword("", "anything1"));
  EXPECT_FALSE(VerifyPassword("$argon2i$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaA", "anything1"));
  EXPECT_FALSE(VerifyPassword("plaintext-password", "plaintext-password"));
}

TEST(Password, Policy) {
  EXPECT_EQ(HashPassword("short").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(HashPassword(std::string(limits::password_bytes_max + 1, 'x')).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_TRUE(CheckPasswordPolicy(std::string(limits::password_bytes_min, 'x')).ok());
}

TEST(Password, DummyCostsAboutWhatARealCheckCosts) {
  auto hash = HashPassword("a real password");
  ASSERT_TRUE(hash.ok());
  VerifyDummyPassword("warm up");  // builds the dummy hash once
  auto time = [](auto fn) {
    auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < 3; ++i) fn();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  double real = time([&] { (void)VerifyPassword(*hash, "wrong password"); });
  double dummy = time([&] { VerifyDummyPassword("wrong password"); });
  std::printf("argon2id verify: %.1f ms, dummy: %.1f ms\n", real / 3 * 1e3, dummy / 3 * 1e3);
  EXPECT_GT(dummy, real / 3);
  EXPECT_LT(dummy, real * 3);
}

}  // namespace
}  // namespace arbor::control
