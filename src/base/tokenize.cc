#include "base/tokenize.h"

#include <algorithm>
#include <functional>
#include <unordered_set>

namespace arbor {
namespace {

inline constexpr std::size_t token_bytes_max = 256;  // longer runs are cut into pieces

// Decodes one UTF-8 code point at `i` (advancing it); invalid bytes decode as U+FFFD.
char32_t NextCodePoint(std::string_view s, std::size_t& i) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  int extra = c < 0x80 ? 0 : (c >> 5) == 6 ? 1 : (c >> 4) == 14 ? 2 : (c >> 3) == 30 ? 3 : -1;
  if (extra < 0 || i + static_cast<std::size_t>(extra) >= s.size() + (extra == 0 ? 1 : 0)) {
    ++i;
    return 0xFFFD;
  }
  char32_t cp = extra == 0 ? c : c & (0x3F >> extra);
  for (int k = 1; k <= extra; ++k) {
    unsigned char cc = static_cast<unsigned char>(s[i + static_cast<std::size_t>(k)]);
    if ((cc & 0xC0) != 0x80) {
      ++i;
      return 0xFFFD;
    }
    cp = (cp << 6) | (cc & 0x3F);
  }
  i += static_cast<std::size_t>(extra) + 1;
  return cp;
}

bool IsCjk(char32_t cp) {
  return (cp >= 0x3040 && cp <= 0x30FF) ||  // hiragana, katakana
         (cp >= 0x3400 && cp <= 0x4DBF) ||  // CJK extension A
         (cp >= 0x4E00 && cp <= 0x9FFF) ||  // CJK unified ideographs
         (cp >= 0xAC00 && cp <= 0xD7AF) ||  // hangul syllables
         (cp >= 0xF900 && cp <= 0xFAFF) ||  // compatibility ideographs
         (cp >= 0x20000 && cp <= 0x2FFFF);  // supplementary ideographs
}

bool IsSeparator(char32_t cp) {
  if (cp < 0x80) {
    return !((cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z'));
  }
  return (cp >= 0x2000 && cp <= 0x206F) ||  // general punctuation
         (cp >= 0x3000 && cp <= 0x303F) ||  // CJK symbols and punctuation
         (cp >= 0xFF00 && cp <= 0xFF0F) ||  // fullwidth punctuation
         (cp >= 0xFF1A && cp <= 0xFF20) || cp == 0x00A0 || cp == 0x060C ||  // NBSP, Arabic comma
         cp == 0x061F || cp == 0x06D4 || cp == 0xFFFD;                      // Arabic ?, full stop
}

}  // namespace

void ForEachToken(std::string_view text, const std::function<void(std::string_view)>& fn) {
  std::string word;  // lower-cased as it is built
  auto flush = [&] {
    if (!word.empty()) fn(word);
    word.clear();
  };
  for (std::size_t i = 0; i < text.size();) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {  // ASCII fast path
      ++i;
      if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z')) {
        word.push_back(static_cast<char>(c));
      } else if (c >= 'A' && c <= 'Z') {
        word.push_back(static_cast<char>(c - 'A' + 'a'));
      } else {
        flush();
        continue;
      }
      if (word.size() >= token_bytes_max) flush();
      continue;
    }
    std::size_t start = i;
    char32_t cp = NextCodePoint(text, i);
    if (IsSeparator(cp)) {
      flush();
    } else if (IsCjk(cp)) {
      flush();
      fn(text.substr(start, i - start));
    } else {
      word.append(text.substr(start, i - start));
      if (word.size() >= token_bytes_max) flush();
    }
  }
  flush();
}

std::vector<std::string> Tokenize(std::string_view text) {
  std::vector<std::string> tokens;
  ForEachToken(text, [&](std::string_view t) { tokens.emplace_back(t); });
  return tokens;
}

bool IsPhraseQuery(std::string_view query) {
  return query.size() >= 2 && query.front() == '"' && query.back() == '"';
}

std::vector<std::string> QueryTokens(std::string_view query) {
  return Tokenize(IsPhraseQuery(query) ? query.substr(1, query.size() - 2) : query);
}

std::uint64_t TokenHash(std::string_view token) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : token) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  return h;
}

bool MatchTokens(const std::vector<std::string>& text_tokens, std::string_view query) {
  bool phrase = IsPhraseQuery(query);
  std::vector<std::string> wanted = QueryTokens(query);
  if (wanted.empty()) return false;
  if (phrase) {
    return std::search(text_tokens.begin(), text_tokens.end(), wanted.begin(), wanted.end()) !=
           text_tokens.end();
  }
  std::unordered_set<std::string_view> have(text_tokens.begin(), text_tokens.end());
  return std::all_of(wanted.begin(), wanted.end(),
                     [&](const std::string& w) { return have.count(w) > 0; });
}

}  // namespace arbor
