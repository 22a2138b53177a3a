#include "common/status.h"

#include <array>

namespace tmcd {
namespace {

struct ReasonInfo {
  std::string_view name;
  int code;
};

// Indexed by Reason; names and codes are metav1.StatusReason* and their documented HTTP codes.
constexpr std::array<ReasonInfo, 18> kReasons = {{
    {"", 200},
    {"BadRequest", 400},
    {"Unauthorized", 401},
    {"Forbidden", 403},
    {"NotFound", 404},
    {"AlreadyExists", 409},
    {"Conflict", 409},
    {"Gone", 410},
    {"Expired", 410},
    {"Invalid", 422},
    {"MethodNotAllowed", 405},
    {"NotAcceptable", 406},
    {"RequestEntityTooLarge", 413},
    {"UnsupportedMediaType", 415},
    {"TooManyRequests", 429},
    {"InternalError", 500},
    {"ServiceUnavailable", 503},
    {"Timeout", 504},
}};

}  // namespace

std::string_view ReasonName(Reason reason) {
  return kReasons.at(static_cast<size_t>(reason)).name;
}
std::optional<Reason> ReasonFromName(std::string_view name) {
  for (size_t i = 1; i < kReasons.size(); ++i) {
    if (kReasons.at(i).name == name) return static_cast<Reason>(i);
  }
  return std::nullopt;
}

int HttpCode(Reason reason) {
  return kReasons.at(static_cast<size_t>(reason)).code;
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  std::string out{ReasonName(reason_)};
  out += ": ";
  out += message_;
  return out;
}

Status Status::Annotate(std::string_view context) const {
  if (ok()) return *this;
  std::string msg{context};
  msg += ": ";
  msg += message_;
  return {reason_, std::move(msg), causes_};
}

}  // namespace tmcd
