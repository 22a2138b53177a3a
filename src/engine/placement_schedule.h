#pragma once
// The basic placement algorithm (docs/design/architecture.md §5, docs/api-reference.md, docs/placement.md),
// a pure function so that it can be tested without a cluster and explained on the local API:
//  filter  every ClusterRegistration of the placement's workspace: clusterSelector (locations,
//          labels, clusterNames, excludeClusters), not being deleted, Ready, NoExecute taints tolerated,
//          every selected workload resource Accepted; cordon (unschedulable) and untolerated NoSchedule
//          taints only keep *new* placements away: a cluster the placement already uses stays (Kubernetes
//          semantics; only NoExecute, NotReady and the selector evict). With advanced placement, NotReady
//          and NoExecute follow the tolerations' seconds instead (engine/placement_failover.h);
//  select  sticky first (a previously chosen cluster that is still feasible stays), then the other
//          feasible clusters in a deterministic round-robin order (names sorted, rotated by a hash
//          of the placement, so that placements spread over the clusters), up to numberOfClusters
//          (default: every feasible cluster). Duplicated replicas: decisions carry no replica count.
// With advanced placement (ScheduleOptions::advanced, feature gate TMCAdvancedPlacement) every strategy
// but RoundRobin ranks the feasible clusters by score instead (engine/placement_score.h): a cluster
// not fitting the placement's requests takes no new placements (engine/placement_capacity.h),
// stickiness is the Steady plugin; spread constraints (engine/placement_spread.h) then choose among the
// ranked clusters, whatever the strategy.
// Thread-safe: no state.

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "apis/tmc/v1alpha1/cluster_registration.h"
#include "apis/tmc/v1alpha1/workload_placement.h"
#include "engine/placement_capacity.h"
#include "engine/placement_failover.h"
#include "engine/placement_score.h"
#include "engine/placement_spread.h"

namespace tmcd::engine {

namespace v1 = apis::v1alpha1;

// One cluster's filter results.
struct ClusterVerdict {
  std::string cluster;
  std::string location;
  std::vector<std::string> rejected;  // short reasons; empty = feasible
  bool chosen = false;
  bool new_only = false;            // every reason only stops new placements (cordon, NoSchedule)
  bool sticky = false;              // chosen because it was chosen before
  std::vector<PluginScore> scores;  // advanced placement: every weighted plugin (feasible clusters only)
  int64_t total = 0;                // Σ weight × score
  std::string spread;               // feasible but left out by a spread constraint: why
  std::vector<size_t> overrides;    // chosen: the spec.overrides entries that apply to it (advanced placement)
  std::string evict;                // failover: was chosen, leaves beyond its toleration (ClusterNotReady, ...)
  // Capacity (advanced placement, engine/placement_capacity.h): what the cluster offers this placement
  // (the resources it reports), what other placements reserve there, what a new placement lacks, and
  // how many copies (Divided: largest pods) fit (-1: no known limit).
  Resources free, reserved, shortfall;
  int64_t fits = -1;
};

struct ScheduleOptions {
  bool advanced = false;                      // TMCAdvancedPlacement: score-based strategies
  std::map<std::string, size_t> load;         // cluster → decisions of the workspace's other placements (Balance)
  TimePoint now{};                            // failover: tolerations' deadlines (epoch: the system clock)
  std::set<std::string> hold;                 // failover: clusters whose move waits for the workspace's budget
  TaintClock taint_time;                      // failover: NoExecute taints without timeAdded
  const PlacementDemand* demand = nullptr;    // capacity: what the placement needs (null: not known)
  std::map<std::string, Resources> reserved;  // capacity: cluster → other placements' reservations
};

struct ScheduleResult {
  std::vector<v1::ClusterDecision> decisions;  // sorted by clusterName
  std::vector<ClusterVerdict> verdicts;        // every cluster of the workspace, sorted by name
  size_t wanted = 0;                           // numberOfClusters, or every feasible cluster
  size_t feasible = 0;
  std::string strategy = "RoundRobin";     // what decided: RoundRobin (basic) or the scoring strategy
  std::map<std::string, int32_t> weights;  // the plugins' weights (advanced placement)
  std::vector<SpreadOutcome> spread;       // one per spec.spreadConstraints entry (advanced placement)
  Resources need;                          // capacity: what a new cluster must offer (empty: not known)
  size_t short_of_capacity = 0;            // capacity: clusters left out for capacity alone
  // Failover: clusters left beyond their toleration (cluster → {reason, message}); clusters kept only
  // because their move waits for the budget; the next toleration deadline (reconcile again then).
  std::map<std::string, std::pair<std::string, std::string>> evicted;
  std::vector<std::string> held;
  std::optional<TimePoint> requeue_at;
  // The Scheduled condition: status "True"/"False", CamelCase reason, short message.
  std::string condition_status;
  std::string condition_reason;
  std::string condition_message;
};

// `placement_id` ("<workspace>/<namespace>/<name>") seeds the round-robin rotation.
ScheduleResult Schedule(const v1::WorkloadPlacement& placement, const std::string& placement_id,
                        const std::vector<v1::ClusterRegistration>& clusters, const ScheduleOptions& options = {});
// The same over clusters held elsewhere (the controller's decoded-object cache).
ScheduleResult Schedule(const v1::WorkloadPlacement& placement, const std::string& placement_id,
                        std::vector<const v1::ClusterRegistration*> clusters, const ScheduleOptions& options = {});

// The first taint with `effect` ("NoSchedule" or "NoExecute") that the tolerations do not tolerate, as
// key=value:effect ("" = all tolerated). PreferNoSchedule is a scoring matter (advanced placement).
std::string UntoleratedTaint(const std::vector<v1::Taint>& taints, const std::vector<v1::Toleration>& tolerations,
                             std::string_view effect);

// Whether the cluster passes the selector (locations, labels, clusterNames, excludeClusters).
bool MatchesClusterSelector(const v1::ClusterSelector& sel, const v1::ClusterRegistration& c);

// Whether a workload with these labels is selected by the placement (resource given as group/resource).
bool SelectsWorkload(const v1::WorkloadPlacement& placement, const std::string& group, const std::string& resource,
                     const std::map<std::string, std::string>& labels);

}  // namespace tmcd::engine
