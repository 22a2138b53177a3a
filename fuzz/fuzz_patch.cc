// libFuzzer target: JSON merge patches and RFC 6902 JSON patches as the API applies them to a
// stored object (depth check first, then nlohmann's merge_patch / tmcd::ApplyJsonPatch, then serialization).
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string_view>
#include <utility>

#include "common/json_patch.h"
#include "common/strings.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);  // NOLINT: libFuzzer's bytes
  if (tmcd::JsonTooDeep(body)) return 0;
  const nlohmann::json patch = nlohmann::json::parse(body, nullptr, false);
  if (patch.is_discarded()) return 0;
  nlohmann::json obj = nlohmann::json::parse(
      R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c","labels":{"a":"b"}},"data":{"k":"v"}})");
  if (patch.is_object()) obj.merge_patch(patch);
  if (patch.is_array()) {
    auto patched = tmcd::ApplyJsonPatch(obj, patch);
    if (!patched.ok()) return 0;  // the API answers 422 for a patch that does not apply
    obj = std::move(*patched);
  }
  (void)obj.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return 0;
}
