#pragma once
// Failover of advanced placement (feature gate TMCAdvancedPlacement; docs/placement.md#failover,
// docs/design/architecture.md §5). Kubernetes' NoExecute taints and tolerationSeconds, applied to clusters:
//  taints    a cluster's NoExecute taints, counted from their timeAdded, and, while its Ready condition
//            is not True, the taint tmc.kcp.io/not-ready:NoExecute counted from Ready's lastTransitionTime;
//  tolerated a taint no toleration matches is not tolerated at all; one matched by a toleration without
//            tolerationSeconds is tolerated for ever; otherwise until time + the smallest tolerationSeconds
//            of the matching tolerations (Kubernetes' taint manager rule). A cluster the placement uses
//            stays chosen while every taint is tolerated (it takes no new placement meanwhile);
//  evicted   beyond that it leaves the decisions and enters status.evictions: the syncer leaves its copies
//            as they are until every chosen cluster holds a Ready copy of every selected workload or the
//            grace period ends (make-before-break), then removes them;
//  budget    moves are rate-limited per workspace (FailoverBudget): a move past the budget waits, and the
//            cluster stays chosen meanwhile (condition Evicting, reason FailoverRateLimited).
// Thread-safe: the functions have no state; FailoverBudget locks.

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "apis/tmc/v1alpha1/cluster_registration.h"
#include "apis/tmc/v1alpha1/workload_placement.h"

namespace tmcd::engine {

namespace v1 = apis::v1alpha1;
using TimePoint = std::chrono::system_clock::time_point;

// When a taint without timeAdded was first seen (kcp mode: nobody stamps it); the caller keeps that.
using TaintClock = std::function<TimePoint(const std::string& cluster, const v1::Taint& taint)>;

// What a cluster's NoExecute taints (the not-ready one included) mean for one placement now.
struct Tolerance {
  bool evict = false;              // a taint is not (or no longer) tolerated
  bool ready = true;               // the cluster's Ready condition is True
  std::string reason;              // evict: ClusterNotReady or NoExecuteTaint
  std::string message;             // the first taint that decides, in words
  std::optional<TimePoint> until;  // tolerated until then (nullopt: for ever, or evict)
};

// nullopt when the cluster is Ready and has no NoExecute taint.
std::optional<Tolerance> NoExecuteTolerance(const v1::ClusterRegistration& c,
                                            const std::vector<v1::Toleration>& tolerations, TimePoint now,
                                            const TaintClock& taint_time = nullptr);

// Whether a toleration matches a taint (key, operator, value, effect; not the seconds).
bool Tolerates(const v1::Toleration& t, const v1::Taint& taint);

// Per cluster of the decisions: copies of this placement's workloads that are Ready there.
struct EvictionProgress {
  std::map<std::string, size_t> ready_on;
  size_t selected = 0;  // workloads the placement selects: the copies each chosen cluster must hold
};

// status.evictions after a schedule: kept ones that are not finished (their cluster is chosen again,
// gone, every chosen cluster holds `selected` Ready copies, or the grace period since startTime
// ended), plus one per cluster the schedule evicted (`evicted`: cluster → {reason, message}).
// `finished` gets one line per eviction that ended, for the log.
std::vector<v1::ClusterEviction> UpdateEvictions(
    const std::vector<v1::ClusterEviction>& before,
    const std::map<std::string, std::pair<std::string, std::string>>& evicted,
    const std::vector<v1::ClusterDecision>& decisions, const std::vector<std::string>& clusters,
    const EvictionProgress& progress, TimePoint now, std::chrono::milliseconds grace,
    std::vector<std::string>& finished);

// The workspace-wide budget of moves: at most `max_moves` per sliding `interval` (0: no limit). A move
// is one placement leaving one cluster; taking the same move twice inside the interval (a retried
// status write) counts once.
class FailoverBudget {
 public:
  FailoverBudget(size_t max_moves, std::chrono::milliseconds interval) : max_(max_moves), interval_(interval) {}
  bool Take(const std::string& workspace, const std::string& move, TimePoint now);
  // When the next move of the workspace may go (now when it may).
  TimePoint NextFree(const std::string& workspace, TimePoint now);
  size_t max_moves() const { return max_; }
  std::chrono::milliseconds interval() const { return interval_; }

 private:
  void Expire(std::deque<std::pair<TimePoint, std::string>>& moves, TimePoint now) const;
  const size_t max_;
  const std::chrono::milliseconds interval_;
  std::mutex mu_;
  std::map<std::string, std::deque<std::pair<TimePoint, std::string>>> moves_;  // guarded by mu_
};

}  // namespace tmcd::engine
