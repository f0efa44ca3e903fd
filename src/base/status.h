// Status and StatusOr: the error currency at every module boundary.
// Codes map to HTTP in exactly one place (api/error_mapping.cc).
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace arbor {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,     // malformed input: 400
  kUnauthenticated,     // missing or wrong credentials: 401
  kPermissionDenied,    // authenticated but not allowed: 403
  kNotFound,            // unknown id: 404
  kAlreadyExists,       // 409
  kFailedPrecondition,  // e.g. no base experiment: 400
  kPayloadTooLarge,     // a named size limit was hit: 413
  kResourceExhausted,   // a rate or queue limit: 429
  kUnavailable,         // shutting down, try again: 503
  kDeadlineExceeded,    // a query or request ran past its time limit: 504
  kDataLoss,            // corruption detected on disk
  kInternal,            // a bug or an I/O failure: 500
};

const char* StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  std::string ToString() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status InvalidArgument(std::string m) {
  return {StatusCode::kInvalidArgument, std::move(m)};
}
inline Status Unauthenticated(std::string m) {
  return {StatusCode::kUnauthenticated, std::move(m)};
}
inline Status PermissionDenied(std::string m) {
  return {StatusCode::kPermissionDenied, std::move(m)};
}
inline Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status AlreadyExists(std::string m) { return {StatusCode::kAlreadyExists, std::move(m)}; }
inline Status FailedPrecondition(std::string m) {
  return {StatusCode::kFailedPrecondition, std::move(m)};
}
inline Status PayloadTooLarge(std::string m) {
  return {StatusCode::kPayloadTooLarge, std::move(m)};
}
inline Status ResourceExhausted(std::string m) {
  return {StatusCode::kResourceExhausted, std::move(m)};
}
inline Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
inline Status DeadlineExceeded(std::string m) {
  return {StatusCode::kDeadlineExceeded, std::move(m)};
}
inline Status DataLoss(std::string m) { return {StatusCode::kDataLoss, std::move(m)}; }
inline Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

template <typename T>
class [[nodiscard]] StatusOr {
 public:
  StatusOr(Status status) : status_(std::move(status)) { assert(!status_.ok()); }  // NOLINT
  StatusOr(T value) : value_(std::move(value)) {}                                  // NOLINT

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  T& value() & {
    assert(ok());
    return *value_;
  }
  const T& value() const& {
    assert(ok());
    return *value_;
  }
  T&& value() && {
    assert(ok());
    return std::move(*value_);
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace arbor

#define ARBOR_CONCAT_INNER(a, b) a##b
#define ARBOR_CONCAT(a, b) ARBOR_CONCAT_INNER(a, b)

#define RETURN_IF_ERROR(expr)     \
  do {                            \
    ::arbor::Status _st = (expr); \
    if (!_st.ok()) return _st;    \
  } while (0)

#define ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                          \
  if (!tmp.ok()) return tmp.status();         \
  lhs = std::move(tmp).value()

#define ASSIGN_OR_RETURN(lhs, expr) \
  ASSIGN_OR_RETURN_IMPL(ARBOR_CONCAT(_status_or_, __LINE__), lhs, expr)

// ARBOR_CHECK: an invariant whose violation would corrupt data. Always on.
#define ARBOR_CHECK(cond)                                                   \
  do {                                                                      \
    if (!(cond)) ::arbor::internal::CheckFailed(#cond, __FILE__, __LINE__); \
  } while (0)

namespace arbor::internal {
[[noreturn]] void CheckFailed(const char* cond, const char* file, int line);
}
