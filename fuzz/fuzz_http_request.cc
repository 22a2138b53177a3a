// libFuzzer target: the HTTP/1.1 request parser (net::ParseRequest), byte for byte as a client sends.
// Also checks the parser's own promises: a complete request never claims more bytes than it was
// given, and a decoded body is never larger than the limit. scripts/fuzz.sh runs it.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "net/http_message.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view wire(reinterpret_cast<const char*>(data), size);  // NOLINT: libFuzzer's bytes
  tmcd::net::ParseLimits limits;
  limits.max_header_bytes = 4096;
  limits.max_body_bytes = 8192;
  tmcd::net::HttpRequest req;
  const auto r = tmcd::net::ParseRequest(wire, limits, req);
  if (r.state == tmcd::net::ParseResult::State::kDone) {
    if (r.consumed > size || req.body.size() > limits.max_body_bytes) std::abort();
    (void)req.KeepAlive();
    (void)req.SegmentedPath();
  }
  if (r.state == tmcd::net::ParseResult::State::kError && (r.error_status < 400 || r.error_status > 505)) std::abort();
  (void)tmcd::net::PercentDecode(wire, true);
  return 0;
}
