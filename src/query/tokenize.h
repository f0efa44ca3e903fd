// Full-text tokens (for MATCH now, for the segment inverted index later): words of letters and
// digits, lower-cased (ASCII); each CJK ideograph, kana or hangul syllable is a token of its own
// (those scripts do not separate words with spaces); punctuation and spaces separate.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace arbor::query {

std::vector<std::string> Tokenize(std::string_view text);

// True when every token of `query` occurs in `text_tokens`; a query in double quotes is a
// phrase: its tokens must occur consecutively, in order.
bool MatchTokens(const std::vector<std::string>& text_tokens, std::string_view query);

}  // namespace arbor::query
