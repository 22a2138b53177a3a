#pragma once
// The JSON object a libFuzzer input holds, behind the same depth check the API applies to request bodies;
// nullopt for anything else (the target returns without work).

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>

#include "common/strings.h"

namespace tmcd::fuzz {

inline std::optional<nlohmann::json> JsonObjectInput(const uint8_t* data, size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);  // NOLINT: libFuzzer's bytes
  if (JsonTooDeep(body)) return std::nullopt;
  nlohmann::json input = nlohmann::json::parse(body, nullptr, false);
  if (input.is_discarded() || !input.is_object()) return std::nullopt;
  return input;
}

}  // namespace tmcd::fuzz
