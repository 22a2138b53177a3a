#pragma once
// Incremental decoder for a Kubernetes JSON watch stream: bytes arrive in arbitrary pieces (chunk and
// read boundaries are not event boundaries); each complete newline-terminated line is one event
// {"type": ..., "object": {...}}, parsed with simdjson. The object stays JSON text (consumers parse
// what they need); its resourceVersion, name, namespace and kcp logical cluster are extracted.
// ERROR events carry the decoded Status. Thread-compatible.

#include <simdjson.h>

#include <functional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace tmcd::kube {

enum class WatchEventType { kAdded, kModified, kDeleted, kBookmark, kError };
std::string_view WatchEventTypeName(WatchEventType t);

struct WatchEvent {
  WatchEventType type = WatchEventType::kAdded;
  std::string object;  // the object's JSON text (minified)
  std::string resource_version;
  std::string name;
  std::string namespace_;
  std::string cluster;              // metadata.annotations["kcp.io/cluster"], empty outside kcp
  bool initial_events_end = false;  // a BOOKMARK closing a streaming list's initial events
  Status error;                     // kError: the Status the server sent (e.g. 410 Expired)
};

// The largest watch event accepted from a server (an object is at most ~1.5 MiB in etcd).
inline constexpr size_t kMaxWatchEventBytes = size_t{64} << 20;

class WatchDecoder {
 public:
  // Feeds bytes; calls `on_event` for each complete event. Returns an error for a malformed event
  // (the stream must then be abandoned); `on_event` returning false stops decoding early.
  Status Feed(std::string_view bytes, const std::function<bool(WatchEvent&)>& on_event);
  // True when bytes of an unfinished event are buffered (a stream that ends here was truncated).
  bool HasPartial() const { return !buffer_.empty(); }
  size_t decoded() const { return decoded_; }

 private:
  Status DecodeLine(std::string_view line, WatchEvent& out);

  simdjson::dom::parser parser_;
  std::string buffer_;
  size_t decoded_ = 0;
};

}  // namespace tmcd::kube
