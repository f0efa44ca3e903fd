#include "base/util.h"

#include <gtest/gtest.h>

namespace arbor {
namespace {

TEST(Util, UuidShape) {
  std::string a = NewUuid();
  EXPECT_TRUE(LooksLikeUuid(a));
  EXPECT_EQ(a[14], '4');
  EXPECT_NE(a, NewUuid());
  EXPECT_FALSE(LooksLikeUuid("not-a-uuid"));
}

TEST(Util, Crc32cKnownVector) {
  // The standard CRC-32C check value for "123456789".
  EXPECT_EQ(Crc32c("123456789"), 0xE3069283u);
  // Long inputs go through the 8-byte path; the result must not depend on alignment.
  std::string big(1000, 'x');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7);
  EXPECT_EQ(Crc32c(big), 0x79a16ae6u);
  EXPECT_EQ(Crc32c(std::string_view(big).substr(1)), 0x483d79b9u);  // unaligned start
  EXPECT_EQ(Crc32c(std::string_view(big).substr(500), Crc32c(std::string_view(big).substr(0, 500))),
            0x79a16ae6u);
  EXPECT_EQ(Crc32c(""), 0u);
}

TEST(Util, Sha256KnownVector) {
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Util, HmacKnownVector) {
  // RFC 4231 test case 2.
  EXPECT_EQ(HmacSha256Hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(Util, IsoTime) { EXPECT_EQ(FormatIsoTime(1'700'000'000'123'000), "2023-11-14T22:13:20.123Z"); }

TEST(Util, ConstantTimeEquals) {
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "ab"));
}

}  // namespace
TEST(Util, Base64BothAlphabetsAndOptionalPadding) {
  for (std::string raw : {"", "a", "ab", "abc", "\xfb\xff\xfe binary"}) {
    EXPECT_EQ(Base64Decode(Base64Encode(raw)), raw);
  }
  EXPECT_EQ(Base64Encode("ab"), "YWI=");
  EXPECT_EQ(Base64Decode("YWI"), "ab");         // padding optional
  EXPECT_EQ(Base64Decode("-_8"), "\xfb\xff");   // URL-safe alphabet
  EXPECT_EQ(Base64Decode("+/8="), "\xfb\xff");  // standard alphabet
  EXPECT_FALSE(Base64Decode("YW I").has_value());
  EXPECT_FALSE(Base64Decode("Y").has_value());  // a lone character is no byte
}

}  // namespace arbor
