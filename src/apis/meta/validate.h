#pragma once
// Generic validation and defaulting from FieldOpts (required, enum, ranges, lengths, patterns,
// defaults), followed by each struct's own CheckRules(const T&, path, errs) where one exists (found
// by ADL). The same facts become the CRD's openAPIV3Schema, so both layers agree by construction.

#include <string>
#include <type_traits>

#include "apis/meta/codec.h"
#include "apis/meta/field_errors.h"
#include "apis/meta/reflect.h"

namespace tmcd::apis {

template <class T>
concept HasRules = requires(const T& t, const std::string& p, FieldErrors& e) {
  CheckRules(t, p, e);
};

namespace detail {

void CheckString(const std::string& v, const std::string& path, const FieldOpts& opts, FieldErrors& errs);
void CheckInt(int64_t v, const std::string& path, const FieldOpts& opts, FieldErrors& errs);
void CheckQuantity(const Quantity& v, const std::string& path, const FieldOpts& opts, FieldErrors& errs);
// Decodes a FieldOpts.default_json literal into `out` (the literals are code, so failure is a bug
// caught by the unit tests).
template <class T>
void DecodeDefault(std::string_view json, T& out);

template <class T>
void ValidateValue(const T& v, const std::string& path, const FieldOpts& opts, FieldErrors& errs);

class ValidatorVisitor {
 public:
  ValidatorVisitor(const std::string& path, FieldErrors& errs) : path_(path), errs_(errs) {}
  template <class T>
  void Field(std::string_view name, T& v, const FieldOpts& opts = {}) {
    ValidateValue(static_cast<const T&>(v), JoinPath(path_, name), opts, errs_);
  }
  void Rule(std::string_view /*cel*/, std::string_view /*message*/) {}

 private:
  const std::string& path_;
  FieldErrors& errs_;
};

template <class T>
void ValidateValue(const T& v, const std::string& path, const FieldOpts& opts, FieldErrors& errs) {
  if constexpr (IsOptional<T>::value) {
    if (v) {
      ValidateValue(*v, path, opts, errs);
    } else if (opts.required) {
      errs.Required(path);
    }
  } else if constexpr (IsVector<T>::value) {
    if (opts.required && v.empty()) errs.Required(path);
    if (opts.max_items > 0 && v.size() > opts.max_items) errs.TooMany(path, v.size(), opts.max_items);
    FieldOpts item = opts;
    item.required = false;
    for (size_t i = 0; i < v.size(); ++i) ValidateValue(v[i], IndexPath(path, i), item, errs);
  } else if constexpr (IsStringMap<T>::value) {
    if (opts.max_items > 0 && v.size() > opts.max_items) errs.TooMany(path, v.size(), opts.max_items);
    FieldOpts item = opts;
    item.required = false;
    for (const auto& [k, val] : v) ValidateValue(val, KeyPath(path, k), item, errs);
  } else if constexpr (Reflectable<T>) {
    ValidatorVisitor vis(path, errs);
    Reflect(vis, const_cast<T&>(v));  // NOLINT: the validator only reads
    if constexpr (HasRules<T>) CheckRules(v, path, errs);
  } else if constexpr (std::is_same_v<T, std::string>) {
    CheckString(v, path, opts, errs);
  } else if constexpr (std::is_same_v<T, int32_t> || std::is_same_v<T, int64_t>) {
    CheckInt(v, path, opts, errs);
  } else if constexpr (std::is_same_v<T, Quantity>) {
    CheckQuantity(v, path, opts, errs);
  } else if constexpr (std::is_same_v<T, Time> || std::is_same_v<T, RawJson>) {
    if (opts.required && IsEmptyValue(v)) errs.Required(path);
  }
}

template <class T>
void DefaultValue(T& v, const FieldOpts& opts);

class DefaulterVisitor {
 public:
  template <class T>
  void Field(std::string_view /*name*/, T& v, const FieldOpts& opts = {}) {
    DefaultValue(v, opts);
  }
  void Rule(std::string_view /*cel*/, std::string_view /*message*/) {}
};

template <class T>
void DefaultValue(T& v, const FieldOpts& opts) {
  if (!opts.default_json.empty() && IsEmptyValue(v)) DecodeDefault(opts.default_json, v);
  if constexpr (IsOptional<T>::value) {
    if (v) DefaultValue(*v, FieldOpts{});
  } else if constexpr (IsVector<T>::value) {
    for (auto& item : v) DefaultValue(item, FieldOpts{});
  } else if constexpr (IsStringMap<T>::value) {
    for (auto& [k, item] : v) DefaultValue(item, FieldOpts{});
  } else if constexpr (Reflectable<T>) {
    DefaulterVisitor d;
    Reflect(d, v);
  }
}

template <class T>
void DecodeDefault(std::string_view json, T& out) {
  simdjson::dom::parser parser;  // not the thread parser: a document may be in flight there
  auto root = ParseJson(json, parser);
  FieldErrors errs;
  if (root.ok()) DecodeValue(*root, out, "", errs);
}

}  // namespace detail

// Validates every field of `obj` (paths relative to the object root, e.g. "spec.location").
template <class T>
void ValidateFields(const T& obj, FieldErrors& errs) {
  detail::ValidateValue(obj, "", FieldOpts{}, errs);
}

// Applies FieldOpts defaults throughout `obj`.
template <class T>
void ApplyDefaults(T& obj) {
  detail::DefaultValue(obj, FieldOpts{});
}

}  // namespace tmcd::apis
