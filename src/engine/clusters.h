#pragma once
// The cluster registration controller (docs/design/architecture.md §5, docs/clusters.md). For each
// ClusterRegistration, every spec.healthCheck.periodSeconds: resolve the credentials Secret (again
// whenever it changes), keep one client per cluster (rebuilt when the endpoint or credentials
// change), probe /readyz, /version and the kube-system uid (status.clusterID; a different uid
// later means the endpoint now points at another cluster), read the inventory (capacity,
// allocatable, available, syncedResources) every inventoryInterval, and write status: conditions
// Reachable, Authenticated, ResourcesSupported and Ready (lastTransitionTime only on transitions,
// observedGeneration), Ready=False only after failureThreshold consecutive failed probes. Status is
// written when something changed or the heartbeat is due, never on every probe.
// Deletion: every registration carries the finalizer tmc.kcp.io/cluster-cleanup. A registration being
// deleted keeps being probed (its copies are removed through the syncer's clients, which need it
// Ready) and loses the finalizer once the copy counter (SetCopyCounter) says nothing of tmcd's is
// left on the cluster; the placements drop it as soon as the deletion starts.
// Thread-safe: Reconcile runs on the controller's workers, one key at a time.

#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>

#include "engine/cluster_probe.h"
#include "engine/controller.h"
#include "engine/events.h"
#include "upstream/upstream.h"

namespace tmcd::engine {

struct ClusterControllerOptions {
  std::chrono::seconds inventory_interval{60};  // Nodes, Pods and discovery are read this often
  std::chrono::seconds heartbeat_interval{60};  // status is written at least this often while healthy
  int workers = 4;
};

class ClusterController {
 public:
  ClusterController(upstream::Upstream& upstream, store::Store& store, const Clock& clock,
                    prometheus::Registry& registry, ClusterControllerOptions options = {});
  // Adds the controller and its sources (registrations, and the Secrets they reference) to `m`.
  void Register(Manager& m);
  Result<ReconcileResult> Reconcile(const std::string& key);
  // Called when a cluster's Ready condition changes (the placement controller requeues the
  // placements that can use it).
  void OnReadyChange(std::function<void(const std::string& workspace, const std::string& name, bool ready)> f) {
    on_ready_change_ = std::move(f);
  }
  // How many workload copies tmcd still keeps on a cluster: a registration being deleted keeps its
  // finalizer until this is 0 (unset: nothing waits).
  void SetCopyCounter(std::function<size_t(const std::string& workspace, const std::string& name)> f) {
    copies_ = std::move(f);
  }
  // Events on the registrations (docs/observability.md#events): Ready turning True (ClusterReady) or
  // False (the condition's reason: Unreachable, ClusterIDChanged, ...). Null: none.
  void SetRecorder(EventRecorder* recorder) { recorder_ = recorder; }
  static std::string KeyFor(const std::string& workspace, const std::string& name) { return workspace + "|" + name; }
  // How to reach a Ready cluster (endpoint and resolved credentials), for the syncer's own clients;
  // nullopt while the cluster is not Ready. `fingerprint` changes whenever the configuration does.
  struct Connection {
    kube::RestConfig rest;
    std::string fingerprint;
  };
  std::optional<Connection> ConnectionFor(const std::string& workspace, const std::string& name) const;
  // True when every registration the controller has been handed was probed at least once since
  // start: until then a cluster reads as not Ready whatever it is (the syncer's workers wait for it).
  bool FirstProbesDone() const;

 private:
  struct State;
  std::shared_ptr<State> StateFor(const std::string& key);
  // The registration source saw `key` (created or changed, or deleted): one not probed yet is waited for.
  void NoteRegistration(const std::string& key, bool deleted);
  // The client configuration from the endpoint and the credentials Secret (indexing the Secret).
  Status Credentials(const std::string& key, const std::string& ws, const v1::ClusterRegistration& creg, State& state,
                     kube::RestConfig& rest);
  // Probes with the cached client (rebuilt when `rest` changed); the inventory when due.
  ProbeResult ProbeWith(State& state, const v1::ClusterRegistration& creg, const kube::RestConfig& rest, Status& cred,
                        Clock::TimePoint now);
  void Record(const std::string& ws, const std::string& name, bool ready, const ProbeResult& probe);
  void Forget(const std::string& key, const std::string& workspace, const std::string& name);
  // Adds the cleanup finalizer (not deleting) or removes it once no copies are left (deleting);
  // true when the registration may go.
  Result<bool> Finalize(const upstream::ObjectRef& ref, const v1::ClusterRegistration& creg);

  upstream::Upstream& upstream_;
  store::Store& store_;
  const Clock& clock_;
  const ClusterControllerOptions options_;
  Controller* controller_ = nullptr;
  GenerationFilter generations_;
  std::function<void(const std::string&, const std::string&, bool)> on_ready_change_;
  std::function<size_t(const std::string&, const std::string&)> copies_;
  EventRecorder* recorder_ = nullptr;
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<State>> states_;    // guarded by mu_
  std::map<std::string, Connection> connections_;           // Ready clusters; guarded by mu_
  std::map<std::string, std::set<std::string>> by_secret_;  // "ws|ns/name" → keys; guarded by mu_
  std::set<std::string> unprobed_;  // registrations handed to the controller, not probed yet; guarded by mu_
  prometheus::Family<prometheus::Gauge>& ready_;
  prometheus::Family<prometheus::Gauge>& heartbeat_age_;
  prometheus::Family<prometheus::Gauge>& heartbeat_time_;
  prometheus::Family<prometheus::Gauge>& capacity_;
  prometheus::Histogram& probe_latency_;
};

}  // namespace tmcd::engine
