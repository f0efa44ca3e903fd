#include "api/cors.h"

#include <cstdlib>

namespace arbor::api {
namespace {

constexpr const char* kAllowHeaders =
    "Content-Type, X-Amz-Date, Authorization, X-Api-Key, X-Amz-Security-Token, "
    "x-bt-auth-token, x-bt-parent, x-bt-org-name, x-bt-project-id, x-bt-stream-fmt, "
    "x-bt-use-cache, x-bt-use-gateway, x-stainless-os, x-stainless-lang, "
    "x-stainless-package-version, x-stainless-runtime, x-stainless-runtime-version, "
    "x-stainless-arch";
constexpr const char* kExposeHeaders =
    "x-bt-cursor, x-bt-found-existing, x-bt-found-existing-experiment, x-bt-span-id, "
    "x-bt-span-export";

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

}  // namespace

bool IsAllowedOrigin(const std::string& origin) {
  if (origin.empty()) return false;
  if (origin == "https://www.braintrust.dev" || origin == "https://www.braintrustdata.com") {
    return true;
  }
  if (origin.rfind("https://", 0) == 0 && EndsWith(origin, ".preview.braintrust.dev")) return true;
  for (const char* var : {"WHITELISTED_ORIGIN", "BRAINTRUST_APP_URL", "ARBOR_CORS_ORIGIN"}) {
    std::string allowed = Env(var);
    while (!allowed.empty() && allowed.back() == '/') allowed.pop_back();
    if (!allowed.empty() && allowed == origin) return true;
  }
  return false;
}

Response Preflight(const Request& request) {
  Response r;
  r.status = 204;
  r.content_type = "text/plain";
  const std::string& origin = request.Header("origin");
  if (IsAllowedOrigin(origin)) {
    r.headers.emplace_back("Access-Control-Allow-Origin", origin);
    r.headers.emplace_back("Access-Control-Allow-Credentials", "true");
    r.headers.emplace_back("Access-Control-Allow-Methods",
                           "GET, POST, PUT, DELETE, OPTIONS, PATCH");
    r.headers.emplace_back("Access-Control-Allow-Headers", kAllowHeaders);
    r.headers.emplace_back("Access-Control-Max-Age", "86400");
    if (request.Header("access-control-request-private-network") == "true") {
      r.headers.emplace_back("Access-Control-Allow-Private-Network", "true");
    }
  }
  r.headers.emplace_back("Vary", "Origin");
  return r;
}

void AddCorsHeaders(const Request& request, Response& response) {
  const std::string& origin = request.Header("origin");
  if (!IsAllowedOrigin(origin)) return;
  response.headers.emplace_back("Access-Control-Allow-Origin", origin);
  response.headers.emplace_back("Access-Control-Allow-Credentials", "true");
  response.headers.emplace_back("Access-Control-Expose-Headers", kExposeHeaders);
  response.headers.emplace_back("Vary", "Origin");
}

}  // namespace arbor::api
