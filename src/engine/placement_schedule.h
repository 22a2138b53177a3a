#pragma once
// The basic placement algorithm (ARCHITECTURE.md §5, API.md "WorkloadPlacement", docs/placement.md),
// a pure function so that it can be tested without a cluster and explained on the local API:
//  filter  every ClusterRegistration of the placement's workspace: clusterSelector (locations,
//          labels, clusterNames, excludeClusters), not being deleted, Ready, not unschedulable,
//          NoSchedule/NoExecute taints tolerated, every selected workload resource Accepted;
//  select  sticky first (a previously chosen cluster that is still feasible stays), then the other
//          feasible clusters in a deterministic round-robin order (names sorted, rotated by a hash
//          of the placement, so that placements spread over the clusters), up to numberOfClusters
//          (default: every feasible cluster). Duplicated replicas: decisions carry no replica count.
// Thread-safe: no state.

#include <string>
#include <vector>

#include "apis/tmc/v1alpha1/cluster_registration.h"
#include "apis/tmc/v1alpha1/workload_placement.h"

namespace tmcd::engine {

namespace v1 = apis::v1alpha1;

// One cluster's filter results.
struct ClusterVerdict {
  std::string cluster;
  std::string location;
  std::vector<std::string> rejected;  // short reasons; empty = feasible
  bool chosen = false;
  bool sticky = false;  // chosen because it was chosen before
};

struct ScheduleResult {
  std::vector<v1::ClusterDecision> decisions;  // sorted by clusterName
  std::vector<ClusterVerdict> verdicts;        // every cluster of the workspace, sorted by name
  size_t wanted = 0;                           // numberOfClusters, or every feasible cluster
  size_t feasible = 0;
  // The Scheduled condition: status "True"/"False", CamelCase reason, short message.
  std::string condition_status;
  std::string condition_reason;
  std::string condition_message;
};

// `placement_id` ("<workspace>/<namespace>/<name>") seeds the round-robin rotation.
ScheduleResult Schedule(const v1::WorkloadPlacement& placement, const std::string& placement_id,
                        const std::vector<v1::ClusterRegistration>& clusters);

// Why `taints` are not all tolerated ("" = tolerated). Only NoSchedule and NoExecute keep new
// workloads away; PreferNoSchedule is a scoring matter (advanced placement).
std::string UntoleratedTaint(const std::vector<v1::Taint>& taints, const std::vector<v1::Toleration>& tolerations);

// Whether a workload with these labels is selected by the placement (resource given as group/resource).
bool SelectsWorkload(const v1::WorkloadPlacement& placement, const std::string& group, const std::string& resource,
                     const std::map<std::string, std::string>& labels);

}  // namespace tmcd::engine
