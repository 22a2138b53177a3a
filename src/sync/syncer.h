#pragma once
// The syncer (docs/sync.md, docs/design/architecture.md "Sync engine"): for each upstream workload
// of a kind it syncs (sync/interpreter.h: the built-in Kubernetes kinds, and custom resources an
// interpreter describes), the clusters chosen by the WorkloadPlacements of its namespace that select
// it get a copy, with the objects it depends on (Pod template references, Services selecting its
// Pods, names the kind's rules point at), in the mapped namespace, by server-side apply
// (fieldManager tmcd, force). The upstream object gets the finalizer tmc.kcp.io/syncer and a
// state.tmc.kcp.io/<clusterKey> label per cluster before the first create. A SyncRecord per
// (workload, cluster) is written before the first downstream write and kept current (phase, hash,
// generations, downstream status). An apply is skipped when the desired hash is the recorded one
// and the downstream object's generation is the one tmcd left (so drift is corrected, and status
// churn costs no apply). Copies on clusters no longer chosen, and every copy of a deleted
// workload, are deleted downstream (or stripped of tmcd's marks: deletionPolicy Orphan), waited
// for, and only then forgotten; the finalizer goes with the last copy. The downstream statuses are
// aggregated by the kind's rules into the upstream status (TMCStatusAggregation) and the
// tmc.kcp.io/cluster-status annotation.
// Work is keyed by workload ("<ws>|<resource>.<group>|<ns>/<name>"): changes of the workload, of the
// placements and dependencies of its namespace, of its downstream copies (label-filtered informers
// per cluster and kind), of its SyncRecords, and clusters becoming Ready requeue it. One failing
// cluster does not hold up the others: every copy is attempted, and the key backs off only for the
// failed part's sake.
// The controller half (construction, clients, sources, indexes) is syncer.cc and sources.cc; the
// reconcile half, a pass of sub-reconcilers (targets, marks, copies, removals, status), is
// reconcile.cc and copy.cc.
// Thread-safe: Reconcile runs on the controller's workers, one key at a time.

#include <prometheus/counter.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>

#include "engine/controller.h"
#include "engine/events.h"
#include "observability/trace.h"
#include "sync/custom.h"
#include "sync/downstream.h"
#include "sync/fanout.h"
#include "sync/index.h"
#include "sync/interpreter.h"
#include "sync/records.h"
#include "sync/status.h"
#include "upstream/upstream.h"

namespace tmcd::sync {

struct SyncerOptions {
  int workers = 4;
  double qps = 200;                               // per cluster client; burst twice that
  bool aggregate_status = true;                   // TMCStatusAggregation
  bool advanced_placement = false;                // TMCAdvancedPlacement: placements' overrides applied
  std::vector<KindRules> kinds = BuiltinKinds();  // the kinds synced (every one the upstream serves)
};

// One workload: "<ws>|<resource>.<group>|<ns>/<name>" ("<resource>" alone for the core group).
struct WorkloadKey {
  std::string workspace, group, resource, namespace_, name;
  std::string String() const;
  static std::optional<WorkloadKey> Parse(const std::string& key);
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
  // The sync workers start once `ready()` (at most `max_wait`), see engine::Controller::HoldUntil.
  // After Register, before the manager starts.
  void HoldUntil(std::function<bool()> ready, std::chrono::milliseconds max_wait) {
    controller_->HoldUntil(std::move(ready), max_wait);
  }
  Result<engine::ReconcileResult> Reconcile(const std::string& key);
  // How many copies (SyncRecords) tmcd keeps on a cluster: its registration's deletion waits for 0.
  size_t CopiesOn(const std::string& workspace, const std::string& cluster) const;
  // The rules of a kind synced in `ws` (built-in, or a ResourceInterpreter's there), or null.
  RulesPtr RulesFor(const std::string& ws, const std::string& group, const std::string& resource) const;
  // Events on the workloads (docs/observability.md#events): Synced per cluster, the failure reason when
  // a copy starts failing, CopyRemoved/CopyOrphaned. Null: none. Before Register.
  void SetRecorder(engine::EventRecorder* recorder) { recorder_ = recorder; }

 private:
  struct Target {
    std::string placement;
    std::string deletion_policy;
    std::optional<int32_t> replicas;                         // Divided: this cluster's share of the workload's replicas
    std::vector<std::pair<size_t, v1::Override>> overrides;  // the placement's overrides for the cluster
  };
  // One workload being reconciled.
  struct Work {
    upstream::ObjectRef ref;
    const KindRules* rules = nullptr;
    std::string key;
    RulesPtr keep;  // keeps a custom resource's rules alive while their interpreter changes
    // The workload's marks being written (ReconcileMarks), side by side with the copies' first record
    // writes: a copy waits for them before it writes anything downstream. Not valid: nothing to wait for.
    std::shared_future<Status> marks;
  };
  // One reconcile pass over one workload (sync/reconcile.cc): what the sub-reconcilers read and decided.
  struct Pass {
    Work w;
    std::optional<Json> obj;                // the workload, unless it is gone
    bool deleting = false;                  // it has a deletionTimestamp
    std::vector<v1::SyncRecord> records;    // its copies as recorded before the pass
    std::map<std::string, Target> targets;  // clusters that should have a copy
    std::set<std::string> held;             // failover: clusters being left whose copies stay as they are
    std::set<std::string> labelled;         // clusters that keep (or get) a state label
    std::vector<v1::SyncRecord> kept;       // the targets' records after the copies step
    size_t failed = 0;                      // copies that failed (each one tried)
    Status first_error;
    bool pending = false;  // a removal is under way: look again soon
    void Fail(const Status& s, const std::string& where);
  };
  // The sub-reconcilers, in order; an error stops the pass.
  Status ReconcileTargets(Pass& p);   // targets (minus leaving clusters) and the clusters to label
  Status ReconcileMarks(Pass& p);     // finalizer and state labels before the first create
  Status ReconcileCopies(Pass& p);    // apply to every target, records written
  Status ReconcileRemovals(Pass& p);  // copies on clusters no longer chosen, or of a deleted workload
  Status ReconcileStatus(Pass& p);    // the per-cluster annotation, labels, aggregated status
  // Events on the workload for its copies' Synced transitions (and each new generation applied).
  void AnnounceCopies(const Pass& p);
  engine::InvolvedObject Involved(const Pass& p) const;
  // A dependency as it is applied downstream.
  struct DesiredDependency {
    Dependency ref;
    Json object;
  };
  // cluster → the placement that chose it (first by name when several do). `held`: the clusters the
  // selecting placements are leaving by failover (status.evictions), whose copies stay untouched.
  Result<std::map<std::string, Target>> Targets(const Work& w, const Json& workload, std::set<std::string>& held);
  // The placement's overrides whose clusterSelector matches the cluster, with their indexes.
  Result<std::vector<std::pair<size_t, v1::Override>>> OverridesFor(const std::string& ws,
                                                                    const v1::WorkloadPlacement& p,
                                                                    const std::string& cluster) const;
  // Removes the clusters whose registration is missing or being deleted from `targets`, unless the
  // workload already has a copy there: a leaving cluster gets no new copies, so that its deletion
  // (which waits for its copies) cannot be overtaken by a stale decision.
  void DropLeavingClusters(const std::string& ws, const std::vector<v1::SyncRecord>& records,
                           std::map<std::string, Target>& targets);
  // SyncCopy and the record write for every target, in parallel; `kept` gets the records (in target
  // order). Returns each cluster's outcome.
  std::vector<std::pair<std::string, Status>> SyncCopies(const Work& w, const Json& workload,
                                                         const std::map<std::string, Target>& targets,
                                                         const std::vector<v1::SyncRecord>& records,
                                                         std::vector<v1::SyncRecord>& kept);
  std::shared_ptr<Downstream> DownstreamFor(const std::string& ws, const std::string& cluster);
  // Counts a copy put back after drift (docs/sync.md): record, metric, log line.
  void CountDrift(const Work& w, const std::string& cluster, v1::SyncRecord& record, const apis::Time& now);
  Status SyncCopy(const Work& w, const Json& workload, const std::string& cluster, const Target& t,
                  v1::SyncRecord& record);
  // The object to apply: Desired() with the kind's per-cluster fields stripped; `replicas` (Divided)
  // replaces the workload's replica count; `autoscaled` (Autoscaled) drops the count either way.
  Json DesiredCopy(const Work& w, const Json& workload, const UpstreamId& id, const std::string& dns,
                   std::optional<int32_t> replicas, bool autoscaled) const;
  // An upstream HorizontalPodAutoscaler scales the workload: the cluster's HPA owns its replica count.
  bool Autoscaled(const Work& w) const;
  // Invalid unless the cluster accepts the kind of every dependency (status.syncedResources).
  Status DependenciesAccepted(const std::string& ws, const std::string& cluster, const Work& w,
                              const std::vector<DesiredDependency>& deps) const;
  // The desired dependencies of a workload (those that exist upstream).
  std::vector<DesiredDependency> Dependencies(const Work& w, const Json& workload, const std::string& dns) const;
  static void MarkApplied(const KindRules& rules, v1::SyncRecord& record, const Json& seen, const apis::Time& now);
  // ApplyCopy, counted and timed per cluster.
  Result<Json> TimedApply(Downstream& ds, const Work& w, const std::string& cluster, const Json& desired,
                          const std::vector<DesiredDependency>& deps);
  // Applies the dependencies, then the workload; returns the applied workload.
  Result<Json> ApplyCopy(Downstream& ds, const Work& w, const Json& desired,
                         const std::vector<DesiredDependency>& deps);
  // Deletes (or orphans) one copy; true once it is gone and its record deleted.
  Result<bool> RemoveCopy(const Work& w, v1::SyncRecord& record, const std::vector<v1::SyncRecord>& all);
  // Deletes (or orphans) record.status.dependencies downstream unless another record of the same
  // namespace and cluster still lists them or is their own copy.
  Status PruneDependencies(Downstream& ds, const v1::SyncRecord& record, bool orphan);
  // Finalizer and state labels on the upstream object: `clusters` labelled, finalizer iff non-empty.
  Status SetMarks(const upstream::ObjectRef& ref, const std::set<std::string>& clusters, const std::string* annotation);
  // SetMarks (with the cluster-status annotation) and the aggregate of `copies` (looked at for
  // `generation`) as the upstream status, in one write where the upstream allows it.
  Status WriteStatus(const Work& w, const std::set<std::string>& clusters, const std::string& annotation,
                     const std::vector<CopyStatus>& copies, int64_t generation, bool divided);

  // Writes an interpreter's Accepted condition: whether its rules are in use, or why not.
  Result<engine::ReconcileResult> ReconcileInterpreter(const WorkloadKey& k);

  // Event handling (sync/sources.cc).
  void OnWorkloadEvent(const KindRules& rules, const store::ObjectKey& k, const std::string& json);
  void OnPlacementEvent(const store::ObjectKey& k, const std::string& json);
  // A ResourceInterpreter changed: its target's objects are queued under the new rules.
  void OnInterpreterEvent(const store::ObjectKey& k, const std::string& json);
  // A ClusterRegistration changed ("" = deleted).
  void OnClusterEvent(const store::ObjectKey& k, const std::string& json);
  // Every workload of the namespace of a kind its placements select, and every one with records.
  void QueueNamespace(const std::string& ws, const std::string& ns);
  void QueueCluster(const std::string& ws, const std::string& cluster);
  // Drops what is kept in memory for a workload that is gone with all its copies.
  void Forget(const std::string& key);
  void Seen(std::map<std::string, Clock::TimePoint>& m, const std::string& key);
  // The trace of a copy's last apply (docs/design/tracing.md): what its cluster reports within
  // kStatusTraceWindow after the apply continues that trace. Kept only while tracing is on.
  void NoteApplied(const std::string& key, const std::string& cluster, const observability::SpanContext& c);
  observability::SpanContext AppliedTrace(const std::string& key, const std::string& cluster);
  static constexpr std::chrono::minutes kStatusTraceWindow{2};
  void ObserveStage(std::map<std::string, Clock::TimePoint>& m, const std::string& key, prometheus::Histogram& h);

  upstream::Upstream& upstream_;
  engine::EventRecorder* recorder_ = nullptr;
  store::Store& store_;
  const Clock& clock_;
  RecordStore records_;
  ConnectionFn connection_;
  const SyncerOptions options_;
  engine::Controller* controller_ = nullptr;
  CustomKinds custom_;
  WorkloadIndex index_;  // what requeues what: placements' kinds, dependencies (its own lock)
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<Downstream>> downstreams_;  // "ws|cluster"; guarded by mu_
  std::map<std::string, bool> cluster_ready_;                       // "ws|cluster"; guarded by mu_
  std::map<std::string, std::string> cluster_selectable_;           // labels + location; guarded by mu_
  std::map<std::string, Clock::TimePoint> upstream_seen_;           // key → first unapplied change; guarded
  std::map<std::string, Clock::TimePoint> downstream_seen_;         // key → first unreported change; guarded
  using Applied = std::pair<observability::SpanContext, Clock::TimePoint>;
  std::map<std::string, Applied> applied_;  // "key|cluster" → last apply's span, until; guarded by mu_
  size_t applied_sweep_at_ = 1024;          // guarded by mu_
  prometheus::Family<prometheus::Counter>& applies_;
  prometheus::Family<prometheus::Counter>& drift_;
  prometheus::Family<prometheus::Histogram>& apply_latency_;
  prometheus::Family<prometheus::Histogram>& stages_;
  prometheus::Histogram& to_downstream_;
  prometheus::Histogram& to_upstream_;
  FanOutPool fanout_;  // a workload's copies side by side; its threads stop first
};

}  // namespace tmcd::sync
