#pragma once
// The placement controller (docs/design/architecture.md §5, docs/placement.md). For each WorkloadPlacement:
// run the basic schedule (engine/placement_schedule.h) over the ClusterRegistrations of its
// workspace, and write status in one /status update: decisions (decisionGeneration and
// lastScheduleTime move only when the chosen set changes), selectedWorkloads, observedGeneration
// and the conditions Scheduled (with short reasons for rejected clusters), Synced (every copy of
// every selected workload applied, from the SyncRecords) and Ready (Scheduled and Synced and every
// copy available). A placement is requeued when it changes, when any cluster of its workspace
// changes (health, labels, taints), when a workload in its namespace changes, and when a
// SyncRecord naming it changes. With advanced placement it also runs failover
// (engine/placement_failover.h): status.evictions, the Evicting condition and the workspace's budget,
// and capacity (engine/placement_capacity.h): each placement's demand from its workloads' pod templates
// and the reservations of its copies that the clusters have not reported yet.
// Thread-safe: Reconcile runs on the controller's workers, one key at a time; Explain from any thread.

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "engine/controller.h"
#include "engine/events.h"
#include "engine/placement_schedule.h"
#include "upstream/upstream.h"

namespace tmcd::engine {

// Failover settings (configuration keys placement.failover.*, docs/configuration.md).
struct FailoverOptions {
  std::chrono::milliseconds grace_period{600000};  // an evicted cluster's copies stay at most this long
  size_t max_moves = 10;                           // moves per workspace per interval (0: no limit)
  std::chrono::milliseconds interval{60000};
};

// What one selected workload's pods request (capacity): the syncer's interpreter knows each kind's
// podTemplate and replicas paths. nullopt: the kind has no pod template.
using DemandFn = std::function<std::optional<WorkloadDemand>(const std::string& ws, const v1::GroupResource& gr,
                                                             const nlohmann::json& workload)>;

class PlacementController {
 public:
  // `workload_kinds`: the resources placements may select (the syncer's kinds); their changes
  // requeue the placements of their namespace (selected-workload counts).
  PlacementController(upstream::Upstream& upstream, store::Store& store, const Clock& clock,
                      prometheus::Registry& registry, std::vector<v1::GroupResource> workload_kinds,
                      bool advanced = false, int workers = 2, FailoverOptions failover = {});
  // Capacity (advanced placement only; before Register): `demand` reads the workloads' requests; a
  // copy reserves its requests on its cluster until `settle` after it was applied (the cluster's
  // inventory interval plus the time its Pods take to appear).
  void SetCapacity(DemandFn demand, std::chrono::milliseconds settle);
  // Events on the placements (docs/observability.md#events). Null: none. Before Register.
  void SetRecorder(EventRecorder* recorder) { recorder_ = recorder; }
  // Adds the controller and its sources (placements, clusters, workloads, sync records) to `m`.
  void Register(Manager& m);
  Result<ReconcileResult> Reconcile(const std::string& key);
  // The full filter results for one placement, computed now (GET .../workloadplacements/<n>/explain).
  Result<nlohmann::json> Explain(const std::string& workspace, const std::string& ns, const std::string& name) const;
  // The same for a placement that is not stored (POST .../explain, "dryRun": true): `candidate`, as
  // the registry checked and defaulted it for a create; the stored placement of that name, when there
  // is one, gives the decisions it would keep.
  Result<nlohmann::json> ExplainCandidate(const std::string& workspace, const std::string& ns,
                                          const nlohmann::json& candidate) const;
  static std::string KeyFor(const std::string& workspace, const std::string& ns, const std::string& name) {
    return workspace + "|" + ns + "/" + name;
  }

 private:
  // Queues every placement of a workspace (a namespace, when ns is non-empty), after `delay`.
  void QueueAll(const std::string& workspace, const std::string& ns,
                std::chrono::milliseconds delay = std::chrono::milliseconds(0));
  // The workspace's clusters, decoded once per revision (clusters_).
  Result<std::vector<const v1::ClusterRegistration*>> Clusters(
      const std::string& workspace, std::vector<std::shared_ptr<const v1::ClusterRegistration>>& hold) const;
  Result<ScheduleResult> Compute(const std::string& workspace, const v1::WorkloadPlacement& p) const;
  // Capacity: the selected workloads (their count; `demand` gets their requests when capacity is on).
  int32_t Select(const std::string& workspace, const v1::WorkloadPlacement& p,
                 std::map<std::string, WorkloadDemand>& demand) const;
  // Schedules, then (failover) takes the budget for each eviction and schedules again with the
  // moves the budget refuses held.
  ScheduleResult ScheduleWithBudget(const std::string& workspace, const v1::WorkloadPlacement& p, const std::string& id,
                                    const std::vector<const v1::ClusterRegistration*>& clusters,
                                    ScheduleOptions options);
  // status.evictions and the Evicting condition; returns when to look again (nullopt: no need).
  // `fresh` gets the evictions that begin with this status (for the log and metrics after the write).
  std::optional<TimePoint> Failover(const ScheduleResult& r,
                                    const std::vector<const v1::ClusterRegistration*>& clusters,
                                    const std::string& workspace, const std::string& id,
                                    const EvictionProgress& progress, v1::WorkloadPlacementStatus& st, int64_t gen,
                                    std::vector<v1::ClusterEviction>& fresh) const;
  // Metrics and logs of one reconcile's outcome: evictions begun, moves held, and (when `moved` names
  // the Scheduled reason) the new decisions.
  void Report(const std::string& id, const v1::WorkloadPlacementStatus& st,
              const std::vector<v1::ClusterEviction>& fresh, size_t held, const std::string& moved);
  // The same outcome as Events on the placement: Scheduled (new decisions), the Scheduled condition's
  // reason when it turns False, Evicting per eviction begun.
  void Announce(const upstream::ObjectRef& ref, const v1::WorkloadPlacement& written,
                const std::vector<apis::Condition>& before, const std::vector<v1::ClusterEviction>& fresh, bool moved);
  // Capacity: records whether `self` was left out of a cluster for capacity alone; returns, when
  // `freed`, the keys of the workspace's other placements that were (they may fit now).
  std::vector<std::string> Waiting(const std::string& workspace, const std::string& self, bool short_now, bool freed);
  // The advanced placement's per-workspace serialization (Reconcile).
  std::mutex& WorkspaceLock(const std::string& workspace);
  // When a NoExecute taint without timeAdded was first seen (kept in memory; a restart starts again).
  TaintClock TaintTime(const std::string& workspace) const;
  static nlohmann::json Render(const std::string& workspace, const v1::WorkloadPlacement& p, const ScheduleResult& r);
  // Advanced placement's Balance input: per cluster, the decisions of the workspace's placements
  // other than `self` ("<namespace>/<name>"), from the load index (one list of the workspace's
  // placements the first time, then kept by Reconcile: O(clusters) per call, not O(placements)).
  Result<std::map<std::string, size_t>> Load(const std::string& workspace, const std::string& self) const;
  // Records what `self` now has chosen (empty: gone) in the load index.
  void RecordLoad(const std::string& workspace, const std::string& self, std::set<std::string> clusters);

  upstream::Upstream& upstream_;
  store::Store& store_;
  const Clock& clock_;
  const int workers_;
  const bool advanced_;  // TMCAdvancedPlacement: scored strategies (engine/placement_score.h)
  const std::vector<v1::GroupResource> workload_kinds_;
  Controller* controller_ = nullptr;
  EventRecorder* recorder_ = nullptr;
  GenerationFilter generations_;  // placement events: spec changes, not its own status writes
  prometheus::Family<prometheus::Counter>& decisions_;
  prometheus::Family<prometheus::Counter>& evictions_;  // by reason, and result=held for budget waits
  prometheus::Family<prometheus::Gauge>& placements_;   // by the Scheduled condition's status and reason
  // A deleted placement: its load, reservations and tracked outcome go; waiting placements are requeued.
  ReconcileResult Forget(const std::string& workspace, const std::string& self, const std::string& id);
  // Counts placements by Scheduled status and reason; status "" forgets the placement.
  void Track(const std::string& id, const std::string& status, const std::string& reason);
  std::mutex track_mu_;
  std::map<std::string, std::pair<std::string, std::string>> tracked_;  // guarded by track_mu_
  const FailoverOptions failover_;
  mutable FailoverBudget budget_;
  DemandFn demand_;                                       // capacity (SetCapacity); null: off
  std::chrono::milliseconds settle_{0};                   // capacity: how long an applied copy stays reserved
  ReservationBook reservations_;                          // capacity: what each placement's unreported copies hold
  std::map<std::string, std::set<std::string>> waiting_;  // ws → placements short of capacity; load_mu_
  mutable std::mutex taint_mu_;
  mutable std::map<std::string, TimePoint> taint_seen_;  // "<ws>/<cluster>/<taint>" → first seen; taint_mu_
  // The load index, per workspace (advanced placement only).
  struct LoadIndex {
    std::map<std::string, std::set<std::string>> chosen;  // "<namespace>/<name>" → its clusters
    std::map<std::string, size_t> per_cluster;            // cluster → placements that chose it
  };
  mutable upstream::Upstream::ListCache<v1::ClusterRegistration> clusters_;
  mutable std::mutex load_mu_;
  mutable std::map<std::string, LoadIndex> load_;      // guarded by load_mu_
  std::map<std::string, std::mutex> workspace_locks_;  // guarded by load_mu_; entries never move
};

}  // namespace tmcd::engine
