#pragma once
// OpenAPI v3 (structural, CRD-flavoured) schema of a Reflectable type, built from the same Reflect()
// declarations the codec uses. ObjectMeta is rendered as {type: object}, as CRDs require.

#include <string>
#include <type_traits>

#include "apis/meta/codec.h"
#include "apis/meta/object_meta.h"
#include "apis/meta/reflect.h"

namespace tmcd::apis {

template <class T>
OrderedJson SchemaFor(const FieldOpts& opts);

namespace detail {

class SchemaBuilder {
 public:
  explicit SchemaBuilder(OrderedJson& node) : node_(node) {}
  template <class T>
  void Field(std::string_view name, T& /*v*/, const FieldOpts& opts = {}) {
    node_["properties"][std::string(name)] = SchemaFor<T>(opts);
    if (opts.required) node_["required"].push_back(std::string(name));
  }
  void Rule(std::string_view cel, std::string_view message) {
    node_["x-kubernetes-validations"].push_back({{"rule", std::string(cel)}, {"message", std::string(message)}});
  }

 private:
  OrderedJson& node_;
};

// Facts that apply to a scalar (or to the items of a list/map of scalars).
void ApplyScalarOpts(OrderedJson& s, const FieldOpts& opts);
OrderedJson ParseDefault(std::string_view json);

}  // namespace detail

template <class T>
OrderedJson SchemaFor(const FieldOpts& opts) {
  OrderedJson s = OrderedJson::object();
  if (!opts.doc.empty()) s["description"] = std::string(opts.doc);
  if constexpr (IsOptional<T>::value) {
    OrderedJson inner = SchemaFor<typename T::value_type>(opts);
    return inner;
  } else if constexpr (std::is_same_v<T, ObjectMeta>) {
    s["type"] = "object";
    return s;
  } else if constexpr (IsVector<T>::value) {
    s["type"] = "array";
    FieldOpts item_opts = opts;
    item_opts.doc = {};
    item_opts.default_json = {};
    item_opts.max_items = 0;
    item_opts.list_map_key = {};
    s["items"] = SchemaFor<typename T::value_type>(item_opts);
    if (opts.max_items > 0) s["maxItems"] = opts.max_items;
    if (!opts.list_map_key.empty()) {
      s["x-kubernetes-list-type"] = "map";
      s["x-kubernetes-list-map-keys"] = OrderedJson::array({std::string(opts.list_map_key)});
    } else if (opts.list_set) {
      s["x-kubernetes-list-type"] = "set";
    }
  } else if constexpr (IsStringMap<T>::value) {
    s["type"] = "object";
    FieldOpts item_opts;
    item_opts.pattern = opts.pattern;
    item_opts.minimum = opts.minimum;
    item_opts.max_length = opts.max_length;
    s["additionalProperties"] = SchemaFor<typename T::mapped_type>(item_opts);
    if (opts.max_items > 0) s["maxProperties"] = opts.max_items;
  } else if constexpr (Reflectable<T>) {
    s["type"] = "object";
    T probe{};
    detail::SchemaBuilder b(s);
    Reflect(b, probe);
  } else if constexpr (std::is_same_v<T, Quantity>) {
    s["anyOf"] = OrderedJson::array({{{"type", "integer"}}, {{"type", "string"}}});
    s["pattern"] = std::string(kQuantityPattern);
    s["x-kubernetes-int-or-string"] = true;
  } else if constexpr (std::is_same_v<T, RawJson>) {
    s["x-kubernetes-preserve-unknown-fields"] = true;
  } else {
    detail::ApplyScalarOpts(s, opts);
    if constexpr (std::is_same_v<T, std::string>) s["type"] = "string";
    if constexpr (std::is_same_v<T, Time>) s["type"] = "string", s["format"] = "date-time";
    if constexpr (std::is_same_v<T, bool>) s["type"] = "boolean";
    if constexpr (std::is_same_v<T, int32_t>) s["type"] = "integer", s["format"] = "int32";
    if constexpr (std::is_same_v<T, int64_t>) s["type"] = "integer", s["format"] = "int64";
  }
  if (!opts.default_json.empty()) s["default"] = detail::ParseDefault(opts.default_json);
  return s;
}

}  // namespace tmcd::apis
