// A small blocking HTTP/1.1 client for calls Arbor makes to other services (an OIDC provider's
// discovery, keys and token endpoints). http:// and https:// (certificates verified against
// the system store, host name checked). Not for the request hot path.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "base/status.h"

namespace arbor::api {

struct HttpCall {
  std::string method = "GET";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  int timeout_ms = 10000;
  std::size_t body_bytes_max = 4 << 20;
};

struct HttpReply {
  int status = 0;
  std::string content_type;
  std::string body;
};

// Unavailable when the server cannot be reached or answers too slowly; InvalidArgument for a
// URL that is not http(s)://host[:port][/path]. Any HTTP status comes back as a reply.
StatusOr<HttpReply> HttpFetch(const HttpCall& call);

}  // namespace arbor::api
