#pragma once
// The composition root (docs/design/architecture.md §8): owns every component in dependency order, starts
// them, waits for signals on the main thread, and stops them in reverse order.
// Threading: Run() must be called on the main thread after BlockSignals(); App is not otherwise
// shared between threads.

#include <prometheus/gauge.h>

#include <atomic>
#include <memory>
#include <string>

#include "app/fd_budget.h"
#include "common/clock.h"
#include "common/config.h"
#include "common/status.h"

namespace prometheus {
class Registry;
}
namespace tmcd::store {
class Store;
}
namespace tmcd::registry {
class ObjectService;
}  // namespace tmcd::registry
namespace tmcd::api {
class Server;
struct ServerOptions;
}  // namespace tmcd::api
namespace tmcd::upstream {
class Upstream;
}
namespace tmcd::engine {
class Manager;
class ClusterController;
class PlacementController;
class EventExpiry;
class EventRecorder;
}  // namespace tmcd::engine
namespace tmcd::sync {
class Syncer;
}  // namespace tmcd::sync
namespace tmcd::security {
class Authenticator;
class Authorizer;
class AuditLog;
}  // namespace tmcd::security

namespace tmcd::app {

class TlsReloader;

// Blocks SIGTERM, SIGINT and SIGHUP in the calling thread (and every thread it later creates), so
// that only the main thread's sigtimedwait sees them. Call first thing in main().
void BlockSignals();

class App {
 public:
  App(Config config, ConfigLoader loader);
  ~App();
  App(const App&) = delete;
  App& operator=(const App&) = delete;

  // Prepares and locks the data directory, opens the store, starts the local API and writes the
  // port file. Errors are fatal at startup.
  Status Start();
  // Serves until SIGTERM/SIGINT; SIGHUP reloads reloadable settings. Returns the exit code.
  int Run();

 private:
  void Reload();
  void Stop();
  Status LockDataDir();
  Status StartTracing();  // when the TMCTracing gate is on (docs/observability.md#traces)
  Status StartUpstream();
  void StartControllers();
  Status StartApi();
  // TLS, the Unix socket, authentication, authorization and the audit log of the local API.
  Status StartSecurity(api::ServerOptions& so, std::string& transport);
  std::string Readiness() const;
  void UpdateUpstreamMetrics();
  void ReloadTls(bool force);
  // Once a second: reports and recovers a store whose writes fail; false when the failure is one
  // only a restart (and an operator) can handle.
  bool CheckStore();
  // Every 10 s: hands the heap's freed memory back to the system once glibc keeps more than 64 MiB of it.
  void TrimHeap();

  Config config_;
  ConfigLoader loader_;
  RealClock clock_;
  int lock_fd_ = -1;
  // What Stop() is stopping, for the message of a stop that exceeds shutdownTimeout (read by its guard).
  std::atomic<const char*> stop_stage_{"starting to stop"};
  // Owned in dependency order; Stop() releases them in reverse. The registry outlives the store,
  // whose commit observer feeds one of its histograms.
  std::unique_ptr<prometheus::Registry> registry_;
  std::unique_ptr<store::Store> store_;
  prometheus::Gauge* store_writable_ = nullptr;           // owned by registry_
  bool store_was_failing_ = false;                        // Run's thread only
  std::chrono::steady_clock::time_point heap_checked_{};  // Run's thread only
  FdBudget fd_budget_;
  std::unique_ptr<registry::ObjectService> objects_;
  std::unique_ptr<upstream::Upstream> upstream_;
  std::unique_ptr<engine::EventRecorder> recorder_;  // outlives the controllers that report to it
  std::unique_ptr<engine::Manager> manager_;
  std::unique_ptr<engine::ClusterController> clusters_;
  std::unique_ptr<engine::PlacementController> placement_;
  std::unique_ptr<engine::EventExpiry> event_expiry_;
  std::unique_ptr<sync::Syncer> syncer_;
  std::unique_ptr<security::Authenticator> authn_;
  std::unique_ptr<security::Authorizer> authz_;
  std::unique_ptr<security::AuditLog> audit_;
  std::unique_ptr<TlsReloader> tls_reloader_;
  std::unique_ptr<api::Server> server_;
};

}  // namespace tmcd::app
