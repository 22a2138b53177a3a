#pragma once
// Process-wide logging setup on spdlog. The logger registry is the one global the architecture allows
// (docs/design/architecture.md §8). SetupLogging is called from the main thread before other threads start;
// SetLogLevel may be called at any time (spdlog levels are atomic).

#include <string>
#include <string_view>

#include "common/status.h"

namespace tmcd::observability {

// format: "text" or "json"; level: trace|debug|info|warn|error. Logs go to stderr (journald takes them).
Status SetupLogging(std::string_view format, std::string_view level);
Status SetLogLevel(std::string_view level);

}  // namespace tmcd::observability
