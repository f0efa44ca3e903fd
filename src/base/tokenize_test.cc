#include "base/tokenize.h"

#include <gtest/gtest.h>

namespace arbor {
namespace {

using Tokens = std::vector<std::string>;

TEST(Tokenize, WordsArePunctuationSeparatedAndLowerCased) {
  EXPECT_EQ(Tokenize("Hello, World! it's v2.0"), (Tokens{"hello", "world", "it", "s", "v2", "0"}));
  EXPECT_EQ(Tokenize(""), Tokens{});
  EXPECT_EQ(Tokenize("  --  "), Tokens{});
}

TEST(Tokenize, CjkCharactersAreTokensOfTheirOwn) {
  // "我喜欢猫" (Chinese), "ねこ" (hiragana), "고양이" (hangul), with CJK punctuation.
  EXPECT_EQ(Tokenize("我喜欢猫。ねこ、고양이"),
            (Tokens{"我", "喜", "欢", "猫", "ね", "こ", "고", "양", "이"}));
  EXPECT_EQ(Tokenize("model名前x"), (Tokens{"model", "名", "前", "x"}));
}

TEST(Tokenize, ArabicWordsStayWhole) {
  // "مرحبا بالعالم، كيف" : words split at spaces and the Arabic comma.
  EXPECT_EQ(Tokenize("مرحبا بالعالم، كيف"), (Tokens{"مرحبا", "بالعالم", "كيف"}));
}

TEST(Tokenize, InvalidUtf8DoesNotCrashOrMerge) {
  std::string bad =
      "ab\xff\xfe"
      "cd\xe4\xb8";  // stray bytes and a truncated sequence
  EXPECT_EQ(Tokenize(bad), (Tokens{"ab", "cd"}));
}

TEST(Match, AllTokensOrPhrase) {
  Tokens text = Tokenize("The quick brown fox jumps");
  EXPECT_TRUE(MatchTokens(text, "fox QUICK"));
  EXPECT_FALSE(MatchTokens(text, "fox cat"));
  EXPECT_TRUE(MatchTokens(text, "\"quick brown fox\""));
  EXPECT_FALSE(MatchTokens(text, "\"brown quick\""));
  EXPECT_FALSE(MatchTokens(text, "qui"));  // whole tokens, not substrings
  EXPECT_FALSE(MatchTokens(text, ""));
  EXPECT_TRUE(MatchTokens(Tokenize("我喜欢猫"), "\"喜欢\""));
}

TEST(Tokenize, TokenHashIsFixed) {
  // Segments store these hashes: they must never change for a given format version.
  EXPECT_EQ(TokenHash("alpha"), 0xec026fa5e96a612cull);
  EXPECT_NE(TokenHash("alpha"), TokenHash("alphb"));
  EXPECT_EQ(QueryTokens("\"Two Words\""), (std::vector<std::string>{"two", "words"}));
}

}  // namespace
}  // namespace arbor
