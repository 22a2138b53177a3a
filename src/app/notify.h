#pragma once
// systemd notification (Type=notify): READY, RELOADING, STOPPING, WATCHDOG and STATUS lines.
// A no-op when tmcd runs outside systemd or was built without libsystemd. Thread-safe (stateless).

#include <chrono>
#include <optional>
#include <string_view>

namespace tmcd::app {

void NotifyReady(std::string_view status);
void NotifyReloading();
void NotifyStopping();
void NotifyWatchdog();
// The interval at which WATCHDOG=1 must be sent (half of WatchdogSec), if the watchdog is on.
std::optional<std::chrono::milliseconds> WatchdogInterval();

}  // namespace tmcd::app
