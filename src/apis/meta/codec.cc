#include "apis/meta/codec.h"

#include <algorithm>

#include "common/strings.h"

namespace tmcd::apis::detail {
namespace {

std::string Render(Element el) {
  std::string s = simdjson::minify(el);
  if (s.size() > 64) s = s.substr(0, 61) + "...";
  return s;
}

bool GetInt(Element el, int64_t& v) {
  if (el.is_int64()) return el.get_int64().get(v) == simdjson::SUCCESS;
  return false;
}

}  // namespace

void TypeError(Element el, std::string_view want, const std::string& path, FieldErrors& errs) {
  errs.TypeInvalid(path.empty() ? "<root>" : path, Render(el), "must be of type " + std::string(want));
}

void ObjectDecoder::Finish() {
  std::vector<std::string_view> keys;
  for (auto field : obj_) {
    if (std::find(keys.begin(), keys.end(), field.key) != keys.end()) {
      errs_.Duplicate(JoinPath(path_, field.key), "duplicate field");
      continue;
    }
    keys.push_back(field.key);
    if (std::find(seen_.begin(), seen_.end(), field.key) == seen_.end()) {
      errs_.UnknownField(JoinPath(path_, field.key));
    }
  }
}

void DecodeValue(Element el, std::string& out, const std::string& path, FieldErrors& errs) {
  std::string_view v;
  if (el.get_string().get(v) != simdjson::SUCCESS) return TypeError(el, "string", path, errs);
  out.assign(v);
}

void DecodeValue(Element el, bool& out, const std::string& path, FieldErrors& errs) {
  if (el.get_bool().get(out) != simdjson::SUCCESS) TypeError(el, "boolean", path, errs);
}

void DecodeValue(Element el, int32_t& out, const std::string& path, FieldErrors& errs) {
  int64_t v = 0;
  if (!GetInt(el, v)) return TypeError(el, "integer", path, errs);
  if (v < INT32_MIN || v > INT32_MAX) return errs.Invalid(path, std::to_string(v), "must fit in 32 bits");
  out = static_cast<int32_t>(v);
}

void DecodeValue(Element el, int64_t& out, const std::string& path, FieldErrors& errs) {
  if (!GetInt(el, out)) TypeError(el, "integer", path, errs);
}

void DecodeValue(Element el, Quantity& out, const std::string& path, FieldErrors& errs) {
  std::string text;
  std::string_view sv;
  if (el.get_string().get(sv) == simdjson::SUCCESS) {
    text.assign(sv);
  } else if (el.is_number()) {
    text = simdjson::minify(el);
  } else {
    return TypeError(el, "quantity (string or number)", path, errs);
  }
  auto q = Quantity::Parse(text);
  if (!q.ok()) return errs.Invalid(path, Quote(text), q.status().message());
  out = *q;
}

void DecodeValue(Element el, Time& out, const std::string& path, FieldErrors& errs) {
  std::string_view sv;
  if (el.get_string().get(sv) != simdjson::SUCCESS) return TypeError(el, "string (RFC 3339 time)", path, errs);
  auto t = Time::Parse(sv);
  if (!t.ok()) return errs.Invalid(path, Quote(sv), t.status().message());
  out = *t;
}

void DecodeValue(Element el, RawJson& out, const std::string& /*path*/, FieldErrors& /*errs*/) {
  out.value = nlohmann::json::parse(simdjson::minify(el));
}

simdjson::dom::parser& ThreadParser() {
  thread_local simdjson::dom::parser parser;
  return parser;
}

Result<Element> ParseJson(std::string_view json, simdjson::dom::parser& parser) {
  Element root;
  auto err = parser.parse(json.data(), json.size(), true).get(root);
  if (err != simdjson::SUCCESS) {
    return BadRequest(std::string("malformed JSON: ") + simdjson::error_message(err));
  }
  return root;
}

OrderedJson EncodeValue(const std::string& v) {
  return v;
}
OrderedJson EncodeValue(bool v) {
  return v;
}
OrderedJson EncodeValue(int32_t v) {
  return v;
}
OrderedJson EncodeValue(int64_t v) {
  return v;
}
OrderedJson EncodeValue(const Quantity& v) {
  return v.str();
}
OrderedJson EncodeValue(const Time& v) {
  return v.ToString();
}
OrderedJson EncodeValue(const RawJson& v) {
  return OrderedJson::parse(v.value.dump());
}

}  // namespace tmcd::apis::detail
