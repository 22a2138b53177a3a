#pragma once
// A client for Kubernetes-style API servers (kube-apiserver, kcp, kcp virtual workspaces, tmcd):
// HTTPS with CA verification and hostname check (or tls-server-name), mTLS, bearer tokens, pooled
// keep-alive connections, timeouts, a QPS/burst limiter, retries of 429/5xx that carry Retry-After,
// the REST verbs including server-side apply, Status errors decoded into tmcd Status values, and
// streamed watches decoded with simdjson. Credentials are never logged or put into errors.
// Thread-safe: any number of threads may call any method; a Watch blocks its caller.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"
#include "kube/kubeconfig.h"
#include "kube/rate.h"
#include "kube/watch_decoder.h"

namespace httplib {
class ClientImpl;
struct Request;
}  // namespace httplib

namespace tmcd::kube {

using Json = nlohmann::json;

// Where a collection lives. `cluster` adds kcp's /clusters/<path> prefix ("*" = all logical
// clusters, for wildcard lists and watches); empty = none (plain Kubernetes, or a server URL that
// already carries the prefix).
struct ResourceRef {
  std::string group;  // "" = core (/api/v1)
  std::string version;
  std::string resource;
  std::string namespace_;  // "" = cluster-scoped or all namespaces
  std::string cluster;
  std::string Path(std::string_view name = "", std::string_view subresource = "") const;
};

struct ListOptions {
  std::string label_selector;
  std::string field_selector;
  std::string resource_version;
  size_t limit = 0;
  std::string continue_token;
};

struct ObjectList {
  std::vector<Json> items;
  std::string resource_version;
  std::string continue_token;
};

struct WatchOptions {
  std::string label_selector;
  std::string field_selector;
  std::string resource_version;
  bool allow_bookmarks = true;
  // Streaming list: synthetic ADDED events for the current state, then a BOOKMARK annotated
  // k8s.io/initial-events-end, then changes (resourceVersionMatch=NotOlderThan is sent with it).
  bool send_initial_events = false;
  std::chrono::seconds timeout{300};
};

enum class PatchType { kMerge, kJson };

struct DeleteOptions {
  std::string propagation_policy;  // "", Foreground, Background, Orphan
  std::string precondition_uid;
  std::string precondition_resource_version;
};

struct ClientOptions {
  double qps = 5;  // client-go's defaults; <= 0 disables the limiter
  int burst = 10;
  int max_retries = 10;
  bool retry_reads = true;  // false: a failed GET is reported at once (health probes count failures themselves)
  // A circuit breaker (rate.h) on requests (not watches): after a transport failure, fail fast instead of
  // waiting for a timeout per request. For clients many workers share; not for health probes.
  bool fail_fast = false;
  std::chrono::seconds timeout{30};
  std::string user_agent = "tmcd/0.1";
  // Bounds on what a server may make tmcd hold: one response body, and the items of a paged list.
  size_t max_response_bytes = size_t{128} << 20;
  size_t max_list_items = 1000000;
};

// Lets another thread end a running Watch (its blocking read returns at once).
class WatchCancel {
 public:
  void Cancel();
  bool cancelled() const { return cancelled_.load(); }

 private:
  friend class Client;
  std::mutex mu_;
  httplib::ClientImpl* active_ = nullptr;  // guarded by mu_
  std::atomic<bool> cancelled_{false};
};

struct TlsMaterial;  // client.cc: parsed CA, client certificate and key

class Client {
 public:
  static Result<std::unique_ptr<Client>> Create(RestConfig config, ClientOptions options = {});
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  Result<Json> Get(const ResourceRef& r, std::string_view name, std::string_view subresource = "");
  Result<ObjectList> List(const ResourceRef& r, const ListOptions& o);
  // Follows continue tokens (pages of o.limit, default 500) until the list is complete.
  Result<ObjectList> ListAll(const ResourceRef& r, ListOptions o);
  Result<Json> Create(const ResourceRef& r, const Json& obj);
  Result<Json> Update(const ResourceRef& r, const Json& obj, std::string_view subresource = "");
  Result<Json> Patch(const ResourceRef& r, std::string_view name, PatchType type, const Json& patch,
                     std::string_view subresource = "");
  // Server-side apply (application/apply-patch+yaml with a JSON body, which is valid YAML).
  Result<Json> Apply(const ResourceRef& r, std::string_view name, const Json& obj, std::string_view field_manager,
                     bool force, std::string_view subresource = "");
  Status Delete(const ResourceRef& r, std::string_view name, const DeleteOptions& o = {});
  // Delete, and whether the answer says the object is gone: kube-apiserver answers a deletion that
  // completed with a Status of Success, and one still waiting (finalizers, graceful deletion) with the
  // object; so does a kind that returns what it deleted, which reads as not gone (look again).
  Result<bool> DeleteCompleted(const ResourceRef& r, std::string_view name, const DeleteOptions& o = {});
  // Any GET under the server (discovery documents, /version); path starts with '/'.
  Result<Json> GetPath(const std::string& path);

  // Streams a watch until the server ends it (OK), `on_event` returns false (OK), `cancel` fires (OK),
  // or an error: HTTP errors and ERROR events as their Status, malformed or truncated streams as
  // BadRequest / ServiceUnavailable.
  Status Watch(const ResourceRef& r, const WatchOptions& o, const std::function<bool(WatchEvent&)>& on_event,
               WatchCancel* cancel = nullptr);

  const RestConfig& config() const { return config_; }
  // With options.fail_fast: close the breaker now (the server was seen answering by someone else).
  void ResetBreaker() { breaker_.Reset(); }
  // Called when an answer closes an open breaker: on the thread of the request or of the breaker's
  // trial (see WakeProber). Set before use; it must not destroy this client.
  void OnBreakerClosed(std::function<void()> f) { on_breaker_closed_ = std::move(f); }
  bool FailingFast() const { return options_.fail_fast && breaker_.Open(); }

  struct Response {
    int code = 0;
    std::string body;
  };
  // One request with limiter, retries and Status decoding; `body` empty = none.
  Result<Response> Do(const std::string& method, const std::string& path, const std::string& body,
                      const std::string& content_type);

 private:
  Client(RestConfig config, ClientOptions options);
  Result<std::unique_ptr<httplib::ClientImpl>> NewConnection(std::chrono::seconds read_timeout);
  std::unique_ptr<httplib::ClientImpl> Acquire();
  void Release(std::unique_ptr<httplib::ClientImpl> c);
  std::string Token();
  // After a 401: re-reads the token file at once; true when it holds a different token.
  bool TokenRotated();
  std::string PrefixFor(const std::string& path) const;
  // The request line and what every request carries: Accept, User-Agent, the bearer token. A token with
  // CR/LF would inject headers: it is never sent (BadRequest says why; the request stays without it).
  Status Prepare(httplib::Request& req, const std::string& method, const std::string& path);
  Result<Response> DoOnce(const std::string& method, const std::string& path, const std::string& body,
                          const std::string& content_type, int& retry_after);
  Result<Json> DecodeObject(Result<Response> r);
  // The breaker's trials (options_.fail_fast): a thread, started at the first transport failure, that
  // waits out each backoff and sends GET /readyz on a fresh connection with a timeout of at most
  // kTrialTimeout; any HTTP answer closes the breaker. Callers' requests are never the trial.
  static constexpr std::chrono::seconds kTrialTimeout{5};
  void WakeProber();
  void ProbeLoop();
  Status TrialOnce();

  RestConfig config_;
  ClientOptions options_;
  // The CA certificates, client certificate and key of config_, parsed once by Create: every new TLS
  // connection gets its own SSL context, but parsing PEM (X.509 and keys through OpenSSL 3's decoders)
  // per connection was a tenth of tmcd's CPU in a restart at 100 clusters (docs/kube-client.md).
  std::shared_ptr<const TlsMaterial> tls_material_;
  std::string host_;
  int port_ = 443;
  bool tls_ = true;
  std::string path_prefix_;  // the server URL's path, e.g. /clusters/root
  TokenBucket limiter_;
  // Used with options_.fail_fast; the backoff stops at 5 s since a trial costs no caller anything.
  CircuitBreaker breaker_{CircuitBreaker::Options{Millis(1000), Millis(5000)}};
  std::function<void()> on_breaker_closed_;
  std::mutex prober_mu_;
  std::condition_variable prober_cv_;
  std::thread prober_;     // guarded by prober_mu_; started once
  bool stopping_ = false;  // guarded by prober_mu_
  std::mutex mu_;
  std::vector<std::unique_ptr<httplib::ClientImpl>> idle_;  // guarded by mu_
  std::string token_;                                       // guarded by mu_
  SteadyTime token_read_{};                                 // guarded by mu_
  bool token_stale_ = false;                                // guarded by mu_
};

// The kcp logical cluster of an object (metadata.annotations["kcp.io/cluster"]), "" outside kcp.
std::string LogicalCluster(const Json& obj);

}  // namespace tmcd::kube
