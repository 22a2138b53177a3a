#include "registry/structural.h"

#include <cmath>
#include <map>
#include <mutex>
#include <regex>
#include <set>

#include "apis/meta/time.h"
#include "common/strings.h"

namespace tmcd::registry {
namespace {

using Json = nlohmann::json;

// std::regex matches recursively; a pattern is checked only on strings up to this size, so a hostile
// value cannot exhaust the stack (docs/custom-resources.md#validation).
constexpr size_t kMaxPatternInput = 4096;

std::string Join(const std::string& path, const std::string& key) {
  return path.empty() ? key : path + "." + key;
}

std::string Render(const Json& v) {
  std::string s = v.is_string() ? Quote(v.get<std::string>()) : v.dump();
  if (s.size() > 64) s = s.substr(0, 61) + "...";
  return s;
}

bool TypeMatches(const std::string& type, const Json& v) {
  if (type == "object") return v.is_object();
  if (type == "array") return v.is_array();
  if (type == "string") return v.is_string();
  if (type == "integer") return v.is_number_integer() || (v.is_number_float() && std::trunc(v.get<double>()) == v);
  if (type == "number") return v.is_number();
  if (type == "boolean") return v.is_boolean();
  return true;  // no type: x-kubernetes-preserve-unknown-fields or int-or-string, checked elsewhere
}

const std::regex* Compiled(const std::string& pattern) {
  static std::mutex mu;
  static std::map<std::string, std::unique_ptr<std::regex>> cache;
  std::lock_guard lock(mu);
  auto it = cache.find(pattern);
  if (it != cache.end()) return it->second.get();
  if (cache.size() >= 1024) cache.clear();
  try {
    auto re = std::make_unique<std::regex>(pattern, std::regex::ECMAScript);
    return cache.emplace(pattern, std::move(re)).first->second.get();
  } catch (const std::regex_error&) {
    return nullptr;
  }
}

size_t CodePoints(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

bool FormatOk(const std::string& format, const Json& v) {
  if (format == "int32") return !v.is_number_integer() || (v >= INT32_MIN && v <= INT32_MAX);
  if (!v.is_string()) return true;
  const std::string s = v.get<std::string>();
  if (format == "date-time") return apis::Time::Parse(s).ok();
  if (format == "date") return apis::Time::Parse(s + "T00:00:00Z").ok() && s.size() == 10;
  if (format == "byte") {
    std::string out;
    return Base64Decode(s, out);
  }
  if (format == "uuid") {
    static const std::regex kUuid("^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$");
    return s.size() == 36 && std::regex_match(s, kUuid);
  }
  if (format == "ipv4") {
    static const std::regex kIpv4(
        "^((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\\.){3}"
        "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])$");
    return s.size() <= 15 && std::regex_match(s, kIpv4);
  }
  return true;  // as kube-apiserver: formats it does not know are not checked
}

class Walker {
 public:
  Walker(const SchemaOptions& opts, apis::FieldErrors& errs, bool value_only)
      : opts_(opts), errs_(errs), value_only_(value_only) {}

  void Walk(const Json& s, Json& v, const std::string& path, bool root) {
    if (!s.is_object()) return;
    if (v.is_null()) {
      if (!s.value("nullable", false)) errs_.Invalid(path, "null", "must not be null");
      return;
    }
    const std::string type = s.value("type", "");
    if (s.value("x-kubernetes-int-or-string", false)) {
      if (!v.is_number_integer() && !v.is_string()) {
        errs_.TypeInvalid(path, Render(v), "must be an integer or a string");
        return;
      }
    } else if (!TypeMatches(type, v)) {
      errs_.TypeInvalid(path, Render(v), "must be of type " + type);
      return;
    }
    if (v.is_object()) WalkObject(s, v, path, root);
    if (v.is_array()) WalkArray(s, v, path);
    CheckValue(s, v, path);
    Junctors(s, v, path);
  }

 private:
  void WalkObject(const Json& s, Json& v, const std::string& path, bool root) {
    static const Json kNone;
    const Json& props = s.contains("properties") ? s["properties"] : kNone;
    const Json& addl = s.contains("additionalProperties") ? s["additionalProperties"] : kNone;
    const bool preserve = s.value("x-kubernetes-preserve-unknown-fields", false) ||
                          s.value("x-kubernetes-embedded-resource", false) || (addl.is_boolean() && addl.get<bool>());
    if (props.is_object() && !value_only_) {
      for (auto it = props.begin(); it != props.end(); ++it) {
        const bool absent = !v.contains(it.key()) || (v[it.key()].is_null() && !it->value("nullable", false));
        if (absent && it->contains("default")) v[it.key()] = (*it)["default"];
      }
    }
    std::vector<std::string> keys;
    for (auto it = v.begin(); it != v.end(); ++it) keys.push_back(it.key());
    for (const auto& k : keys) {
      if (root && (k == "apiVersion" || k == "kind" || k == "metadata")) continue;
      const std::string child = Join(path, k);
      if (props.is_object() && props.contains(k)) {
        Walk(props[k], v[k], child, false);
      } else if (addl.is_object()) {
        Walk(addl, v[k], child, false);
      } else if (!preserve && !value_only_) {
        if (opts_.prune) {
          v.erase(k);
          if (opts_.pruned != nullptr) opts_.pruned->push_back(child);
        } else {
          errs_.UnknownField(child);
        }
      }
    }
    if (s.contains("required") && s["required"].is_array()) {
      for (const auto& r : s["required"]) {
        if (r.is_string() && !v.contains(r.get<std::string>())) errs_.Required(Join(path, r.get<std::string>()));
      }
    }
    if (s.contains("maxProperties") && v.size() > s["maxProperties"].get<size_t>()) {
      errs_.TooMany(path, v.size(), s["maxProperties"].get<size_t>());
    }
    if (s.contains("minProperties") && v.size() < s["minProperties"].get<size_t>()) {
      errs_.Invalid(path, std::to_string(v.size()),
                    "must have at least " + std::to_string(s["minProperties"].get<size_t>()) + " properties");
    }
  }

  void WalkArray(const Json& s, Json& v, const std::string& path) {
    if (s.contains("items")) {
      for (size_t i = 0; i < v.size(); ++i) Walk(s["items"], v[i], path + "[" + std::to_string(i) + "]", false);
    }
    if (s.contains("maxItems") && v.size() > s["maxItems"].get<size_t>()) {
      errs_.TooMany(path, v.size(), s["maxItems"].get<size_t>());
    }
    if (s.contains("minItems") && v.size() < s["minItems"].get<size_t>()) {
      errs_.Invalid(path, std::to_string(v.size()),
                    "must have at least " + std::to_string(s["minItems"].get<size_t>()) + " items");
    }
    const std::string list_type = s.value("x-kubernetes-list-type", "atomic");
    if (list_type == "set" || list_type == "map") {
      std::set<std::string> seen;
      for (size_t i = 0; i < v.size(); ++i) {
        std::string key;
        if (list_type == "set") {
          key = v[i].dump();
        } else if (s.contains("x-kubernetes-list-map-keys") && v[i].is_object()) {
          for (const auto& k : s["x-kubernetes-list-map-keys"])
            key += v[i].value(k.get<std::string>(), Json()).dump() + ",";
        }
        if (!seen.insert(key).second) errs_.Duplicate(path + "[" + std::to_string(i) + "]", Render(v[i]));
      }
    }
  }

  void CheckValue(const Json& s, const Json& v, const std::string& path) {
    if (s.contains("enum") && s["enum"].is_array()) {
      bool found = false;
      std::vector<std::string> texts;
      for (const auto& e : s["enum"]) {
        found = found || e == v;
        texts.push_back(e.is_string() ? e.get<std::string>() : e.dump());
      }
      if (!found) errs_.NotSupported(path, Render(v), {texts.begin(), texts.end()});
    }
    if (v.is_string()) {
      const std::string& str = v.get_ref<const std::string&>();
      const size_t n = CodePoints(str);
      if (s.contains("maxLength") && n > s["maxLength"].get<size_t>()) errs_.TooLong(path, s["maxLength"]);
      if (s.contains("minLength") && n < s["minLength"].get<size_t>()) {
        errs_.Invalid(path, Render(v), "should be at least " + s["minLength"].dump() + " chars long");
      }
      if (s.contains("pattern") && s["pattern"].is_string()) {
        const std::regex* re = Compiled(s["pattern"].get<std::string>());
        if (str.size() > kMaxPatternInput) {
          errs_.Invalid(path, "\"...\"",
                        "longer than " + std::to_string(kMaxPatternInput) +
                            " bytes, too long to match "
                            "against the pattern " +
                            Quote(s["pattern"].get<std::string>()));
        } else if (re == nullptr || !std::regex_search(str, *re)) {
          errs_.Invalid(path, Render(v), "should match " + Quote(s["pattern"].get<std::string>()));
        }
      }
    }
    if (v.is_number()) {
      const double x = v.get<double>();
      if (s.contains("maximum")) {
        const double m = s["maximum"].get<double>();
        if (s.value("exclusiveMaximum", false) ? x >= m : x > m) {
          errs_.Invalid(path, Render(v),
                        "should be less than " + std::string(s.value("exclusiveMaximum", false) ? "" : "or equal to ") +
                            s["maximum"].dump());
        }
      }
      if (s.contains("minimum")) {
        const double m = s["minimum"].get<double>();
        if (s.value("exclusiveMinimum", false) ? x <= m : x < m) {
          errs_.Invalid(path, Render(v),
                        "should be greater than " +
                            std::string(s.value("exclusiveMinimum", false) ? "" : "or equal to ") +
                            s["minimum"].dump());
        }
      }
      if (s.contains("multipleOf") && s["multipleOf"].get<double>() > 0) {
        const double q = x / s["multipleOf"].get<double>();
        if (std::fabs(q - std::round(q)) > 1e-9)
          errs_.Invalid(path, Render(v), "should be a multiple of " + s["multipleOf"].dump());
      }
    }
    if (s.contains("format") && s["format"].is_string() && !FormatOk(s["format"].get<std::string>(), v)) {
      errs_.Invalid(path, Render(v), "must be of format " + s["format"].get<std::string>());
    }
  }

  // allOf / anyOf / oneOf / not: value validations of the same node (no pruning or defaulting).
  bool Passes(const Json& sub, const Json& v, const std::string& path) {
    apis::FieldErrors scratch;
    Walker w(opts_, scratch, true);
    Json copy = v;
    w.Walk(sub, copy, path, false);
    return scratch.empty();
  }

  void Junctors(const Json& s, const Json& v, const std::string& path) {
    if (s.contains("allOf")) {
      for (const auto& sub : s["allOf"]) {
        Walker w(opts_, errs_, true);
        Json copy = v;
        w.Walk(sub, copy, path, false);
      }
    }
    auto count = [&](const char* key) {
      size_t n = 0;
      for (const auto& sub : s[key]) n += Passes(sub, v, path);
      return n;
    };
    if (s.contains("anyOf") && count("anyOf") == 0)
      errs_.Invalid(path, Render(v), "must validate at least one schema (anyOf)");
    if (s.contains("oneOf") && count("oneOf") != 1)
      errs_.Invalid(path, Render(v), "must validate one and only one schema (oneOf)");
    if (s.contains("not") && Passes(s["not"], v, path))
      errs_.Invalid(path, Render(v), "must not validate the schema (not)");
  }

  const SchemaOptions& opts_;
  apis::FieldErrors& errs_;
  bool value_only_;
};

// Every keyword tmcd reads, with the JSON type its value must have (checked before anything reads it).
const std::map<std::string, Json::value_t>& KnownKeys() {
  using T = Json::value_t;
  static const std::map<std::string, T> kKeys = {{"type", T::string},
                                                 {"description", T::string},
                                                 {"title", T::string},
                                                 {"properties", T::object},
                                                 {"additionalProperties", T::null},
                                                 {"items", T::object},
                                                 {"required", T::array},
                                                 {"default", T::null},
                                                 {"nullable", T::boolean},
                                                 {"enum", T::array},
                                                 {"minimum", T::number_float},
                                                 {"maximum", T::number_float},
                                                 {"exclusiveMinimum", T::boolean},
                                                 {"exclusiveMaximum", T::boolean},
                                                 {"multipleOf", T::number_float},
                                                 {"minLength", T::number_unsigned},
                                                 {"maxLength", T::number_unsigned},
                                                 {"pattern", T::string},
                                                 {"minItems", T::number_unsigned},
                                                 {"maxItems", T::number_unsigned},
                                                 {"minProperties", T::number_unsigned},
                                                 {"maxProperties", T::number_unsigned},
                                                 {"format", T::string},
                                                 {"example", T::null},
                                                 {"externalDocs", T::object},
                                                 {"uniqueItems", T::boolean},
                                                 {"allOf", T::array},
                                                 {"anyOf", T::array},
                                                 {"oneOf", T::array},
                                                 {"not", T::object},
                                                 {"x-kubernetes-preserve-unknown-fields", T::boolean},
                                                 {"x-kubernetes-int-or-string", T::boolean},
                                                 {"x-kubernetes-embedded-resource", T::boolean},
                                                 {"x-kubernetes-list-type", T::string},
                                                 {"x-kubernetes-list-map-keys", T::array},
                                                 {"x-kubernetes-map-type", T::string}};
  return kKeys;
}

bool KindMatches(Json::value_t want, const Json& v) {
  switch (want) {
    case Json::value_t::null:
      return true;  // any value (default, example) or checked by the caller (additionalProperties)
    case Json::value_t::number_float:
      return v.is_number();
    case Json::value_t::number_unsigned:
      return v.is_number_unsigned();
    default:
      return v.type() == want;
  }
}

// Unknown and forbidden keywords, and keyword values of the wrong JSON type.
void CheckKeywords(const Json& s, const std::string& field, apis::FieldErrors& errs) {
  for (auto it = s.begin(); it != s.end(); ++it) {
    const std::string& k = it.key();
    const auto known = KnownKeys().find(k);
    if (k == "x-kubernetes-validations") {
      errs.Forbidden(Join(field, k), "CEL validation rules are not supported by tmcd yet (docs/custom-resources.md)");
    } else if (k == "$ref" || k == "patternProperties" || k == "dependencies" || k == "definitions" || k == "id" ||
               k == "$schema" || k == "additionalItems") {
      errs.Forbidden(Join(field, k), "must not be set in a structural schema");
    } else if (known == KnownKeys().end()) {
      errs.Forbidden(Join(field, k), "is not an OpenAPI v3 schema keyword tmcd knows");
    } else if (!KindMatches(known->second, *it) ||
               (k == "additionalProperties" && !it->is_boolean() && !it->is_object())) {
      errs.Invalid(Join(field, k), Render(*it), std::string("must be of JSON type ") + Json(known->second).type_name());
    }
  }
}

void CheckShape(const Json& s, const std::string& field, bool root, bool in_junctor, apis::FieldErrors& errs) {
  const std::string type = s.value("type", "");
  const bool int_or_string = s.value("x-kubernetes-int-or-string", false);
  const bool preserve = s.value("x-kubernetes-preserve-unknown-fields", false);
  static const std::set<std::string> kTypes = {"object", "array", "string", "integer", "number", "boolean"};
  if (!type.empty() && kTypes.count(type) == 0) {
    errs.NotSupported(Join(field, "type"), Quote(type), {"array", "boolean", "integer", "number", "object", "string"});
  }
  if (root && type != "object") errs.Invalid(Join(field, "type"), Quote(type), "must be object at the root");
  if (!in_junctor && type.empty() && !int_or_string && !preserve) {
    errs.Required(Join(field, "type"), "must not be empty for specified fields");
  }
  if (in_junctor && (s.contains("default") || s.contains("nullable") || s.contains("additionalProperties") ||
                     s.contains("x-kubernetes-preserve-unknown-fields"))) {
    errs.Forbidden(field,
                   "default, nullable, additionalProperties and x-kubernetes-preserve-unknown-fields must "
                   "not be set inside allOf, anyOf, oneOf or not");
  }
  if (s.value("uniqueItems", false)) {
    errs.Forbidden(Join(field, "uniqueItems"),
                   "uniqueItems cannot be set to true since the runtime complexity becomes quadratic");
  }
  if (s.contains("properties") && s.contains("additionalProperties") && !s["additionalProperties"].is_boolean()) {
    errs.Forbidden(Join(field, "additionalProperties"), "additionalProperties and properties are mutual exclusive");
  }
  if (s.contains("pattern") && Compiled(s["pattern"].get<std::string>()) == nullptr) {
    errs.Invalid(Join(field, "pattern"), Render(s["pattern"]), "must be a valid ECMA-262 regular expression");
  }
  if (type == "array" && !in_junctor && !s.contains("items")) errs.Required(Join(field, "items"), "must be specified");
  const std::string list_type = s.value("x-kubernetes-list-type", "atomic");
  if (list_type != "atomic" && list_type != "set" && list_type != "map") {
    errs.NotSupported(Join(field, "x-kubernetes-list-type"), Quote(list_type), {"atomic", "map", "set"});
  }
  if (list_type == "map" && (!s.contains("x-kubernetes-list-map-keys") || s["x-kubernetes-list-map-keys"].empty())) {
    errs.Required(Join(field, "x-kubernetes-list-map-keys"), "must be set when x-kubernetes-list-type is map");
  }
  for (const auto& key : s.value("x-kubernetes-list-map-keys", Json::array())) {
    if (!key.is_string()) errs.Invalid(Join(field, "x-kubernetes-list-map-keys"), Render(key), "must be strings");
  }
}

void Check(const Json& s, const std::string& field, bool root, bool in_junctor, apis::FieldErrors& errs);

void CheckChildren(const Json& s, const std::string& field, bool root, bool in_junctor, apis::FieldErrors& errs) {
  if (s.contains("properties")) {
    for (auto it = s["properties"].begin(); it != s["properties"].end(); ++it) {
      if (root && it.key() == "metadata") continue;  // ObjectMeta is tmcd's, whatever the schema says
      Check(*it, Join(field, "properties[" + it.key() + "]"), false, in_junctor, errs);
    }
  }
  if (s.contains("additionalProperties") && s["additionalProperties"].is_object()) {
    Check(s["additionalProperties"], Join(field, "additionalProperties"), false, in_junctor, errs);
  }
  if (s.contains("items")) Check(s["items"], Join(field, "items"), false, in_junctor, errs);
  for (const char* j : {"allOf", "anyOf", "oneOf"}) {
    if (!s.contains(j)) continue;
    for (size_t i = 0; i < s[j].size(); ++i) {
      Check(s[j][i], Join(field, j) + "[" + std::to_string(i) + "]", false, true, errs);
    }
  }
  if (s.contains("not")) Check(s["not"], Join(field, "not"), false, true, errs);
}

void Check(const Json& s, const std::string& field, bool root, bool in_junctor, apis::FieldErrors& errs) {
  if (!s.is_object()) {
    errs.Invalid(field, Render(s), "must be a schema object");
    return;
  }
  const size_t before = errs.size();
  CheckKeywords(s, field, errs);
  if (errs.size() != before) return;  // nothing below may read a keyword of the wrong type
  CheckShape(s, field, root, in_junctor, errs);
  CheckChildren(s, field, root, in_junctor, errs);
  if (s.contains("default") && errs.size() == before) {  // a default must pass its own schema
    apis::FieldErrors derrs;
    Json d = s["default"];
    Walker(SchemaOptions{}, derrs, false).Walk(s, d, "", false);
    for (const auto& e : derrs.errors()) errs.Invalid(Join(field, "default"), "", e.Message());
  }
}

}  // namespace

void ApplySchema(const Json& schema, Json& obj, const SchemaOptions& opts, apis::FieldErrors& errs) {
  Walker(opts, errs, false).Walk(schema, obj, "", true);
}

void CheckStructural(const Json& schema, const std::string& field, apis::FieldErrors& errs) {
  Check(schema, field, true, false, errs);
}

}  // namespace tmcd::registry
