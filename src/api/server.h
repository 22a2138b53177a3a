#pragma once
// The local REST + watch API (docs/design/architecture.md §4) on net::HttpServer: Kubernetes URL shapes with
// the /clusters/<ws> prefix, Status error bodies, watch streams with bookmarks, discovery, health,
// version and Prometheus metrics. Limits: request body size (413), open watches (429), a bounded
// queue per watch, request timeouts, and a sized handler pool (watch streams need no thread).
// Thread-safety: Start/Stop from the owner's thread; handlers run on the pool, streams on the
// server's I/O thread.

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "api/request.h"
#include "common/status.h"
#include "net/http_server.h"
#include "observability/collector.h"
#include "registry/objects.h"
#include "security/audit.h"
#include "security/authn.h"
#include "security/rbac.h"

namespace tmcd::api {

using Json = nlohmann::json;
using registry::ListOptions;
using registry::ObjectService;
using registry::ResourceInfo;
using registry::WatchStart;

struct ServerOptions {
  bool tcp = true;
  std::string host = "127.0.0.1";
  int port = 0;                          // 0 = let the OS choose
  std::shared_ptr<net::TlsContext> tls;  // TCP speaks TLS when set
  std::string unix_path;                 // also serve on this Unix socket ("" = none)
  uint32_t unix_mode = 0660;
  int64_t unix_gid = -1;
  // Every request is authenticated, then authorized (docs/security.md). The daemon always sets
  // both; only unit tests of the API layer run without them (no checks at all).
  security::Authenticator* authn = nullptr;
  security::Authorizer* authz = nullptr;
  security::AuditLog* audit = nullptr;  // one audit event per request (health probes excepted)
  // Paths an anonymous request may GET; everything else answers 401.
  std::vector<std::string> anonymous_paths = {"/healthz", "/livez", "/readyz", "/version"};
  size_t threads = 8;
  size_t max_watches = 2000;
  size_t max_connections = 20000;
  size_t max_body_bytes = size_t{3} * 1024 * 1024;
  size_t max_buffered_request_bytes = size_t{256} << 20;  // net::HttpServerOptions
  size_t max_stream_bytes = size_t{256} << 20;
  std::chrono::seconds request_timeout{60};
  std::chrono::seconds shutdown_grace{5};
  std::chrono::seconds bookmark_interval{30};
  std::chrono::seconds max_watch_timeout{1800};
  // Non-empty: every resource is read-only (kcp mode) and writes get 405 with this message.
  std::string read_only_reason;
  // GET .../workloadplacements/<name>/explain: the placement's full per-cluster filter results
  // (wired by the app to the placement controller; unset = 404).
  std::function<Result<nlohmann::json>(const std::string& workspace, const std::string& ns, const std::string& name)>
      explain_placement;
  // POST .../explain: the same for the WorkloadPlacement in the body, checked as a create, not stored.
  std::function<Result<nlohmann::json>(const std::string& workspace, const std::string& ns, const nlohmann::json& obj)>
      explain_candidate;
  // POST /admin/backup: a consistent checkpoint of the store inside the data directory, for
  // `tmcd backup` to copy out (app/backup.h); administrators only, by RBAC. Unset = 404.
  std::function<Result<nlohmann::json>()> backup;
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
  // New connections use this TLS context (certificate rotation).
  void SetTls(std::shared_ptr<net::TlsContext> tls);
  // Families read at each scrape of /metrics besides the registry's (process, store, HTTP server).
  observability::CallbackCollector& collector() { return collector_; }
  size_t OpenWatches() const { return open_watches_.load(); }

 private:
  net::HttpResponse Handle(const net::HttpRequest& req);
  // Authentication and authorization of one request; false when `res` holds the 401/403 answer.
  bool Admit(const net::HttpRequest& req, net::HttpResponse& res, security::UserInfo& user, security::Attributes& attrs,
             std::string& reason);
  void Audit(const net::HttpRequest& req, const net::HttpResponse& res, const security::UserInfo& user,
             const security::Attributes& attrs, bool allowed, const std::string& reason,
             std::chrono::system_clock::time_point received) const;
  void Review(const RequestPath& p, const ResourceInfo& r, const security::UserInfo& user, const Json& body,
              net::HttpResponse& res);
  // Escalation prevention for RBAC writes; the cache is refreshed after them.
  void AdmitRbacWrite(RequestPath& p, const ResourceInfo& r, const security::UserInfo& user);
  void HandleResource(const RequestPath& p, const net::HttpRequest& req, const security::UserInfo& user,
                      net::HttpResponse& res, std::string& verb, std::string& resource_label);
  // GET .../workloadplacements/<name>/explain, and POST for the dry run (docs/placement.md#explain).
  void HandleExplain(const RequestPath& p, const ResourceInfo& r, const net::HttpRequest& req, net::HttpResponse& res);
  void HandleScale(const RequestPath& p, const ResourceInfo& r, const net::HttpRequest& req, net::HttpResponse& res,
                   std::string& verb);
  void HandleRead(const RequestPath& p, const ResourceInfo& r, const net::HttpRequest& req, net::HttpResponse& res,
                  std::string& verb);
  void StartWatch(const RequestPath& p, const ResourceInfo& r, const ListOptions& o, const net::HttpRequest& req,
                  net::HttpResponse& res);
  class WatchStream;
  void Metrics(net::HttpResponse& res);
  void Backup(const net::HttpRequest& req, net::HttpResponse& res);
  void AddHttpMetrics();
  net::HttpResponse ProtocolError(int code, const std::string& message) const;

  ServerOptions options_;
  ObjectService& objects_;
  store::Store& store_;
  prometheus::Registry& registry_;
  std::function<std::string()> ready_;
  nlohmann::json version_;
  std::unique_ptr<net::HttpServer> http_;
  std::atomic<size_t> open_watches_{0};
  std::atomic<bool> stopping_{false};
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Histogram>& latency_;
  prometheus::Gauge& watches_gauge_;
  prometheus::Gauge& revision_gauge_;
  observability::CallbackCollector collector_;
  std::mutex tls_mu_;
  std::shared_ptr<net::TlsContext> tls_;  // guarded by tls_mu_: the serving certificate now in use
};

}  // namespace tmcd::api
