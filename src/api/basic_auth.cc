#include "api/basic_auth.h"

#include <cctype>
#include <cstdint>

#include "base/util.h"

namespace arbor::api {

namespace {}  // namespace

std::optional<BasicCredentials> ParseBasicAuth(std::string_view header) {
  constexpr std::string_view scheme = "basic ";
  if (header.size() <= scheme.size()) return std::nullopt;
  for (std::size_t i = 0; i < scheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(header[i])) != scheme[i]) return std::nullopt;
  }
  header.remove_prefix(scheme.size());
  while (!header.empty() && std::isspace(static_cast<unsigned char>(header.front()))) {
    header.remove_prefix(1);
  }
  while (!header.empty() && std::isspace(static_cast<unsigned char>(header.back()))) {
    header.remove_suffix(1);
  }
  std::optional<std::string> decoded = Base64Decode(header);
  if (!decoded) return std::nullopt;
  std::size_t colon = decoded->find(':');
  if (colon == std::string::npos) return std::nullopt;
  return BasicCredentials{decoded->substr(0, colon), decoded->substr(colon + 1)};
}

}  // namespace arbor::api
