// libFuzzer target: resource quantities ("100m", "1.5Gi", "2e3"): parse, and what parses formats and
// parses again to the same value.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "apis/meta/quantity.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view s(reinterpret_cast<const char*>(data), size);  // NOLINT: libFuzzer's bytes
  auto q = tmcd::apis::Quantity::Parse(s);
  if (!q.ok()) return 0;
  auto again = tmcd::apis::Quantity::Parse(q->str());
  if (!again.ok() || again->Compare(*q) != 0) std::abort();
  (void)q->MilliValue();
  (void)q->Value();
  return 0;
}
