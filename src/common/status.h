#pragma once
// Status and Result<T>: tmcd's error values. Codes are Kubernetes `Status` reasons so that an error
// can travel from the store or a validator to an HTTP answer without translation tables.
// Value types; thread-compatible (no shared state).

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace tmcd {

// Kubernetes metav1.StatusReason values (plus kOk). The HTTP code for each is HttpCode().
enum class Reason {
  kOk,
  kBadRequest,
  kUnauthorized,
  kForbidden,
  kNotFound,
  kAlreadyExists,
  kConflict,
  kGone,
  kExpired,
  kInvalid,
  kMethodNotAllowed,
  kNotAcceptable,
  kRequestEntityTooLarge,
  kUnsupportedMediaType,
  kTooManyRequests,
  kInternalError,
  kServiceUnavailable,
  kTimeout,
};

std::string_view ReasonName(Reason reason);
// The Reason for a metav1.StatusReason name ("Conflict"); nullopt for names tmcd does not know.
std::optional<Reason> ReasonFromName(std::string_view name);
int HttpCode(Reason reason);

// One field-level cause, as in Status.details.causes[] (reason e.g. "FieldValueInvalid").
struct Cause {
  std::string reason;
  std::string message;
  std::string field;
  bool operator==(const Cause&) const = default;
};

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Reason reason, std::string message, std::vector<Cause> causes = {})
      : reason_(reason), message_(std::move(message)), causes_(std::move(causes)) {}

  static Status Ok() { return {}; }
  bool ok() const { return reason_ == Reason::kOk; }
  Reason reason() const { return reason_; }
  const std::string& message() const { return message_; }
  const std::vector<Cause>& causes() const { return causes_; }
  // "Reason: message", for logs and CLI output.
  std::string ToString() const;
  // Prefixes the message ("while loading x: <old message>").
  Status Annotate(std::string_view context) const;

 private:
  Reason reason_ = Reason::kOk;
  std::string message_;
  std::vector<Cause> causes_;
};

// Either a value or a non-ok Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}         // NOLINT(google-explicit-constructor)
  Result(Status status) : v_(std::move(status)) {}  // NOLINT(google-explicit-constructor)
  bool ok() const { return std::holds_alternative<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T& value() & { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }
  Status status() const { return ok() ? Status::Ok() : std::get<Status>(v_); }

 private:
  std::variant<T, Status> v_;
};

inline Status BadRequest(std::string msg) {
  return {Reason::kBadRequest, std::move(msg)};
}
inline Status NotFound(std::string msg) {
  return {Reason::kNotFound, std::move(msg)};
}
inline Status Invalid(std::string msg) {
  return {Reason::kInvalid, std::move(msg)};
}
inline Status Internal(std::string msg) {
  return {Reason::kInternalError, std::move(msg)};
}

}  // namespace tmcd

#define TMCD_CONCAT_INNER(a, b) a##b
#define TMCD_CONCAT(a, b) TMCD_CONCAT_INNER(a, b)

// Returns the Status of `expr` from the enclosing function when it is not ok.
#define TMCD_TRY(expr)                       \
  do {                                       \
    ::tmcd::Status tmcd_try_status = (expr); \
    if (!tmcd_try_status.ok()) {             \
      return tmcd_try_status;                \
    }                                        \
  } while (false)

// Declares `lhs` from a Result<T>, or returns its Status.
#define TMCD_ASSIGN_OR_RETURN(lhs, expr) TMCD_ASSIGN_OR_RETURN_IMPL(TMCD_CONCAT(tmcd_result_, __LINE__), lhs, expr)
// NOLINTBEGIN(bugprone-macro-parentheses): `tmp` and `lhs` are declarators, not expressions.
#define TMCD_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                               \
  if (!tmp.ok()) {                                 \
    return tmp.status();                           \
  }                                                \
  lhs = std::move(tmp).value()
// NOLINTEND(bugprone-macro-parentheses)
