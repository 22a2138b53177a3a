#pragma once
// Spread constraints of advanced placement (feature gate TMCAdvancedPlacement; docs/placement.md#spread-constraints).
// Each constraint names a topology key (location, zone, provider or label:<key>); a cluster's value for
// it is its group. Only clusters with a value can be chosen. Among the groups that have a feasible
// cluster, the chosen clusters must satisfy, for every constraint:
//   skew      chosen(g) − min over groups chosen(h) ≤ maxSkew, for every group g;
//   minGroups at least minGroups groups have a chosen cluster.
// The choice is greedy over the candidates in the strategy's order of preference (kept clusters
// first, then by score or by the round-robin rotation): first, for each constraint in turn, the best
// candidate of an unused group until minGroups groups are used; then the best candidate whose group
// would not exceed maxSkew, until numberOfClusters are chosen or no candidate is allowed. A minGroups
// that cannot be met makes the result unsatisfiable (nothing new is chosen); a numberOfClusters that
// the skew does not allow is chosen as far as it allows and reported. The same constraint holding as
// Kubernetes' topology spread (DoNotSchedule) counts groups the same way: a group whose clusters are
// all taken still counts in the minimum. Cost: O(wanted × candidates × constraints).
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

// The cluster's value for a topology key ("location", "zone", "provider", "label:<key>"); nullopt
// when it has none (an empty value counts as none).
std::optional<std::string> TopologyValue(const v1::ClusterRegistration& c, const std::string& key);

// What one constraint came to, for the condition and the explain endpoint.
struct SpreadOutcome {
  std::string topology_key;
  int32_t max_skew = 1;
  int32_t min_groups = 0;
  std::map<std::string, size_t> chosen;    // group → chosen clusters (every group with a candidate)
  std::map<std::string, size_t> feasible;  // group → candidate clusters
  int64_t skew = 0;                        // max − min of `chosen` over the groups
  bool satisfied = true;
};

struct SpreadChoice {
  std::vector<size_t> chosen;          // positions in the candidate list, in the order chosen
  std::map<size_t, std::string> left;  // candidate position → why a constraint left it out
  std::vector<SpreadOutcome> outcomes;
  bool unsatisfiable = false;  // minGroups cannot be met: only the kept candidates are chosen
  std::string message;         // what could not be met ("" when everything could)
};

// `groups[i][k]`: the group of candidate i for constraint k (candidates in order of preference);
// `kept[i]`: the placement already uses candidate i (what stays when minGroups cannot be met).
// `wanted`: numberOfClusters; `explicit_wanted` false when every feasible cluster is wanted (then
// fewer chosen because of the skew is not a failure).
SpreadChoice ChooseSpread(const std::vector<v1::SpreadConstraint>& constraints,
                          const std::vector<std::vector<std::string>>& groups, const std::vector<bool>& kept,
                          size_t wanted, bool explicit_wanted);

}  // namespace tmcd::engine
