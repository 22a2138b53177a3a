#include "kube/watch_decoder.h"

#include "kube/errors.h"

namespace tmcd::kube {
namespace {

Status Malformed(std::string_view why, std::string_view line) {
  return BadRequest("malformed watch event (" + std::string(why) + "): " + std::string(line.substr(0, 120)));
}

std::string StringAt(simdjson::dom::element obj, std::string_view pointer) {
  std::string_view v;
  if (obj.at_pointer(pointer).get(v) != simdjson::SUCCESS) return "";
  return std::string(v);
}

}  // namespace

std::string_view WatchEventTypeName(WatchEventType t) {
  switch (t) {
    case WatchEventType::kAdded:
      return "ADDED";
    case WatchEventType::kModified:
      return "MODIFIED";
    case WatchEventType::kDeleted:
      return "DELETED";
    case WatchEventType::kBookmark:
      return "BOOKMARK";
    case WatchEventType::kError:
      return "ERROR";
  }
  return "";
}

Status WatchDecoder::DecodeLine(std::string_view line, WatchEvent& out) {
  simdjson::padded_string padded(line);
  simdjson::dom::element doc;
  if (parser_.parse(padded).get(doc) != simdjson::SUCCESS) return Malformed("not JSON", line);
  std::string_view type;
  simdjson::dom::object object;
  if (doc["type"].get(type) != simdjson::SUCCESS) return Malformed("no type", line);
  if (doc["object"].get(object) != simdjson::SUCCESS) return Malformed("no object", line);
  if (type == "ADDED") {
    out.type = WatchEventType::kAdded;
  } else if (type == "MODIFIED") {
    out.type = WatchEventType::kModified;
  } else if (type == "DELETED") {
    out.type = WatchEventType::kDeleted;
  } else if (type == "BOOKMARK") {
    out.type = WatchEventType::kBookmark;
  } else if (type == "ERROR") {
    out.type = WatchEventType::kError;
  } else {
    return Malformed("unknown type", line);
  }
  simdjson::dom::element obj = doc["object"];
  out.object = simdjson::minify(obj);
  out.resource_version = StringAt(obj, "/metadata/resourceVersion");
  out.name = StringAt(obj, "/metadata/name");
  out.namespace_ = StringAt(obj, "/metadata/namespace");
  out.cluster = StringAt(obj, "/metadata/annotations/kcp.io~1cluster");
  out.initial_events_end = out.type == WatchEventType::kBookmark &&
                           StringAt(obj, "/metadata/annotations/k8s.io~1initial-events-end") == "true";
  if (out.type == WatchEventType::kError) {
    int64_t code = 500;
    if (obj["code"].get(code) != simdjson::SUCCESS) code = 500;
    out.error = DecodeStatus(static_cast<int>(code), out.object);
  } else {
    out.error = Status::Ok();
    if (out.resource_version.empty()) return Malformed("object without metadata.resourceVersion", line);
  }
  return Status::Ok();
}

Status WatchDecoder::Feed(std::string_view bytes, const std::function<bool(WatchEvent&)>& on_event) {
  buffer_.append(bytes);
  size_t start = 0;
  Status result = Status::Ok();
  while (true) {
    const size_t nl = buffer_.find('\n', start);
    if (nl == std::string::npos) break;
    std::string_view line(buffer_.data() + start, nl - start);
    start = nl + 1;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
    if (line.empty()) continue;
    WatchEvent ev;
    if (Status s = DecodeLine(line, ev); !s.ok()) {
      result = s;
      break;
    }
    ++decoded_;
    if (!on_event(ev)) break;
  }
  buffer_.erase(0, start);
  if (result.ok() && buffer_.size() > kMaxWatchEventBytes) {
    // A peer that never ends a line would grow the buffer without bound.
    result = Status(Reason::kBadRequest, "a watch event is larger than " + std::to_string(kMaxWatchEventBytes >> 20) +
                                             " MiB; the stream is dropped");
    buffer_.clear();
  }
  return result;
}

}  // namespace tmcd::kube
