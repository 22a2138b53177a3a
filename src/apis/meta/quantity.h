#pragma once
// Kubernetes resource.Quantity: "500m", "2Gi", "1.5", "1e3". Kept exactly: the original text for
// round trips and an exact value in nano-units (128-bit) for comparisons, so "1" == "1000m" and
// "1Gi" > "1G" compare correctly without floating point. Value type; thread-compatible.

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace tmcd::apis {

// 128-bit integer (GCC/Clang extension; __extension__ keeps -Wpedantic quiet).
__extension__ typedef __int128 Int128;  // NOLINT(modernize-use-using)

class Quantity {
 public:
  Quantity() = default;
  // Parses the Kubernetes quantity grammar; values finer than 1n are rounded up (as Kubernetes does);
  // magnitudes beyond 2^63-1 whole units are rejected.
  static Result<Quantity> Parse(std::string_view s);
  static Quantity FromMilli(int64_t milli);
  // Exact sums and differences; the text is canonical ("3", "1500m", "250n").
  Quantity Plus(const Quantity& o) const { return FromNanos(nanos_ + o.nanos_); }
  Quantity Minus(const Quantity& o) const { return FromNanos(nanos_ - o.nanos_); }

  const std::string& str() const { return text_; }
  bool empty() const { return text_.empty(); }
  bool IsNegative() const { return nanos_ < 0; }
  // Value in milli-units rounded up (cpu "500m" → 500), and whole units rounded up ("1.5" → 2).
  int64_t MilliValue() const;
  int64_t Value() const;

  // Exact comparison of the values (not the text).
  std::strong_ordering Compare(const Quantity& o) const { return nanos_ <=> o.nanos_; }
  // Equality of the text, so that round-trip tests compare what was written.
  bool operator==(const Quantity& o) const { return text_ == o.text_; }

 private:
  static Quantity FromNanos(Int128 nanos);
  std::string text_;
  Int128 nanos_ = 0;
};

// The OpenAPI pattern Kubernetes uses for quantities (also checked by Parse).
inline constexpr std::string_view kQuantityPattern =
    R"(^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$)";

}  // namespace tmcd::apis
