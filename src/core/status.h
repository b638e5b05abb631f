// core/status.h: errors as values at part boundaries.
//
// A Status is ok or carries a code and a message that names the problem and, where possible,
// the fix ("trace.csv:12: intensity '-3' is negative; intensities must be >= 0").
// StatusOr<T> holds either a T or a non-ok Status.
//
//   StatusOr<Trace> t = LoadTrace(path);
//   if (!t.ok()) { std::cerr << t.status().message(); return 1; }
//   use(*t);
//
// Thread-safety: value types; distinct objects may be used from different threads.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace ecomap {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,   // the caller's input is wrong (bad file content, bad flag value)
  kNotFound,          // a file, model, zone or key does not exist
  kUnavailable,       // a service or device cannot be reached now; retrying may help
  kDeadlineExceeded,  // a timeout
  kPermissionDenied,  // e.g. a root-only sysfs counter, a rejected API key
  kUnauthenticated,   // missing or wrong credentials (HTTP 401)
  kResourceExhausted, // rate limited (HTTP 429), size limits
  kUnimplemented,     // not supported on this device or platform
  kFailedPrecondition,
  kDataLoss,          // a truncated or corrupt file
  kInternal,
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
  // "InvalidArgument: message"
  std::string ToString() const;

  // Returns a copy whose message is prefixed with `context: `.
  Status WithContext(const std::string& context) const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status InvalidArgument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
inline Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
inline Status DeadlineExceeded(std::string m) { return {StatusCode::kDeadlineExceeded, std::move(m)}; }
inline Status PermissionDenied(std::string m) { return {StatusCode::kPermissionDenied, std::move(m)}; }
inline Status Unauthenticated(std::string m) { return {StatusCode::kUnauthenticated, std::move(m)}; }
inline Status ResourceExhausted(std::string m) { return {StatusCode::kResourceExhausted, std::move(m)}; }
inline Status Unimplemented(std::string m) { return {StatusCode::kUnimplemented, std::move(m)}; }
inline Status FailedPrecondition(std::string m) { return {StatusCode::kFailedPrecondition, std::move(m)}; }
inline Status DataLoss(std::string m) { return {StatusCode::kDataLoss, std::move(m)}; }
inline Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

template <typename T>
class [[nodiscard]] StatusOr {
 public:
  StatusOr(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  StatusOr(Status status) : v_(std::move(status)) {  // NOLINT: implicit by design
    assert(!std::get<Status>(v_).ok() && "StatusOr needs a non-ok Status or a value");
    if (std::get<Status>(v_).ok()) v_ = Status(StatusCode::kInternal, "StatusOr built from an ok Status");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  // REQUIRES: nothing. Returns Ok() when a value is held.
  Status status() const { return ok() ? Status() : std::get<Status>(v_); }

  // REQUIRES: ok().
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<Status, T> v_;
};

}  // namespace ecomap

// Return-if-error helpers.
#define ECOMAP_CONCAT_INNER(a, b) a##b
#define ECOMAP_CONCAT(a, b) ECOMAP_CONCAT_INNER(a, b)
#define ECOMAP_RETURN_IF_ERROR(expr)              \
  do {                                            \
    ::ecomap::Status ecomap_status_ = (expr);     \
    if (!ecomap_status_.ok()) return ecomap_status_; \
  } while (0)
#define ECOMAP_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.ok()) return tmp.status();                \
  lhs = std::move(tmp).value()
#define ECOMAP_ASSIGN_OR_RETURN(lhs, expr) \
  ECOMAP_ASSIGN_OR_RETURN_IMPL(ECOMAP_CONCAT(ecomap_statusor_, __LINE__), lhs, expr)
