#pragma once
// kcp mode (docs/design/architecture.md §1, docs/kcp-integration.md). Start() returns at once; a supervisor
// thread then, retrying with backoff and reporting why in NotReadyReason():
//  1. bootstraps the APIResourceSchemas and the APIExport in the provider workspace;
//  2. watches the export's APIExportEndpointSlice and runs, per endpoint URL, an apibindings
//     informer (which logical clusters are bound) and a wildcard informer for every exported and
//     claimed resource, starting and stopping them as endpoints come and go;
//  3. caches objects of bound clusters in the store (KcpCache) and drops a cluster's objects when
//     its binding goes; saves each informer's resume point every second so that a restart (even
//     after kill -9) watches on from there instead of listing everything again.
// Writes go to <endpoint>/clusters/<logical cluster>/... with conflict retries.
// Thread-safe: public methods from any thread; informer handlers run on the informers' threads.

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "common/config.h"
#include "kube/client.h"
#include "kube/informer.h"
#include "upstream/kcp_cache.h"

namespace tmcd::upstream {

struct KcpOptions {
  std::string workspace = "root:tmc";  // provider workspace path
  bool export_workload_types = true;
  std::vector<ClaimedResource> claimed;  // other exports' resources, claimed and cached (upstream.claimedResources)
  std::chrono::milliseconds save_interval{1000};  // how often resume points are written
  kube::Backoff::Options backoff;                 // bootstrap retries
  kube::ClientOptions client = {.qps = 50, .burst = 100};
};

class KcpUpstream : public Upstream {
 public:
  KcpUpstream(store::Store& store, kube::RestConfig provider, KcpOptions options);
  ~KcpUpstream() override;

  std::string_view Kind() const override { return "kcp"; }
  Status Start() override;
  void Stop() override;
  std::string NotReadyReason() const override;
  bool AcceptsLocalWrites() const override { return false; }
  Result<Json> Mutate(const ObjectRef& ref, bool status, const MutateFn& mutate) override;
  Result<Json> Create(const ObjectRef& ref, const Json& obj) override;
  Result<Json> MergePatch(const ObjectRef& ref, const Json& patch) override;

  // The resources cached per endpoint: the exported TMC (and workload) types and the claimed ones.
  const std::vector<Gvr>& Resources() const { return resources_; }
  struct Stats {
    size_t endpoints = 0;
    size_t bound_clusters = 0;
    size_t lists = 0;    // full lists made by all informers (a resumed informer makes none)
    size_t resumed = 0;  // informers that started from a saved resume point
  };
  Stats GetStats() const;

 private:
  struct Endpoint;
  bool SourceVersions() const override { return true; }
  void Supervise();
  Status Bootstrap();
  void Reconcile(const std::vector<std::string>& urls);
  std::shared_ptr<Endpoint> StartEndpoint(const std::string& url);
  // The virtual workspace endpoint that serves `cluster` (NotFound when no binding is known).
  Result<std::shared_ptr<Endpoint>> EndpointFor(const std::string& cluster) const;
  void InitialReconcile(Endpoint& ep);
  void OnBinding(Endpoint& ep, const Json& binding, bool deleted);
  void SyncCluster(Endpoint& ep, const std::string& cluster);
  void SaveResumePoints();
  void SetReason(std::string why);
  bool Sleep(std::chrono::milliseconds d);

  kube::RestConfig provider_config_;
  KcpOptions options_;
  std::vector<Gvr> resources_;
  KcpCache cache_;
  std::unique_ptr<kube::Client> provider_;
  std::unique_ptr<kube::Informer> slices_;
  std::thread supervisor_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;                                           // guarded by mu_
  bool wake_ = false;                                           // guarded by mu_
  std::string reason_ = "kcp: starting";                        // guarded by mu_
  std::map<std::string, std::shared_ptr<Endpoint>> endpoints_;  // by URL; changed under mu_ by the supervisor only
};

}  // namespace tmcd::upstream
