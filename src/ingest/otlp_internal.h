// Internals of the OTLP decoders shared by the trace (otlp.cc), logs (otlp_logs.cc) and dialect
// (otlp_dialects.cc) files: the decoded span model, the protobuf wire reader, the AnyValue and
// KeyValue decoders of both encodings, and the attribute helpers of the row mapping. Not an API:
// only src/ingest/otlp*.cc include it.
#pragma once

#include <boost/json.hpp>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "base/status.h"
#include "ingest/otlp.h"

namespace arbor::ingest::otlp::internal {

namespace bj = boost::json;

// ---------------------------------------------------------------------------------------
// The decoded model, shared by both encodings. Ids are lower-case hex.

struct Event {
  std::string name;
  bj::object attributes;
};

struct Span {
  std::string trace_id;
  std::string span_id;
  std::string parent_span_id;
  std::string name;
  std::uint64_t start_ns = 0;
  std::uint64_t end_ns = 0;
  bj::object attributes;
  std::vector<Event> events;
  std::int64_t status_code = 0;  // 0 unset, 1 ok, 2 error
  std::string status_message;
  std::string project_name;  // the resource's openinference.project.name
  // Why the span cannot be stored (missing or malformed ids); it is then rejected alone
  // (partial_success) rather than failing the request.
  std::string invalid;
};

inline constexpr std::string_view openinference_project_key = "openinference.project.name";

inline constexpr std::int64_t status_code_error = 2;
inline constexpr std::size_t trace_id_bytes = 16;
inline constexpr std::size_t span_id_bytes = 8;

// Validates and normalizes a hex id (lower case). Empty stays empty; an all-zero id becomes
// empty when `zero_is_empty` (how some exporters spell "no parent").
StatusOr<std::string> NormalizeHexId(std::string_view hex, std::size_t bytes, const char* what,
                                     bool zero_is_empty);

// ---------------------------------------------------------------------------------------
// Protobuf wire format.

enum WireType : std::uint32_t { kVarint = 0, kFixed64 = 1, kLen = 2, kFixed32 = 5 };

struct Field {
  std::uint32_t number = 0;
  std::uint32_t wire = 0;
  std::uint64_t varint = 0;  // kVarint and the fixed types
  std::string_view bytes;    // kLen
};

// Reads the fields of one message in order. Unknown fields are skipped by the callers, so
// newer senders stay compatible; a truncated or impossible encoding is an error.
class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}
  bool done() const { return pos_ == data_.size(); }

  Status Next(Field& f) {
    std::uint64_t tag = 0;
    RETURN_IF_ERROR(Varint(tag));
    f.number = static_cast<std::uint32_t>(tag >> 3);
    f.wire = static_cast<std::uint32_t>(tag & 7);
    if (f.number == 0 || (tag >> 3) > 0x1FFFFFFF) return Bad("field number out of range");
    switch (f.wire) {
      case kVarint:
        return Varint(f.varint);
      case kFixed64:
        return Fixed(8, f.varint);
      case kFixed32:
        return Fixed(4, f.varint);
      case kLen: {
        std::uint64_t n = 0;
        RETURN_IF_ERROR(Varint(n));
        if (n > data_.size() - pos_) return Bad("length-delimited field runs past the end");
        f.bytes = data_.substr(pos_, n);
        pos_ += n;
        return Status::Ok();
      }
      default:
        // Groups (3, 4) are not used by OTLP; 6 and 7 do not exist.
        return Bad("unsupported wire type " + std::to_string(f.wire));
    }
  }

 private:
  Status Varint(std::uint64_t& out) {
    out = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ == data_.size()) return Bad("truncated varint");
      auto b = static_cast<std::uint8_t>(data_[pos_++]);
      out |= std::uint64_t(b & 0x7F) << shift;
      if ((b & 0x80) == 0) return Status::Ok();
    }
    return Bad("varint longer than 10 bytes");
  }
  Status Fixed(std::size_t n, std::uint64_t& out) {
    if (n > data_.size() - pos_) return Bad("truncated fixed-width field");
    out = 0;
    for (std::size_t i = 0; i < n; ++i) {
      out |= std::uint64_t(static_cast<std::uint8_t>(data_[pos_ + i])) << (8 * i);
    }
    pos_ += n;
    return Status::Ok();
  }
  Status Bad(const std::string& what) const {
    return InvalidArgument("malformed OTLP protobuf: " + what + " at byte " + std::to_string(pos_));
  }

  std::string_view data_;
  std::size_t pos_ = 0;
};

inline Status WantWire(const Field& f, std::uint32_t wire, const char* message) {
  if (f.wire == wire) return Status::Ok();
  return InvalidArgument("malformed OTLP protobuf: " + std::string(message) + " field " +
                         std::to_string(f.number) + " has wire type " + std::to_string(f.wire));
}

StatusOr<bj::value> PbAnyValue(std::string_view data, std::size_t depth);
StatusOr<std::pair<std::string, bj::value>> PbKeyValue(std::string_view data, std::size_t depth);
// Adds the KeyValue in `data` to `out`; a repeated key keeps its last value.
Status PbAddKeyValue(std::string_view data, std::size_t depth, bj::object& out);

// The openinference.project.name attribute of a Resource message, when a string.
Status PbResourceProject(std::string_view data, std::string& project);

// ---------------------------------------------------------------------------------------
// OTLP/JSON helpers: lowerCamelCase keys or the proto names.

const bj::value* JField(const bj::object& o, const char* camel, const char* snake);
StatusOr<const bj::array*> JArray(const bj::object& o, const char* camel, const char* snake,
                                  const char* where);
StatusOr<const bj::object*> JObject(const bj::value& v, const char* where);
StatusOr<std::string> JString(const bj::object& o, const char* camel, const char* snake,
                              const char* where);
StatusOr<bj::value> JAnyValue(const bj::value& v, std::size_t depth);
Status JAddKeyValues(const bj::array& kvs, std::size_t depth, bj::object& out);

// A uint64/int64 given as a number or a decimal string.
template <typename Int>
StatusOr<Int> JInteger(const bj::value* v, const char* what) {
  if (v == nullptr || v->is_null()) return Int(0);
  if (v->is_int64() || v->is_uint64()) {
    boost::system::error_code ec;
    Int out = v->to_number<Int>(ec);
    if (!ec) return out;
  } else if (v->is_string()) {
    std::string_view s = v->get_string();
    Int out = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    if (ec == std::errc() && end == s.data() + s.size() && !s.empty()) return out;
  }
  return InvalidArgument(std::string(what) + " must be an integer (number or decimal string)");
}

// ---------------------------------------------------------------------------------------
// Row mapping.

std::optional<bj::value> Take(bj::object& attrs, std::string_view key);
// Parses a string attribute as JSON. Values that are not strings or not JSON yield nothing.
std::optional<bj::value> AsJson(const bj::value& v);
// Takes a JSON-string attribute when it parses; otherwise the attribute stays.
std::optional<bj::value> TakeJson(bj::object& attrs, std::string_view key);
bool IsNumberMap(const bj::value& v);
// A JSON-string, structured or plain-text message attribute.
std::optional<bj::value> TakeMessages(bj::object& attrs, std::string_view key);
// Takes the keys `<prefix><N>.<item><rest>` out of `flat`, grouped by N (ascending) as
// rest → value. Keys of any other shape stay.
std::map<std::size_t, bj::object> TakeIndexed(bj::object& flat, std::string_view prefix,
                                              std::string_view item);
// A numeric attribute, also when a decimal string.
std::optional<double> NumberAttr(const bj::object& attrs, std::string_view key);
// The first of `keys` that holds a number.
std::optional<double> FirstNumberOf(const bj::object& attrs,
                                    std::initializer_list<std::string_view> keys);
// A number that stays integral in JSON when it is one (token counts).
bj::value Count(double d);
// Seconds since the epoch, as metrics.start/end hold them.
double Seconds(std::uint64_t ns);

// The row of a decoded span (protocol §6), or a rejected SpanRow when `s.invalid`.
SpanRow MapSpan(Span s);

// The OpenLLMetry (traceloop.*), Vercel AI SDK (ai.*) and Langfuse (langfuse.*) dialects:
// consumes the attributes they explain into input/output/expected, metrics, metadata, tags
// and the span type. Runs before the GenAI and OpenInference mapping, so a dialect's explicit
// input/output wins over derived ones.
void MapDialects(bj::object& attrs, bj::object& row, bj::object& metrics, bj::object& metadata,
                 bj::object& span_attributes);

// gen_ai.evaluation.result (a span event or a log record): the evaluation's name, score and
// the metadata entry that keeps label and explanation. Error when it has no name or a
// non-numeric score.
struct Evaluation {
  std::string name;
  std::optional<double> score;
  bj::object details;  // score, label, explanation, response id: whatever is present
};
inline constexpr std::string_view evaluation_event = "gen_ai.evaluation.result";
StatusOr<Evaluation> ParseEvaluation(const bj::object& attrs);
// Adds an evaluation to a row: scores.<name> and metadata.evaluations.<name>.
void AddEvaluation(Evaluation e, bj::object& row);

}  // namespace arbor::ingest::otlp::internal
