#pragma once
// Strict JSON decoding (simdjson DOM) and canonical encoding (nlohmann ordered_json) of Reflectable
// types. Strict means: unknown and duplicate fields and wrong JSON types are errors with the field
// path; null is treated as absent (as the Kubernetes JSON decoder does). Encoding omits empty
// fields (Go `omitempty`) unless FieldOpts.keep_empty, so decode∘encode is the identity.
// Thread-safe: each thread uses its own simdjson parser.

#include <simdjson.h>

#include <string>
#include <string_view>

#include "apis/meta/field_errors.h"
#include "apis/meta/quantity.h"
#include "apis/meta/reflect.h"
#include "apis/meta/time.h"
#include "common/status.h"

namespace tmcd::apis {
namespace detail {

using Element = simdjson::dom::element;

void DecodeValue(Element el, std::string& out, const std::string& path, FieldErrors& errs);
void DecodeValue(Element el, bool& out, const std::string& path, FieldErrors& errs);
void DecodeValue(Element el, int32_t& out, const std::string& path, FieldErrors& errs);
void DecodeValue(Element el, int64_t& out, const std::string& path, FieldErrors& errs);
void DecodeValue(Element el, Quantity& out, const std::string& path, FieldErrors& errs);
void DecodeValue(Element el, Time& out, const std::string& path, FieldErrors& errs);
void DecodeValue(Element el, RawJson& out, const std::string& path, FieldErrors& errs);
template <class T>
void DecodeValue(Element el, std::optional<T>& out, const std::string& path, FieldErrors& errs);
template <class T>
void DecodeValue(Element el, std::vector<T>& out, const std::string& path, FieldErrors& errs);
template <class T>
void DecodeValue(Element el, std::map<std::string, T>& out, const std::string& path, FieldErrors& errs);
template <Reflectable T>
void DecodeValue(Element el, T& out, const std::string& path, FieldErrors& errs);

// "must be of type X" with the offending JSON rendered.
void TypeError(Element el, std::string_view want, const std::string& path, FieldErrors& errs);

class ObjectDecoder {
 public:
  ObjectDecoder(simdjson::dom::object obj, const std::string& path, FieldErrors& errs)
      : obj_(obj), path_(path), errs_(errs) {}
  template <class T>
  void Field(std::string_view name, T& out, const FieldOpts& /*opts*/ = {}) {
    seen_.push_back(name);
    Element el;
    if (obj_.at_key(name).get(el) != simdjson::SUCCESS) return;
    // null means "absent" except where the field holds arbitrary JSON (a JSON Patch value of null).
    if (el.is_null() && !std::is_same_v<T, RawJson> && !std::is_same_v<T, std::optional<RawJson>>) return;
    DecodeValue(el, out, JoinPath(path_, name), errs_);
  }
  void Rule(std::string_view /*cel*/, std::string_view /*message*/) {}
  // Reports keys that no Field() claimed, and duplicate keys.
  void Finish();

 private:
  simdjson::dom::object obj_;
  const std::string& path_;
  FieldErrors& errs_;
  std::vector<std::string_view> seen_;
};

template <class T>
void DecodeValue(Element el, std::optional<T>& out, const std::string& path, FieldErrors& errs) {
  out.emplace();
  DecodeValue(el, *out, path, errs);
}

template <class T>
void DecodeValue(Element el, std::vector<T>& out, const std::string& path, FieldErrors& errs) {
  simdjson::dom::array arr;
  if (el.get_array().get(arr) != simdjson::SUCCESS) return TypeError(el, "array", path, errs);
  out.clear();
  size_t i = 0;
  for (Element item : arr) {
    out.emplace_back();
    DecodeValue(item, out.back(), IndexPath(path, i++), errs);
  }
}

template <class T>
void DecodeValue(Element el, std::map<std::string, T>& out, const std::string& path, FieldErrors& errs) {
  simdjson::dom::object obj;
  if (el.get_object().get(obj) != simdjson::SUCCESS) return TypeError(el, "object", path, errs);
  out.clear();
  for (auto field : obj) {
    std::string key(field.key);
    if (out.count(key) != 0) errs.Duplicate(KeyPath(path, key), "duplicate key");
    DecodeValue(field.value, out[key], KeyPath(path, key), errs);
  }
}

template <Reflectable T>
void DecodeValue(Element el, T& out, const std::string& path, FieldErrors& errs) {
  simdjson::dom::object obj;
  if (el.get_object().get(obj) != simdjson::SUCCESS) return TypeError(el, "object", path, errs);
  ObjectDecoder d(obj, path, errs);
  Reflect(d, out);
  d.Finish();
}

// Parses `json` with this thread's parser. Malformed JSON → BadRequest.
Result<Element> ParseJson(std::string_view json, simdjson::dom::parser& parser);
simdjson::dom::parser& ThreadParser();

// --- Encoding ---
OrderedJson EncodeValue(const std::string& v);
OrderedJson EncodeValue(bool v);
OrderedJson EncodeValue(int32_t v);
OrderedJson EncodeValue(int64_t v);
OrderedJson EncodeValue(const Quantity& v);
OrderedJson EncodeValue(const Time& v);
OrderedJson EncodeValue(const RawJson& v);
template <class T>
OrderedJson EncodeValue(const std::optional<T>& v);
template <class T>
OrderedJson EncodeValue(const std::vector<T>& v);
template <class T>
OrderedJson EncodeValue(const std::map<std::string, T>& v);
template <Reflectable T>
OrderedJson EncodeValue(const T& v);

inline bool IsEmptyValue(const std::string& v) {
  return v.empty();
}
inline bool IsEmptyValue(bool v) {
  return !v;
}
inline bool IsEmptyValue(int32_t v) {
  return v == 0;
}
inline bool IsEmptyValue(int64_t v) {
  return v == 0;
}
inline bool IsEmptyValue(const Quantity& v) {
  return v.empty();
}
inline bool IsEmptyValue(const Time& v) {
  return !v.set;
}
inline bool IsEmptyValue(const RawJson& v) {
  return v.value.is_null();
}
template <class T>
bool IsEmptyValue(const std::optional<T>& v) {
  return !v.has_value();
}
template <class T>
bool IsEmptyValue(const std::vector<T>& v) {
  return v.empty();
}
template <class T>
bool IsEmptyValue(const std::map<std::string, T>& v) {
  return v.empty();
}
template <Reflectable T>
bool IsEmptyValue(const T& v) {
  return EncodeValue(v).empty();
}

class ObjectEncoder {
 public:
  explicit ObjectEncoder(OrderedJson& out) : out_(out) {}
  template <class T>
  void Field(std::string_view name, T& v, const FieldOpts& opts = {}) {
    if (!opts.keep_empty && IsEmptyValue(v)) return;
    out_[std::string(name)] = EncodeValue(static_cast<const T&>(v));
  }
  void Rule(std::string_view /*cel*/, std::string_view /*message*/) {}

 private:
  OrderedJson& out_;
};

template <class T>
OrderedJson EncodeValue(const std::optional<T>& v) {
  return v ? EncodeValue(*v) : OrderedJson();
}
template <class T>
OrderedJson EncodeValue(const std::vector<T>& v) {
  OrderedJson out = OrderedJson::array();
  for (const auto& item : v) out.push_back(EncodeValue(item));
  return out;
}
template <class T>
OrderedJson EncodeValue(const std::map<std::string, T>& v) {
  OrderedJson out = OrderedJson::object();
  for (const auto& [k, item] : v) out[k] = EncodeValue(item);
  return out;
}
template <Reflectable T>
OrderedJson EncodeValue(const T& v) {
  OrderedJson out = OrderedJson::object();
  ObjectEncoder e(out);
  Reflect(e, const_cast<T&>(v));  // NOLINT: the encoder only reads
  return out;
}

}  // namespace detail

// Decodes a whole document into `out`. Malformed JSON → BadRequest Status; field problems
// (types, unknown or duplicate fields) go to `errs` and decoding continues to find them all.
template <class T>
Status DecodeJson(std::string_view json, T& out, FieldErrors& errs) {
  auto& parser = detail::ThreadParser();
  TMCD_ASSIGN_OR_RETURN(detail::Element root, detail::ParseJson(json, parser));
  detail::DecodeValue(root, out, "", errs);
  return Status::Ok();
}

template <class T>
OrderedJson Encode(const T& v) {
  return detail::EncodeValue(v);
}

template <class T>
std::string EncodeJson(const T& v) {
  return detail::EncodeValue(v).dump();
}

}  // namespace tmcd::apis
