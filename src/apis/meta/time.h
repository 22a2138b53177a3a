#pragma once
// metav1.Time: RFC 3339 with second precision, always written in UTC ("2026-11-27T10:00:00Z").
// An unset Time encodes as absent. Value type.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace tmcd::apis {

struct Time {
  int64_t seconds = 0;  // since the Unix epoch
  bool set = false;

  static Time FromTimePoint(std::chrono::system_clock::time_point tp);
  // Accepts RFC 3339 with 'Z' or a numeric offset and optional fractional seconds (truncated).
  static Result<Time> Parse(std::string_view s);
  std::string ToString() const;
  bool operator==(const Time&) const = default;
};

}  // namespace tmcd::apis
