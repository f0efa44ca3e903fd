// A minimal blocking HTTP/1.1 client (plain http://) for the CLI's `export --url` and the
// telemetry reporter. Not for the request path.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "base/status.h"

namespace arbor::ops {

struct HttpReply {
  int status = 0;
  std::string body;
};

// POSTs `body` as application/json to `url` (http://host[:port]/path). Unavailable when the
// server cannot be reached; a non-2xx answer is returned as a reply, not an error.
StatusOr<HttpReply> HttpPostJson(const std::string& url, const std::string& body,
                                 const std::vector<std::pair<std::string, std::string>>& headers,
                                 int timeout_ms);

}  // namespace arbor::ops
