// Full-text tokens (for MATCH, and for the segments' per-block token filters): words of letters and
// digits, lower-cased (ASCII); each CJK ideograph, kana or hangul syllable is a token of its own
// (those scripts do not separate words with spaces); punctuation and spaces separate.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace arbor {

std::vector<std::string> Tokenize(std::string_view text);
// Tokenize without the vector: calls `fn` with each token in order (valid during the call).
void ForEachToken(std::string_view text, const std::function<void(std::string_view)>& fn);

// True when every token of `query` occurs in `text_tokens`; a query in double quotes is a
// phrase: its tokens must occur consecutively, in order.
bool MatchTokens(const std::vector<std::string>& text_tokens, std::string_view query);

// True for a query in double quotes: a phrase (MatchTokens).
bool IsPhraseQuery(std::string_view query);

// The tokens a MATCH query needs (all of them, phrase or not).
std::vector<std::string> QueryTokens(std::string_view query);

// A fixed 64-bit hash of a token (FNV-1a with a final mix); it is part of the segment format.
std::uint64_t TokenHash(std::string_view token);

}  // namespace arbor
