// OpenTelemetry trace ingest over HTTP (protocol §6): POST /otel/v1/traces and the plain
// OTLP path /v1/traces. Spans become logs3 rows and go through the same atomic, durable write
// as /logs3; the answer is an empty ExportTraceServiceResponse in the request's encoding.
#include <cctype>
#include <map>
#include <optional>

#include "api/app.h"
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

// Routing fields for one parent; project names resolve (get-or-create) once per request.
// An exported-span parent also nests the row under that span.
class ParentResolver {
 public:
  ParentResolver(control::Registry& registry, const std::string& org_id)
      : registry_(registry), org_id_(org_id) {}

  Status Route(const std::string& parent_text, bj::object& row) {
    auto it = cache_.find(parent_text);
    if (it == cache_.end()) {
      ASSIGN_OR_RETURN(otlp::Parent parent, otlp::ParseParent(parent_text));
      ASSIGN_OR_RETURN(bj::object routing, Resolve(parent));
      it = cache_.emplace(parent_text, Resolved{std::move(parent), std::move(routing)}).first;
    }
    for (const auto& kv : it->second.routing) row[kv.key()] = kv.value();
    otlp::NestUnder(it->second.parent, row);
    return Status::Ok();
  }

 private:
  struct Resolved {
    otlp::Parent parent;
    bj::object routing;
  };

  StatusOr<bj::object> Resolve(const otlp::Parent& parent) {
    switch (parent.kind) {
      case otlp::ParentKind::kExperimentId:
        return bj::object{{"experiment_id", parent.value}};
      case otlp::ParentKind::kProjectId:
        return bj::object{{"project_id", parent.value}, {"log_id", "g"}};
      case otlp::ParentKind::kProjectName: {
        ASSIGN_OR_RETURN(auto project, registry_.ResolveProject(org_id_, "", parent.value));
        return bj::object{{"project_id", project.id}, {"log_id", "g"}};
      }
      case otlp::ParentKind::kPlaygroundId:
        return bj::object{{"prompt_session_id", parent.value}, {"log_id", "x"}};
    }
    return Internal("unknown parent kind");
  }

  control::Registry& registry_;
  const std::string& org_id_;
  std::map<std::string, Resolved> cache_;
};

// Every span needs a parent (otlp::ParentFor: its own attribute, the headers, its resource);
// checked for all spans before any project is created or row written.
Status CheckParents(const std::vector<otlp::SpanRow>& spans, const std::string& header,
                    const std::string& project_header) {
  for (const auto& s : spans) {
    std::string text = otlp::ParentFor(s, header, project_header);
    if (text.empty()) {
      return InvalidArgument(
          "no parent for span " + std::string(s.row.at("span_id").as_string()) +
          ": send the x-bt-parent header (project_id:<uuid>, project_name:<name>, "
          "experiment_id:<uuid>, playground_id:<id> or an exported span), a braintrust.parent "
          "span attribute, an x-project-name header or an openinference.project.name resource "
          "attribute");
    }
    RETURN_IF_ERROR(otlp::ParseParent(text).status());
  }
  return Status::Ok();
}

Response ExportResponse(otlp::Encoding encoding) {
  if (encoding == otlp::Encoding::kJson) return Json(bj::object{});
  Response r;  // an empty ExportTraceServiceResponse encodes to zero bytes
  r.content_type = "application/x-protobuf";
  return r;
}

}  // namespace

void App::AddOtelRoutes() {
  auto handler = [this](const Call& c) -> Response {
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

    auto spans = otlp::DecodeTraces(body, *encoding);
    if (!spans.ok()) return Error(spans.status());
    const std::string& header = req.Header("x-bt-parent");
    const std::string& project_header = req.Header("x-project-name");  // Phoenix
    if (Status st = CheckParents(*spans, header, project_header); !st.ok()) return Error(st);
    if (spans->empty()) return ExportResponse(*encoding);

    ParentResolver resolver(deps_.registry, c.principal.org_id);
    bj::array rows;
    rows.reserve(spans->size());
    for (auto& s : *spans) {
      if (Status st = resolver.Route(otlp::ParentFor(s, header, project_header), s.row); !st.ok()) {
        return Error(st);
      }
      rows.push_back(std::move(s.row));
    }
    auto xact = WriteRows(c.principal, std::move(rows));
    if (!xact.ok()) return Error(xact.status());
    return ExportResponse(*encoding);
  };
  router_.Add({"POST", "/otel/v1/traces", false, handler});
  router_.Add({"POST", "/v1/traces", false, handler});
}

}  // namespace arbor::api
