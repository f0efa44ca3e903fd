// HTTP Basic credentials (RFC 7617), for clients that can only send a key pair: Langfuse's SDKs
// send `public_key:secret_key`, and Arbor takes the secret as the API key (docs/ingest.md).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace arbor::api {

struct BasicCredentials {
  std::string user;
  std::string password;
};

// `Basic base64(user:password)` (scheme case-insensitive); nothing for any other header.
std::optional<BasicCredentials> ParseBasicAuth(std::string_view header);

}  // namespace arbor::api
