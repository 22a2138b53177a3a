#pragma once
// Advanced placement's scoring (feature gate TMCAdvancedPlacement; docs/placement.md#scoring): after the
// filters of the basic algorithm, each feasible cluster gets a 0..100 score from every plugin, and the
// clusters are ranked by Σ weight × score. The strategy gives the default weights; spec.scoring
// replaces a plugin's weight (-10..10, 0 disables it). Plugins:
//   Capacity  the free share of the cluster: mean over cpu and memory of (available − the other
//             placements' reservations) / allocatable (0 when the cluster reports no allocatable capacity);
//   Balance   how few of the workspace's other placements already chose the cluster:
//             100 × (1 − load / highest load among the feasible clusters), 100 when nobody has any;
//   Steady    100 for a cluster the placement already uses: the stickiness, so that a healthy
//             decision moves only when another cluster is better by more than Steady's weight × 100;
//   Location  (LocationAware only) the rank of the cluster's location in clusterSelector.locations:
//             100 × (n − rank) / n for the rank-th of n listed locations, 0 when not listed.
// Ties are broken by the round-robin rotation of the basic algorithm (a hash of the placement), so
// the result is deterministic and equal clusters are shared out between placements.
// Thread-safe: no state.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "apis/tmc/v1alpha1/cluster_registration.h"
#include "apis/tmc/v1alpha1/workload_placement.h"
#include "engine/placement_capacity.h"

namespace tmcd::engine {

namespace v1 = apis::v1alpha1;

struct PluginScore {
  std::string plugin;
  int32_t weight = 0;
  int32_t score = 0;  // 0..100
  bool operator==(const PluginScore&) const = default;
};

// The weights a placement uses: its strategy's defaults, with spec.scoring's entries replacing them.
// Plugins weighted 0 are left out. RoundRobin has no weights (the basic algorithm).
std::map<std::string, int32_t> PlacementWeights(const v1::WorkloadPlacementSpec& spec);

// What a cluster scores besides its own registration.
struct ScoreContext {
  bool previous = false;                // in the placement's status.decisions
  size_t load = 0;                      // decisions of the workspace's other placements on this cluster
  size_t max_load = 0;                  // the highest `load` among the feasible clusters
  const Resources* reserved = nullptr;  // what other placements reserve on the cluster (capacity)
  const Resources* free = nullptr;      // Free(cluster, *reserved) when already computed (the capacity filter)
};

// Every weighted plugin's score for one cluster, in plugin name order.
std::vector<PluginScore> ScoreCluster(const std::map<std::string, int32_t>& weights,
                                      const v1::WorkloadPlacementSpec& spec, const v1::ClusterRegistration& c,
                                      const ScoreContext& ctx);

int64_t TotalScore(const std::vector<PluginScore>& scores);

// The cluster's free share in percent after `reserved` (the Capacity plugin), or -1 when it reports no
// allocatable cpu or memory.
int32_t FreeShare(const v1::ClusterRegistration& c, const Resources& reserved = {});

}  // namespace tmcd::engine
