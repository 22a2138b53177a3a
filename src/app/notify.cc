#include "app/notify.h"

#include <string>

#include "tmcd_build_config.h"
#if TMCD_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

namespace tmcd::app {
namespace {
void Send(const std::string& state) {
#if TMCD_HAVE_SYSTEMD
  sd_notify(0, state.c_str());
#else
  (void)state;
#endif
}
}  // namespace

void NotifyReady(std::string_view status) {
  Send("READY=1\nSTATUS=" + std::string(status));
}
void NotifyReloading() {
  Send("RELOADING=1");
}
void NotifyStopping() {
  Send("STOPPING=1\nSTATUS=stopping");
}
void NotifyWatchdog() {
  Send("WATCHDOG=1");
}

std::optional<std::chrono::milliseconds> WatchdogInterval() {
#if TMCD_HAVE_SYSTEMD
  uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
    return std::chrono::milliseconds(usec / 2000);
  }
#endif
  return std::nullopt;
}

}  // namespace tmcd::app
