#include "apis/meta/field_errors.h"

#include <algorithm>

#include "common/strings.h"

namespace tmcd::apis {

std::string QuoteValue(std::string_view v) {
  return Quote(v);
}

std::string FieldError::CauseReason() const {
  switch (type) {
    case ErrorType::kRequired:
      return "FieldValueRequired";
    case ErrorType::kInvalid:
      return "FieldValueInvalid";
    case ErrorType::kNotSupported:
      return "FieldValueNotSupported";
    case ErrorType::kTooLong:
      return "FieldValueTooLong";
    case ErrorType::kTooMany:
      return "FieldValueTooMany";
    case ErrorType::kForbidden:
      return "FieldValueForbidden";
    case ErrorType::kDuplicate:
      return "FieldValueDuplicate";
    case ErrorType::kTypeInvalid:
      return "FieldValueTypeInvalid";
    case ErrorType::kUnknownField:
      return "FieldValueUnknown";
  }
  return "FieldValueInvalid";
}

std::string FieldError::Message() const {
  auto with = [&](std::string_view head) {
    std::string out = field + ": " + std::string(head);
    if (!bad_value.empty()) out += ": " + bad_value;
    if (!detail.empty()) out += ": " + detail;
    return out;
  };
  switch (type) {
    case ErrorType::kRequired:
      return field + ": Required value" + (detail.empty() ? "" : ": " + detail);
    case ErrorType::kInvalid:
      return with("Invalid value");
    case ErrorType::kNotSupported:
      return with("Unsupported value");
    case ErrorType::kTooLong:
      return field + ": Too long: " + detail;
    case ErrorType::kTooMany:
      return with("Too many");
    case ErrorType::kForbidden:
      return field + ": Forbidden: " + detail;
    case ErrorType::kDuplicate:
      return with("Duplicate value");
    case ErrorType::kTypeInvalid:
      return with("Invalid value");
    case ErrorType::kUnknownField:
      return "unknown field " + Quote(field);
  }
  return field;
}

void FieldErrors::Required(std::string field, std::string detail) {
  errors_.push_back({ErrorType::kRequired, std::move(field), "", std::move(detail)});
}
void FieldErrors::Invalid(std::string field, std::string bad_value, std::string detail) {
  errors_.push_back({ErrorType::kInvalid, std::move(field), std::move(bad_value), std::move(detail)});
}
void FieldErrors::NotSupported(std::string field, std::string bad_value,
                               const std::vector<std::string_view>& supported) {
  std::vector<std::string> quoted;
  quoted.reserve(supported.size());
  for (auto s : supported) quoted.push_back(Quote(s));
  errors_.push_back(
      {ErrorType::kNotSupported, std::move(field), std::move(bad_value), "supported values: " + Join(quoted, ", ")});
}
void FieldErrors::TooLong(std::string field, size_t max) {
  errors_.push_back(
      {ErrorType::kTooLong, std::move(field), "", "may not be more than " + std::to_string(max) + " bytes"});
}
void FieldErrors::TooMany(std::string field, size_t actual, size_t max) {
  errors_.push_back({ErrorType::kTooMany, std::move(field), std::to_string(actual),
                     "must have at most " + std::to_string(max) + " items"});
}
void FieldErrors::Forbidden(std::string field, std::string detail) {
  errors_.push_back({ErrorType::kForbidden, std::move(field), "", std::move(detail)});
}
void FieldErrors::Duplicate(std::string field, std::string bad_value) {
  errors_.push_back({ErrorType::kDuplicate, std::move(field), std::move(bad_value), ""});
}
void FieldErrors::TypeInvalid(std::string field, std::string bad_value, std::string detail) {
  errors_.push_back({ErrorType::kTypeInvalid, std::move(field), std::move(bad_value), std::move(detail)});
}
void FieldErrors::UnknownField(std::string field) {
  errors_.push_back({ErrorType::kUnknownField, std::move(field), "", ""});
}

bool FieldErrors::HasUnknownFieldsOnly() const {
  return !errors_.empty() && std::all_of(errors_.begin(), errors_.end(),
                                         [](const FieldError& e) { return e.type == ErrorType::kUnknownField; });
}

std::string FieldErrors::Summary() const {
  std::vector<std::string> parts;
  for (const auto& e : errors_) parts.push_back(e.Message());
  return Join(parts, "; ");
}

Status FieldErrors::ToStatus(std::string_view qualified_kind, std::string_view name) const {
  if (errors_.empty()) return Status::Ok();
  std::vector<Cause> causes;
  std::vector<std::string> msgs;
  for (const auto& e : errors_) {
    causes.push_back({e.CauseReason(), e.Message(), e.field});
    msgs.push_back(e.Message());
  }
  if (HasUnknownFieldsOnly()) {
    return {Reason::kBadRequest, "strict decoding error: " + Join(msgs, ", "), std::move(causes)};
  }
  std::string head = std::string(qualified_kind) + " " + Quote(name) + " is invalid: ";
  std::string body = msgs.size() == 1 ? msgs[0] : "[" + Join(msgs, ", ") + "]";
  return {Reason::kInvalid, head + body, std::move(causes)};
}

}  // namespace tmcd::apis
