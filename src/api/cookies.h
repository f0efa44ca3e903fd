// Cookies of the web UI: reading one from a request, and the session cookie every sign-in
// (password or OIDC) sets the same way.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "api/http.h"

namespace arbor::api {

// The value of one cookie in the Cookie header ("" when absent).
std::string CookieValue(const Request& request, std::string_view name);

// The Set-Cookie value of the UI session: HttpOnly, SameSite=Lax, Secure when served over
// TLS. Max-Age 0 clears it.
std::string SessionCookie(const std::string& token, std::int64_t max_age_s, bool secure);

}  // namespace arbor::api
