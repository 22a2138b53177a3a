// libFuzzer target: what a client's JSON can do to a stored built-in object beyond RFC patches —
// a strategic merge patch (directives, merge keys, orders), then the same JSON as a server-side apply
// configuration by a second manager, forced, and the managedFields bookkeeping of an update; then the
// same configuration applied to a custom resource whose schema declares map, set and atomic lists.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string_view>

#include "fuzz_input.h"
#include "registry/field_set.h"
#include "registry/managed_fields.h"
#include "registry/strategic_patch.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using nlohmann::json;
  const auto parsed = tmcd::fuzz::JsonObjectInput(data, size);
  if (!parsed) return 0;
  const json& input = *parsed;
  static const json kLive = json::parse(R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d",
    "finalizers":["f"],"managedFields":[{"manager":"a","operation":"Apply","fieldsType":"FieldsV1","fieldsV1":
    {"f:spec":{"f:replicas":{},"f:template":{"f:spec":{"f:containers":{"k:{\"name\":\"app\"}":{".":{},
    "f:image":{}}}}}}}}]},"spec":{"replicas":1,"template":{"spec":{"containers":[{"name":"app","image":"i",
    "ports":[{"containerPort":80}]}],"volumes":[{"name":"v","emptyDir":{}}]}}}})");
  std::vector<std::string> warnings;
  auto patched = tmcd::registry::StrategicMergePatch(kLive, input, "Deployment", &warnings);
  if (patched.ok()) (void)patched->dump(-1, ' ', false, json::error_handler_t::replace);
  const tmcd::registry::ManagerInfo b{"b", "", "apps/v1", "2026-01-01T00:00:00Z"};
  auto applied = tmcd::registry::ApplyConfiguration(kLive, input, "Deployment", b, true);
  if (applied.ok()) {
    json updated = *applied;
    tmcd::registry::TrackUpdate(&kLive, updated, "Deployment", b);
    for (const auto& path : tmcd::registry::Leaves(tmcd::registry::ExtractFields(updated, "Deployment"))) {
      (void)tmcd::registry::FieldPathString(path);
    }
  }
  static const json kSchema = json::parse(R"({"type":"object","properties":{"spec":{"type":"object",
    "properties":{"ports":{"type":"array","x-kubernetes-list-type":"map","x-kubernetes-list-map-keys":["name"],
    "items":{"type":"object","x-kubernetes-preserve-unknown-fields":true}},"tags":{"type":"array",
    "x-kubernetes-list-type":"set","items":{"type":"string"}}},"additionalProperties":{"type":"array",
    "x-kubernetes-list-type":"set"}}}})");
  static const json kWidget = json::parse(R"({"apiVersion":"example.com/v1","kind":"Widget","metadata":
    {"name":"w"},"spec":{"ports":[{"name":"http","port":80}],"tags":["a"]}})");
  const tmcd::registry::ObjectType widget("Widget", &kSchema);
  auto custom = tmcd::registry::ApplyConfiguration(kWidget, input, widget, b, true);
  if (custom.ok()) (void)tmcd::registry::Leaves(tmcd::registry::ExtractFields(*custom, widget));
  return 0;
}
