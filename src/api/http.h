// Transport-neutral request and response types, and the one place where Status codes
// become HTTP statuses.
#pragma once

#include <boost/json.hpp>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"

namespace arbor::api {

struct Request {
  std::string method;  // upper case
  std::string path;    // without the query string, percent-decoded
  std::map<std::string, std::string> query;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::string client_ip;  // the peer's address, set by the server (for logs and audit)
  bool tls = false;       // arrived over HTTPS (URLs we hand back use https)

  const std::string& Header(const std::string& lower_name) const;
  const std::string& Query(const std::string& name) const;
  // "http://host:port" as the client addressed us, for URLs we hand back.
  std::string Origin() const;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  // Streamed responses (server-sent events): when set, the server sends the headers, then
  // calls this on a worker thread every limits::stream_poll_ms and writes what it returns as
  // one chunk ("" = nothing this time); std::nullopt or a client disconnect ends the stream.
  std::function<std::optional<std::string>()> stream;
};

Response Json(const boost::json::value& value, int status = 200);
int HttpStatusFor(StatusCode code);
// {"error": {"code": "...", "message": "..."}} with the mapped status.
Response Error(const Status& status);

// Splits "a=1&b=x%20y" into decoded pairs.
std::map<std::string, std::string> ParseQueryString(std::string_view qs);
std::string PercentDecode(std::string_view s);
std::string PercentEncode(std::string_view s);

}  // namespace arbor::api
