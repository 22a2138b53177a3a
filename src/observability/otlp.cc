// OTLP/JSON encoding of spans (docs/design/tracing.md): the JSON mapping of the OTLP protobuf
// messages, with trace and span ids as hex strings (not base64) and 64-bit integers as decimal
// strings, as the OTLP specification requires of OTLP/HTTP JSON payloads.

#include <nlohmann/json.hpp>

#include "observability/trace.h"

namespace tmcd::observability {

namespace {

using Json = nlohmann::json;

Json Value(const AttributeValue& v) {
  if (const auto* s = std::get_if<std::string>(&v)) return {{"stringValue", *s}};
  if (const auto* i = std::get_if<int64_t>(&v)) return {{"intValue", std::to_string(*i)}};
  return {{"boolValue", std::get<bool>(v)}};
}

Json Attribute(const std::string& key, const AttributeValue& v) {
  return {{"key", key}, {"value", Value(v)}};
}

Json EncodeSpan(const SpanData& d) {
  Json span = {{"traceId", d.context.TraceIdHex()},
               {"spanId", d.context.SpanIdHex()},
               {"name", d.name},
               {"kind", static_cast<int>(d.kind)},
               {"startTimeUnixNano", std::to_string(d.start_unix_ns)},
               {"endTimeUnixNano", std::to_string(d.end_unix_ns)},
               {"flags", d.context.sampled ? 1 : 0}};  // the W3C trace flags
  SpanContext parent = d.context;
  parent.span_id = d.parent_span_id;
  if (parent.valid()) span["parentSpanId"] = parent.SpanIdHex();
  Json attributes = Json::array();
  for (const auto& [k, v] : d.attributes) attributes.push_back(Attribute(k, v));
  if (!attributes.empty()) span["attributes"] = std::move(attributes);
  if (!d.links.empty()) {
    Json links = Json::array();
    for (const SpanContext& l : d.links) links.push_back({{"traceId", l.TraceIdHex()}, {"spanId", l.SpanIdHex()}});
    span["links"] = std::move(links);
  }
  if (d.error) {
    span["status"] = {{"code", 2}, {"message", d.status_message}};  // STATUS_CODE_ERROR
  }
  return span;
}

}  // namespace

std::string EncodeOtlpJson(const std::vector<SpanData>& spans, const TracingOptions& resource) {
  Json attrs = Json::array({Attribute("service.name", std::string("tmcd"))});
  if (!resource.service_version.empty()) attrs.push_back(Attribute("service.version", resource.service_version));
  if (!resource.service_instance.empty()) {
    attrs.push_back(Attribute("service.instance.id", resource.service_instance));
  }
  Json list = Json::array();
  for (const SpanData& d : spans) list.push_back(EncodeSpan(d));
  Json scope = {{"scope", {{"name", "tmcd"}}}, {"spans", std::move(list)}};
  Json rs = {{"resource", {{"attributes", std::move(attrs)}}}, {"scopeSpans", Json::array({std::move(scope)})}};
  return Json{{"resourceSpans", Json::array({std::move(rs)})}}.dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace tmcd::observability
