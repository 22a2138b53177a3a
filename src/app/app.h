#pragma once
// The composition root (ARCHITECTURE.md §8): owns every component in dependency order, starts
// them, waits for signals on the main thread, and stops them in reverse order.
// Threading: Run() must be called on the main thread after BlockSignals(); App is not otherwise
// shared between threads.

#include <memory>
#include <string>

#include "common/config.h"
#include "common/status.h"

namespace tmcd::app {

// Blocks SIGTERM, SIGINT and SIGHUP in the calling thread (and every thread it later creates), so
// that only the main thread's sigtimedwait sees them. Call first thing in main().
void BlockSignals();

class App {
 public:
  App(Config config, ConfigLoader loader);
  ~App();
  App(const App&) = delete;
  App& operator=(const App&) = delete;

  // Prepares the data directory and takes the instance lock. Errors are fatal at startup.
  Status Start();
  // Serves until SIGTERM/SIGINT; SIGHUP reloads reloadable settings. Returns the exit code.
  int Run();

 private:
  void Reload();
  void Stop();

  Config config_;
  ConfigLoader loader_;
  int lock_fd_ = -1;
};

}  // namespace tmcd::app
