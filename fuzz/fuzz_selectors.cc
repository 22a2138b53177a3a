// libFuzzer target: label and field selectors as the list and watch handlers compile them (the
// input's first line is the label selector, the rest the field selector), matched against an object.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "registry/objects.h"
#include "registry/resources.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);  // NOLINT: libFuzzer's bytes
  static const tmcd::registry::ResourceInfo* deployments = tmcd::registry::FindResource("apps", "v1", "deployments");
  static const nlohmann::json object = nlohmann::json::parse(
      R"({"metadata":{"name":"web","namespace":"shop","labels":{"app":"web","tier":"front"}},"spec":{"replicas":2}})");
  tmcd::registry::ListOptions o;
  const size_t nl = in.find('\n');
  o.label_selector = std::string(in.substr(0, nl));
  if (nl != std::string_view::npos) o.field_selector = std::string(in.substr(nl + 1));
  auto filters = tmcd::registry::ObjectService::CompileFilters(*deployments, o);
  if (filters.ok()) (void)filters->Matches(object);
  return 0;
}
