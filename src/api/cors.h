// CORS per protocol §7.3: browsers on allowed origins may call the data plane directly.
#pragma once

#include "api/http.h"

namespace arbor::api {

bool IsAllowedOrigin(const std::string& origin);
Response Preflight(const Request& request);
void AddCorsHeaders(const Request& request, Response& response);

}  // namespace arbor::api
