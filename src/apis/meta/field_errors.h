#pragma once
// Field-level validation errors in the shape of k8s.io/apimachinery's field.Error, so that messages
// read like a Kubernetes API server's ("spec.endpoint.server: Required value") and map onto
// Status.details.causes. Value types; not thread-safe to share while appending.

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace tmcd::apis {

enum class ErrorType {
  kRequired,
  kInvalid,
  kNotSupported,
  kTooLong,
  kTooMany,
  kForbidden,
  kDuplicate,
  kTypeInvalid,
  kUnknownField
};

struct FieldError {
  ErrorType type;
  std::string field;      // e.g. spec.taints[0].effect
  std::string bad_value;  // already rendered: "\"abc\"" for strings, 5 for numbers; may be empty
  std::string detail;
  std::string Message() const;
  std::string CauseReason() const;  // FieldValueRequired, FieldValueInvalid, ...
};

class FieldErrors {
 public:
  void Required(std::string field, std::string detail = "");
  void Invalid(std::string field, std::string bad_value, std::string detail);
  void NotSupported(std::string field, std::string bad_value, const std::vector<std::string_view>& supported);
  void TooLong(std::string field, size_t max);
  void TooMany(std::string field, size_t actual, size_t max);
  void Forbidden(std::string field, std::string detail);
  void Duplicate(std::string field, std::string bad_value);
  void TypeInvalid(std::string field, std::string bad_value, std::string detail);
  void UnknownField(std::string field);

  bool empty() const { return errors_.empty(); }
  size_t size() const { return errors_.size(); }
  const std::vector<FieldError>& errors() const { return errors_; }
  bool HasUnknownFieldsOnly() const;
  // `Kind.group "name" is invalid: [a, b]` as a 422 Invalid Status with causes; unknown-field-only
  // lists become 400 BadRequest "strict decoding error: ..." like the API server's strict mode.
  Status ToStatus(std::string_view qualified_kind, std::string_view name) const;
  std::string Summary() const;  // "a; b; c"

 private:
  std::vector<FieldError> errors_;
};

// Renders a string value the way field errors show it (Go %q).
std::string QuoteValue(std::string_view v);

}  // namespace tmcd::apis
