#pragma once
// One declaration per API struct drives everything: each struct has a free function
//
//   template <class V> void Reflect(V& v, MyStruct& o) {
//     v.Field("server", o.server, {.doc = "...", .required = true});
//     v.Rule("self.a <= self.b", "a must not exceed b");   // CEL, cross-field
//   }
//
// and visitors (decoder, encoder, defaulter, validator, OpenAPI schema builder) walk it. That keeps
// the C++ codec, the generated CRDs and the validation rules from drifting apart.

#include <concepts>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace tmcd::apis {

using OrderedJson = nlohmann::ordered_json;

// Per-field facts. For vector/map fields of scalars, enum_values/pattern/max_length/minimum apply
// to the items; max_items to the list.
struct FieldOpts {
  std::string_view doc;
  bool required = false;
  std::string_view default_json;  // JSON literal; applied when the field is empty
  std::span<const std::string_view> enum_values;
  std::optional<int64_t> minimum;
  std::optional<int64_t> maximum;
  size_t max_length = 0;  // 0 = unbounded
  size_t max_items = 0;   // 0 = unbounded
  std::string_view pattern;
  std::string_view format;        // OpenAPI format (int32, date-time, byte, ...)
  std::string_view list_map_key;  // x-kubernetes-list-type: map, keyed by this field
  bool list_set = false;          // x-kubernetes-list-type: set
  bool keep_empty = false;        // encode even when empty (Go field without omitempty)
};

// Arbitrary JSON kept as sent (JSON Patch values, a downstream object's status).
struct RawJson {
  nlohmann::json value;
  bool operator==(const RawJson& o) const { return value == o.value; }
};

// Used only to detect Reflect overloads.
struct ProbeVisitor {
  template <class T>
  void Field(std::string_view /*name*/, T& /*field*/, const FieldOpts& /*opts*/ = {}) {}
  void Rule(std::string_view /*cel*/, std::string_view /*message*/) {}
};

template <class T>
concept Reflectable = requires(ProbeVisitor& v, T& t) {
  Reflect(v, t);
};

template <class T>
struct IsOptional : std::false_type {};
template <class T>
struct IsOptional<std::optional<T>> : std::true_type {};
template <class T>
struct IsVector : std::false_type {};
template <class T>
struct IsVector<std::vector<T>> : std::true_type {};
template <class T>
struct IsStringMap : std::false_type {};
template <class T>
struct IsStringMap<std::map<std::string, T>> : std::true_type {};

inline std::string JoinPath(const std::string& parent, std::string_view name) {
  if (parent.empty()) return std::string(name);
  std::string out = parent;
  out += '.';
  out += name;
  return out;
}
inline std::string IndexPath(const std::string& parent, size_t i) {
  return parent + "[" + std::to_string(i) + "]";
}
inline std::string KeyPath(const std::string& parent, std::string_view key) {
  return parent + "[" + std::string(key) + "]";
}

}  // namespace tmcd::apis
