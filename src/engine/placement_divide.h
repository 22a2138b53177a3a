#pragma once
// Divided replicas (advanced placement, feature gate TMCAdvancedPlacement; docs/placement.md#divided-replicas).
// The placement gives each chosen cluster a weight when it decides (status.decisions[].weight):
//   Static   the first replicaScheduling.weights entry naming the cluster (clusterNames) or matching its
//            labels (labelSelector); 0 when none does; every chosen cluster 1 when no weights are listed;
//   Dynamic  the cluster's available cpu in millicores at decision time (status.available, from its
//            Nodes and Pods or its declared capacity); 1 each when no chosen cluster reports cpu.
// The syncer then splits each selected workload's replicas by those weights (DivideReplicas), so the
// division of one workload follows its own replica count and weights move only with decisions.
// Thread-safe: no state.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "apis/tmc/v1alpha1/cluster_registration.h"
#include "apis/tmc/v1alpha1/workload_placement.h"

namespace tmcd::engine {

namespace v1 = apis::v1alpha1;

// One chosen cluster's weight under `rs` (type Divided).
int64_t DivisionWeight(const v1::ReplicaScheduling& rs, const v1::ClusterRegistration& c);

// Splits `total` replicas over the clusters by weight: first min(minPerCluster, total / n) each,
// then the rest in proportion to the weights, rounded down, and what rounding left one by one to
// the largest remainders (ties: cluster name order). Weights that sum to 0 count as equal.
// Deterministic, sums to `total` (≥ 0), and each share is within one of its exact proportion of
// what the floors left (Hamilton's method: rescaling moves only the replicas the new proportion moves).
// With `max_per_cluster`, a share that would pass it is capped and the other clusters divide the rest
// by the same rule; when every cluster is at the ceiling, the replicas beyond it are not placed (the
// shares then sum to clusters × max < total).
std::map<std::string, int32_t> DivideReplicas(int32_t total, const std::map<std::string, int64_t>& weights,
                                              int32_t min_per_cluster,
                                              std::optional<int32_t> max_per_cluster = std::nullopt);

}  // namespace tmcd::engine
