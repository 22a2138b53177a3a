#pragma once
// Downstream statuses → the upstream workload's status (docs/status.md), by the kind's rules
// (sync/interpreter.h): each status field the rules name combines across the copies by its
// aggregation (Duplicated replica counters: the minimum, so that "3 ready" means 3 ready
// everywhere; Divided: the sum; DaemonSet counters: the sum; load-balancer ingress: the
// union; ...). observedGeneration moves to the upstream generation only when every copy has been
// applied at that generation and its cluster has observed the applied spec; conditions are combined
// per type (True only if True everywhere, False if False anywhere, else Unknown; the rules' "any"
// types are True when True anywhere) with the first cluster that decided it named in the message.
// Pure functions; thread-safe.

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sync/interpreter.h"

namespace tmcd::sync {

using Json = nlohmann::json;

struct CopyStatus {
  std::string cluster;
  Json status;             // the downstream object's status ({} when not seen yet)
  bool current = false;    // applied at the upstream generation and observed by the cluster
  std::string phase;       // the SyncRecord phase
  std::string last_error;  // the SyncRecord's last error
  bool healthy = false;    // the SyncRecord's Ready condition
};

// The aggregated status. `previous` is the upstream status now (its observedGeneration is kept
// while some copy lags; lastTransitionTime of unchanged conditions is kept); `now` is RFC 3339.
Json AggregateStatus(const KindRules& rules, const std::vector<CopyStatus>& copies, int64_t generation, bool divided,
                     const Json& previous, const std::string& now);

// The tmc.kcp.io/cluster-status annotation: {"<cluster>": {phase, current, healthy, error, and each
// status field of the rules as that cluster reports it (counters 0 when absent)}} as compact JSON.
std::string ClusterStatusAnnotation(const KindRules& rules, const std::vector<CopyStatus>& copies);

}  // namespace tmcd::sync
