#pragma once
// Process-wide logging setup on spdlog. The logger registry is the one global the architecture allows
// (docs/design/architecture.md §8). SetupLogging is called from the main thread before other threads start;
// SetLogLevel may be called at any time (spdlog levels are atomic).
//
// Lines carry the fields of the work the logging thread is doing (ScopedLogFields: the controller and
// the object of the key it reconciles, the cluster of a downstream call), as JSON keys or as key=value
// pairs after the text. Identical warnings and errors are rate-limited: repeats within kRepeatWindow of
// the last printed one are counted and reported with the next print (docs/observability.md#logs).

#include <spdlog/sinks/sink.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"

namespace tmcd::observability {

// format: "text" or "json"; level: trace|debug|info|warn|error. Logs go to stderr (journald takes them:
// under systemd, text lines carry a <N> priority prefix and no timestamp).
Status SetupLogging(std::string_view format, std::string_view level);
Status SetLogLevel(std::string_view level);

struct LogFields {
  std::string controller;
  std::string workspace;
  std::string namespace_;
  std::string name;
  std::string resource;  // resource.group of the object, when the key names one
  std::string cluster;
};

// Sets the non-empty fields for this thread until destroyed (then the enclosing scope's come back).
class ScopedLogFields {
 public:
  explicit ScopedLogFields(const LogFields& fields);
  ~ScopedLogFields();
  ScopedLogFields(const ScopedLogFields&) = delete;
  ScopedLogFields& operator=(const ScopedLogFields&) = delete;

 private:
  LogFields saved_;
};

// This thread's fields: what a task handed to another thread takes along (ScopedLogFields there).
LogFields CurrentLogFields();

// The fields of a controller's work-queue key: "ws|name" (a cluster: name is also the cluster),
// "ws|ns/name", "ws|resource.group|ns/name".
LogFields FieldsFromKey(std::string_view controller, std::string_view key);

inline constexpr std::chrono::seconds kRepeatWindow{60};

// The sink SetupLogging installs, writing to `out` (exposed for tests). journald: syslog priority prefixes
// instead of timestamps (text only).
std::shared_ptr<spdlog::sinks::sink> MakeLogSink(std::string_view format, std::shared_ptr<spdlog::sinks::sink> out,
                                                 bool journald);

}  // namespace tmcd::observability
