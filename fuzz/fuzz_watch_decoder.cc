// libFuzzer target: the watch-stream decoder fed the bytes a cluster sends, split at an
// input-chosen point (events arrive across reads).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "kube/watch_decoder.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);  // NOLINT: libFuzzer's bytes
  const size_t split = std::min<size_t>(data[0], bytes.size());
  tmcd::kube::WatchDecoder decoder;
  size_t events = 0;
  auto count = [&](tmcd::kube::WatchEvent&) { return ++events < 1000; };
  if (decoder.Feed(bytes.substr(0, split), count).ok()) (void)decoder.Feed(bytes.substr(split), count);
  return 0;
}
