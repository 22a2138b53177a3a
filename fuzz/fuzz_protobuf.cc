// libFuzzer target: Kubernetes protobuf request bodies (the k8s envelope and every built-in kind the
// local API decodes), as kubectl and client-go send them. The input gets the envelope magic when it
// lacks it, so the fuzzer spends its time in the message decoder.
#include <cstddef>
#include <cstdint>
#include <string>

#include "api/protobuf.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string body(reinterpret_cast<const char*>(data), size);  // NOLINT: libFuzzer's bytes
  if (body.compare(0, 4, std::string("k8s\0", 4)) != 0) body.insert(0, std::string("k8s\0", 4));
  auto obj = tmcd::api::DecodeKubeProtobuf(body);
  if (obj.ok()) (void)obj->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return 0;
}
