#pragma once
// The local REST + watch HTTP server (ARCHITECTURE.md §4) on cpp-httplib: Kubernetes URL shapes with
// the /clusters/<ws> prefix, Status error bodies, watch streams with bookmarks, discovery, health,
// version and Prometheus metrics. Limits: request body size (413), open watches (429), a bounded
// queue per watch, read/write timeouts, and a sized thread pool (handlers + one thread per watch).
// Thread-safety: Start/Stop from the owner's thread; handlers run on the pool.

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "api/objects.h"
#include "common/status.h"

namespace httplib {
class DataSink;
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace tmcd::api {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 0;  // 0 = let the OS choose
  size_t threads = 8;
  size_t max_watches = 256;
  size_t max_body_bytes = size_t{3} * 1024 * 1024;
  std::chrono::seconds request_timeout{60};
  std::chrono::seconds bookmark_interval{30};
  std::chrono::seconds max_watch_timeout{1800};
};

class Server {
 public:
  // `ready` returns "" when ready, or why not. `version` is the /version document.
  Server(ServerOptions options, ObjectService& objects, store::Store& store, prometheus::Registry& registry,
         std::function<std::string()> ready, nlohmann::json version);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and starts serving on a background thread; returns the bound port.
  Result<int> Start();
  // Stops accepting, ends open watches, waits for in-flight requests.
  void Stop();
  size_t OpenWatches() const { return open_watches_.load(); }

 private:
  void Handle(const std::string& verb, const httplib::Request& req, httplib::Response& res);
  void HandleResource(const std::string& method, const RequestPath& p, const httplib::Request& req,
                      httplib::Response& res, std::string& verb, std::string& resource_label);
  void StartWatch(const RequestPath& p, const ResourceInfo& r, const ListOptions& o, const httplib::Request& req,
                  httplib::Response& res);
  struct WatchState;
  // Writes at most one event (or a bookmark) to a watch stream; false once the client is gone.
  bool PumpWatch(WatchState& st, httplib::DataSink& sink);
  void Metrics(httplib::Response& res);

  ServerOptions options_;
  ObjectService& objects_;
  store::Store& store_;
  prometheus::Registry& registry_;
  std::function<std::string()> ready_;
  nlohmann::json version_;
  std::unique_ptr<httplib::Server> http_;
  std::thread thread_;
  std::atomic<size_t> open_watches_{0};
  std::atomic<bool> stopping_{false};
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Histogram>& latency_;
  prometheus::Gauge& watches_gauge_;
  prometheus::Gauge& revision_gauge_;
};

}  // namespace tmcd::api
