#pragma once
// Capacity for advanced placement (feature gate TMCAdvancedPlacement; docs/placement.md#capacity,
// docs/design/architecture.md §5). What a placement needs on a cluster is computed from the pod
// templates of the workloads it selects (the interpreter's podTemplate and replicas paths):
//   per pod     Σ containers' requests, at least the largest init container's, plus spec.overhead
//               (Kubernetes' effective request); only cpu and memory are compared;
//   per copy    Σ over the selected workloads of replicas × per pod (Duplicated: every chosen
//               cluster runs all of it; Divided: a new cluster must hold one pod of each workload).
// What a cluster offers is status.available (allocatable minus the requests of its non-terminated
// Pods, from its last inventory) minus the **reservations** of the workspace's other placements:
// the requests of copies they placed there that the cluster has not reported yet (not applied, or
// applied within one inventory interval). Two placements decided back to back therefore never
// count the same free capacity twice. A cluster that does not fit takes no new placement (a kept one
// stays, as with cordon); when that leaves a placement short, Scheduled=False with reason
// InsufficientCapacity and each cluster's shortfall. Thread-safe: ReservationBook locks; the rest
// has no state.

#include <cstdint>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "apis/tmc/v1alpha1/cluster_registration.h"
#include "apis/tmc/v1alpha1/workload_placement.h"

namespace tmcd::engine {

namespace v1 = apis::v1alpha1;

// Amounts in milli-units by resource name ("cpu", "memory"); absent = 0.
using Resources = std::map<std::string, int64_t>;

void Add(Resources& into, const Resources& r, int64_t times = 1);
// Per resource, the larger of the two.
void Max(Resources& into, const Resources& r);
// "cpu 1500m, memory 256Mi" (memory in binary units when whole, cpu in millicores or cores).
std::string Describe(const Resources& r);

// The effective requests of one pod from its PodSpec (not the template: its "spec").
Resources PodRequests(const nlohmann::json& pod_spec);

// One selected workload's demand: `replicas` pods of `per_pod` each.
struct WorkloadDemand {
  int32_t replicas = 1;
  Resources per_pod;
  bool divisible = true;  // the kind has a replicas path: Divided placements split it
};

// The whole placement's demand.
struct PlacementDemand {
  Resources per_copy;     // Σ replicas × per pod over the selected workloads
  Resources largest_pod;  // per resource, the largest pod of any selected workload
  size_t workloads = 0;   // selected workloads with a pod template
  bool divided = false;   // replicaScheduling Divided: a new cluster needs largest_pod, not per_copy
  const Resources& Need() const { return divided ? largest_pod : per_copy; }
};

// The placement's demand from its selected workloads' (key → demand).
PlacementDemand Combine(const std::map<std::string, WorkloadDemand>& workloads, bool divided);

// One placement's reservations: per chosen cluster, the requests of the copies there that are not
// `settled` ("<cluster>|<workload key>": applied long enough ago for the cluster's inventory to count
// their Pods). A Divided copy reserves its share (DivideReplicas by the decisions' weights). A copy
// on a cluster the placement no longer chooses reserves all its replicas while it is `recent`
// (applied within the settle time, and maybe not removed yet): its Pods may run, uncounted.
std::map<std::string, Resources> Reservations(const std::map<std::string, WorkloadDemand>& workloads,
                                              const std::vector<v1::ClusterDecision>& decisions,
                                              const v1::ReplicaScheduling& rs, bool divided,
                                              const std::set<std::string>& settled,
                                              const std::set<std::string>& recent = {});

// What the cluster offers this placement: per resource it reports allocatable, available minus
// `reserved` (may be negative). A resource it does not report is absent (no limit known).
Resources Free(const v1::ClusterRegistration& c, const Resources& reserved);
// Per resource of `need` the cluster reports, how much is missing (empty: it fits).
Resources Shortfall(const Resources& free, const Resources& need);
// How many pods of `per_pod` fit in `free` (-1: no known limit: no request, or no resource reported).
int64_t PodsThatFit(const Resources& free, const Resources& per_pod);

// The reservations of every placement, per workspace: placement ("<namespace>/<name>") → cluster →
// what its unreported copies request there.
class ReservationBook {
 public:
  // Replaces what `placement` reserves; returns whether any reservation shrank or went away (other
  // placements may fit now).
  bool Set(const std::string& ws, const std::string& placement, std::map<std::string, Resources> by_cluster);
  // Per cluster, what the workspace's placements other than `self` reserve.
  std::map<std::string, Resources> Others(const std::string& ws, const std::string& self) const;
  // Per cluster, what `placement` reserves (explain).
  std::map<std::string, Resources> Of(const std::string& ws, const std::string& placement) const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::map<std::string, std::map<std::string, Resources>>> book_;  // ws → placement → …
};

}  // namespace tmcd::engine
