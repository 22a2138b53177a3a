// libFuzzer target: what a tenant's CustomResourceDefinition and custom resources can do to tmcd — the
// CRD checks (names, versions, structural schema), then, for a schema that passes, defaulting, pruning and
// validation of an object against it, in both strict and pruning modes. Input: {"crd": {...}, "object":
// {...}} (either may be any JSON). Nothing here may throw or crash: a bad schema is a 422, never a 500.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string_view>

#include "fuzz_input.h"
#include "registry/crd.h"
#include "registry/structural.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using nlohmann::json;
  const auto parsed = tmcd::fuzz::JsonObjectInput(data, size);
  if (!parsed) return 0;
  const json& input = *parsed;
  json crd = input.value("crd", json::object());
  if (!crd.is_object()) return 0;
  if (!tmcd::registry::PrepareCrd(crd, nullptr, {}).ok()) return 0;
  tmcd::registry::SetCrdStatus(crd, nullptr, "2026-01-01T00:00:00Z");
  const tmcd::registry::ResourceInfo r = tmcd::registry::CustomResource(crd);
  if (!r.schema) return 0;
  for (const bool prune : {false, true}) {
    json obj = input.value("object", json());
    std::vector<std::string> pruned;
    tmcd::apis::FieldErrors errs;
    tmcd::registry::ApplySchema(*r.schema, obj, {.prune = prune, .pruned = &pruned}, errs);
    (void)errs.Summary();
    (void)obj.dump(-1, ' ', false, json::error_handler_t::replace);
  }
  return 0;
}
