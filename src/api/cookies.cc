#include "api/cookies.h"

#include "control/users.h"

namespace arbor::api {

// The value of one cookie in the Cookie header ("" when absent).
std::string CookieValue(const Request& request, std::string_view name) {
  std::string_view header = request.Header("cookie");
  while (!header.empty()) {
    std::size_t semi = header.find(';');
    std::string_view part = header.substr(0, semi);
    header = semi == std::string_view::npos ? std::string_view() : header.substr(semi + 1);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    std::size_t eq = part.find('=');
    if (eq != std::string_view::npos && part.substr(0, eq) == name) {
      return std::string(part.substr(eq + 1));
    }
  }
  return "";
}

// The session cookie. Max-Age 0 clears it.
std::string SessionCookie(const std::string& token, std::int64_t max_age_s, bool secure) {
  std::string c = std::string(control::kSessionCookie) + "=" + token +
                  "; Path=/; HttpOnly; SameSite=Lax; Max-Age=" + std::to_string(max_age_s);
  if (secure) c += "; Secure";
  return c;
}

}  // namespace arbor::api
