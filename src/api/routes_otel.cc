// OpenTelemetry ingest over HTTP (protocol §6): POST /otel/v1/traces and /otel/v1/logs, and
// the plain OTLP paths /v1/traces and /v1/logs. Spans and log records become logs3 rows and go
// through the same atomic, durable write as /logs3; the answer is an Export*ServiceResponse in
// the request's encoding, with partial_success when some were rejected. Also Langfuse's OTLP
// path and its ingestion routes (routes_langfuse.h).
#include <cctype>
#include <optional>

#include "api/app.h"
#include "api/basic_auth.h"
#include "api/otlp_export.h"
#include "api/routes_langfuse.h"
#include "ingest/otlp.h"

namespace arbor::api {

namespace bj = boost::json;
namespace otlp = ingest::otlp;

namespace {

inline constexpr int http_unsupported_media_type = 415;

Response Unsupported(const std::string& message) {
  Response r = Error(InvalidArgument(message));
  r.status = http_unsupported_media_type;
  return r;
}

// "application/json; charset=utf-8" -> "application/json".
std::string MediaType(const std::string& header) {
  std::string t = header.substr(0, header.find(';'));
  while (!t.empty() && std::isspace(static_cast<unsigned char>(t.back()))) t.pop_back();
  std::size_t start = 0;
  while (start < t.size() && std::isspace(static_cast<unsigned char>(t[start]))) ++start;
  t = t.substr(start);
  for (char& c : t) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return t;
}

std::optional<otlp::Encoding> EncodingOf(const std::string& media_type) {
  if (media_type == "application/json") return otlp::Encoding::kJson;
  if (media_type == "application/x-protobuf" || media_type == "application/protobuf") {
    return otlp::Encoding::kProtobuf;
  }
  return std::nullopt;
}

Response ExportResponse(otlp::Encoding encoding, bool logs, std::size_t rejected,
                        const std::string& message) {
  Response r;
  r.body = otlp::ExportResponse(encoding, logs, rejected, message);
  r.content_type =
      encoding == otlp::Encoding::kJson ? "application/json" : "application/x-protobuf";
  return r;
}

// One export over HTTP: media type and gzip here, the rest in ExportOtlp. On Langfuse's OTLP
// path a request without x-bt-parent goes to the project named by the Basic auth user (the
// Langfuse public key), as on /api/public/ingestion.
Response Export(const Call& c, bool logs, bool langfuse, control::Registry& registry,
                const RowWriter& write) {
  const Request& req = c.request;
  std::string media_type = MediaType(req.Header("content-type"));
  std::optional<otlp::Encoding> encoding = EncodingOf(media_type);
  if (!encoding) {
    return Unsupported("unsupported Content-Type '" + media_type +
                       "': send application/json or application/x-protobuf");
  }
  std::string coding = MediaType(req.Header("content-encoding"));
  std::string inflated;
  std::string_view body = req.body;
  if (coding == "gzip") {
    auto out = otlp::Gunzip(req.body);
    if (!out.ok()) return Error(out.status());
    inflated = std::move(*out);
    body = inflated;
  } else if (!coding.empty() && coding != "identity") {
    return Unsupported("unsupported Content-Encoding '" + coding + "': send gzip or none");
  }
  std::string parent = req.Header("x-bt-parent");
  if (auto basic = ParseBasicAuth(req.Header("authorization"));
      langfuse && parent.empty() && basic && !basic->user.empty()) {
    parent = "project_name:" + basic->user;
  }
  auto result = ExportOtlp(registry, c.principal, write, body, *encoding, logs, parent,
                           req.Header("x-project-name"));
  if (!result.ok()) return Error(result.status());
  return ExportResponse(*encoding, logs, result->rejected, result->message);
}

}  // namespace

void App::AddOtelRoutes() {
  auto handler = [this](bool logs, bool langfuse = false) {
    return [this, logs, langfuse](const Call& c) {
      const RowWriter write = [this, &c](bj::array rows) {
        return WriteRows(c.principal, std::move(rows));
      };
      return Export(c, logs, langfuse, deps_.registry, write);
    };
  };
  auto traces = handler(false);
  auto logs = handler(true);
  // Langfuse's OTel-based SDKs (v3+) export to {LANGFUSE_HOST}/api/public/otel/v1/traces.
  router_.Add({"POST", "/api/public/otel/v1/traces", false, handler(false, true)});
  router_.Add({"POST", "/otel/v1/traces", false, traces});
  router_.Add({"POST", "/v1/traces", false, traces});
  router_.Add({"POST", "/otel/v1/logs", false, logs});
  router_.Add({"POST", "/v1/logs", false, logs});
  AddLangfuseRoutes(router_, deps_.registry, [this](const Call& c) -> RowWriter {
    return [this, &c](bj::array rows) { return WriteRows(c.principal, std::move(rows)); };
  });
}

}  // namespace arbor::api
