#pragma once
// The syncer (ARCHITECTURE.md §6, docs/sync.md): for each upstream Deployment, the clusters chosen
// by the WorkloadPlacements of its namespace that select it get a copy, with the ConfigMaps,
// Secrets and ServiceAccount its Pod template refers to, in the mapped namespace, by server-side
// apply (fieldManager tmcd, force). The upstream object gets the finalizer tmc.kcp.io/syncer and a
// state.tmc.kcp.io/<clusterKey> label per cluster before the first create. A SyncRecord per
// (workload, cluster) is written before the first downstream write and kept current (phase, hash,
// generations, downstream status). An apply is skipped when the desired hash is the recorded one
// and the downstream object's generation is the one tmcd left (so drift is corrected, and status
// churn costs no apply). Copies on clusters no longer chosen, and every copy of a deleted
// workload, are deleted downstream (or stripped of tmcd's marks: deletionPolicy Orphan), waited
// for, and only then forgotten; the finalizer goes with the last copy. The downstream statuses are
// aggregated into the upstream status (TMCStatusAggregation) and the tmc.kcp.io/cluster-status
// annotation.
// Work is keyed by workload ("<ws>|<ns>/<name>"): changes of the workload, of the placements and
// dependencies of its namespace, of its downstream copies (label-filtered informers per cluster),
// of its SyncRecords, and clusters becoming Ready requeue it. One failing cluster does not hold up
// the others: every copy is attempted, and the key backs off only for the failed part's sake.
// Thread-safe: Reconcile runs on the controller's workers, one key at a time.

#include <prometheus/counter.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>

#include "engine/controller.h"
#include "sync/downstream.h"
#include "sync/records.h"
#include "sync/status.h"
#include "upstream/upstream.h"

namespace tmcd::sync {

struct SyncerOptions {
  int workers = 4;
  double qps = 200;              // per cluster client; burst twice that
  bool aggregate_status = true;  // TMCStatusAggregation
};

// How to reach a Ready cluster: its client configuration and a fingerprint of it; nullopt when the
// cluster is not Ready (or unknown).
struct Connection {
  kube::RestConfig rest;
  std::string fingerprint;
};
using ConnectionFn = std::function<std::optional<Connection>(const std::string& workspace, const std::string& cluster)>;

class Syncer {
 public:
  Syncer(upstream::Upstream& upstream, store::Store& store, const Clock& clock, prometheus::Registry& registry,
         ConnectionFn connection, SyncerOptions options = {});
  ~Syncer();
  void Register(engine::Manager& m);
  Result<engine::ReconcileResult> Reconcile(const std::string& key);
  // How many copies (SyncRecords) tmcd keeps on a cluster: its registration's deletion waits for 0.
  size_t CopiesOn(const std::string& workspace, const std::string& cluster) const;
  static std::string KeyFor(const std::string& workspace, const std::string& ns, const std::string& name) {
    return workspace + "|" + ns + "/" + name;
  }

 private:
  struct Target {
    std::string placement;
    std::string deletion_policy;
  };
  // cluster → the placement that chose it (first by name when several do).
  Result<std::map<std::string, Target>> Targets(const std::string& ws, const std::string& ns, const Json& workload);
  // Removes the clusters whose registration is missing or being deleted from `targets`, unless the
  // workload already has a copy there: a leaving cluster gets no new copies, so that its deletion
  // (which waits for its copies) cannot be overtaken by a stale decision.
  void DropLeavingClusters(const std::string& ws, const std::vector<v1::SyncRecord>& records,
                           std::map<std::string, Target>& targets);
  // SyncCopy and the record write for every target, in parallel; `kept` gets the records (in target
  // order). Returns each cluster's outcome.
  std::vector<std::pair<std::string, Status>> SyncCopies(const upstream::ObjectRef& ref, const Json& workload,
                                                         const std::map<std::string, Target>& targets,
                                                         const std::vector<v1::SyncRecord>& records,
                                                         std::vector<v1::SyncRecord>& kept);
  std::shared_ptr<Downstream> DownstreamFor(const std::string& ws, const std::string& cluster);
  Status SyncCopy(const upstream::ObjectRef& ref, const Json& workload, const std::string& cluster, const Target& t,
                  v1::SyncRecord& record, const std::vector<v1::SyncRecord>& all);
  // The desired dependencies of a workload (those that exist upstream) and their "<resource>/<name>".
  void Dependencies(const upstream::ObjectRef& ref, const Json& workload, const std::string& dns,
                    std::vector<Json>& deps, std::vector<std::string>& names) const;
  static void MarkApplied(v1::SyncRecord& record, const Json& seen, const apis::Time& now);
  // ApplyCopy, counted and timed per cluster.
  Result<Json> TimedApply(Downstream& ds, const std::string& ws, const std::string& cluster, const Json& desired,
                          const std::vector<Json>& deps);
  // Applies the dependencies, then the workload; returns the applied workload.
  Result<Json> ApplyCopy(Downstream& ds, const Json& desired, const std::vector<Json>& deps);
  // Deletes (or orphans) one copy; true once it is gone and its record deleted.
  Result<bool> RemoveCopy(v1::SyncRecord& record, const std::vector<v1::SyncRecord>& all);
  // Deletes (or orphans) record.status.dependencies downstream unless another copy in the same
  // namespace and cluster still lists them.
  Status PruneDependencies(Downstream& ds, const v1::SyncRecord& record, const std::vector<v1::SyncRecord>& all,
                           bool orphan);
  // Finalizer and state labels on the upstream object: `clusters` labelled, finalizer iff non-empty.
  Status SetMarks(const upstream::ObjectRef& ref, const std::set<std::string>& clusters, const std::string* annotation);
  // The aggregate of `copies` (looked at for `generation`) as the upstream status.
  Status WriteStatus(const upstream::ObjectRef& ref, const std::vector<CopyStatus>& copies, int64_t generation);
  void QueueNamespace(const std::string& ws, const std::string& ns);
  // A ClusterRegistration changed ("" = deleted).
  void OnClusterEvent(const store::ObjectKey& k, const std::string& json);
  void QueueCluster(const std::string& ws, const std::string& cluster);
  // Replaces the dependencies `key` is requeued by.
  void Index(const std::string& key, const std::string& ws, const std::string& ns,
             const std::vector<std::string>& deps);
  // Drops what is kept in memory for a workload that is gone with all its copies.
  void Forget(const std::string& key);
  void Seen(std::map<std::string, Clock::TimePoint>& m, const std::string& key);
  void ObserveStage(std::map<std::string, Clock::TimePoint>& m, const std::string& key, prometheus::Histogram& h);

  upstream::Upstream& upstream_;
  store::Store& store_;
  const Clock& clock_;
  RecordStore records_;
  ConnectionFn connection_;
  const SyncerOptions options_;
  engine::Controller* controller_ = nullptr;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<Downstream>> downstreams_;  // "ws|cluster"; guarded by mu_
  std::map<std::string, std::set<std::string>> by_dependency_;      // "ws|ns|resource/name" → keys; guarded
  std::map<std::string, std::set<std::string>> deps_of_;            // key → its by_dependency_ keys; guarded
  std::map<std::string, std::string> placement_seen_;               // placement → what targets depend on
  std::map<std::string, bool> cluster_ready_;                       // "ws|cluster"; guarded by mu_
  std::map<std::string, Clock::TimePoint> upstream_seen_;           // key → first unapplied change; guarded
  std::map<std::string, Clock::TimePoint> downstream_seen_;         // key → first unreported change; guarded
  prometheus::Family<prometheus::Counter>& applies_;
  prometheus::Family<prometheus::Histogram>& apply_latency_;
  prometheus::Family<prometheus::Histogram>& stages_;
  prometheus::Histogram& to_downstream_;
  prometheus::Histogram& to_upstream_;
};

}  // namespace tmcd::sync
