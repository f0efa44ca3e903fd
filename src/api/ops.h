// Operations settings of the HTTP API and what every request passes through besides its
// handler: per-key rate limits, per-query budgets, request metrics, the access log and
// audit events (implemented in ops.cc together with GET /metrics and GET /v1/audit_log).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "api/http.h"
#include "base/query_budget.h"
#include "control/auth.h"

namespace arbor::api {

struct OpsOptions {
  // Bearer token /metrics requires (--metrics-token-file). Empty: /metrics answers 401 to
  // everyone; API keys are never accepted there (metrics span every org).
  std::string metrics_token;
  // Requests per second and burst per API key; 0 = no rate limit.
  double rate_limit_rps = 0;
  double rate_limit_burst = 0;
  // Each request's query budget (time and rows materialized), checked per scanned batch.
  QueryBudgetOptions query_budget;
};

// What the router found for a request, for the access log, metrics and the audit log.
struct Served {
  std::string request_id;
  std::string route;  // the matched pattern; "web", "unmatched" or "preflight" otherwise
  bool authenticated = false;
  control::Principal principal;
  std::vector<std::string> params;
};

// The request id: a client's X-Request-Id when it is short and plain, else a new one.
std::string RequestIdFor(const Request& request);

}  // namespace arbor::api
