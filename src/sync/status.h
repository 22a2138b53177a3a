#pragma once
// Downstream statuses → the upstream workload's status (ARCHITECTURE.md §6, docs/status.md).
// One copy: its status as is. Several (Duplicated): each count is the minimum across clusters, so
// that "3 ready" means 3 ready everywhere; Divided: counts are summed. observedGeneration moves to
// the upstream generation only when every copy has been applied at that generation and its cluster
// has observed the applied spec; conditions are combined per type (True only if True everywhere,
// False if False anywhere, else Unknown) with the first non-True cluster named in the message.
// Pure functions; thread-safe.

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace tmcd::sync {

using Json = nlohmann::json;

struct CopyStatus {
  std::string cluster;
  Json status;             // the downstream object's status ({} when not seen yet)
  bool current = false;    // applied at the upstream generation and observed by the cluster
  std::string phase;       // the SyncRecord phase
  std::string last_error;  // the SyncRecord's last error
};

// The aggregated status. `previous` is the upstream status now (its observedGeneration is kept
// while some copy lags; lastTransitionTime of unchanged conditions is kept); `now` is RFC 3339.
Json AggregateStatus(const std::vector<CopyStatus>& copies, int64_t generation, bool divided, const Json& previous,
                     const std::string& now);

// The tmc.kcp.io/cluster-status annotation: {"<cluster>": {phase, replicas, readyReplicas,
// availableReplicas, updatedReplicas, current, error}} as compact JSON.
std::string ClusterStatusAnnotation(const std::vector<CopyStatus>& copies);

// Whether a downstream Deployment status says the copy is available (condition Available=True).
bool CopyAvailable(const Json& status);

}  // namespace tmcd::sync
