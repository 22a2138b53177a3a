#include "engine/placement_schedule.h"

#include <algorithm>
#include <cstdint>
#include <set>

#include "apis/meta/condition.h"
#include "apis/meta/selector.h"
#include "common/strings.h"
#include "engine/placement_divide.h"

namespace tmcd::engine {
namespace {

constexpr size_t kMaxReasonsInMessage = 5;

uint64_t Fnv1a(std::string_view s) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

bool Contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// Rejections by the clusterSelector.
void FilterSelector(const v1::ClusterSelector& sel, const v1::ClusterRegistration& c, std::vector<std::string>& why) {
  const std::string& name = c.metadata.name;
  if (Contains(sel.exclude_clusters, name)) why.push_back("excluded by clusterSelector.excludeClusters");
  if (!sel.cluster_names.empty() && !Contains(sel.cluster_names, name)) {
    why.push_back("not in clusterSelector.clusterNames");
  }
  if (!sel.locations.empty() && !Contains(sel.locations, c.spec.location)) {
    why.push_back("location " + c.spec.location + " not in [" + Join(sel.locations, ",") + "]");
  }
  if (sel.label_selector) {
    auto s = apis::Selector::FromLabelSelector(*sel.label_selector);
    if (!s.ok()) {
      why.push_back("clusterSelector.labelSelector: " + s.status().message());
    } else if (!s->Matches(c.metadata.labels)) {
      why.push_back("labels do not match " + s->String());
    }
  }
}

// Rejections by the cluster's own state. `hard` ones exclude the cluster; `new_only` ones (cordon, a
// NoSchedule taint) only keep new placements away, as in Kubernetes: what already runs there stays.
// With `failover` (advanced placement) NotReady and NoExecute are FilterNoExecute's.
void FilterState(const v1::WorkloadPlacement& p, const v1::ClusterRegistration& c, bool failover,
                 std::vector<std::string>& hard, std::vector<std::string>& new_only) {
  if (c.metadata.deletion_timestamp.set) hard.push_back("being deleted");
  const apis::Condition* ready = apis::FindCondition(c.status.conditions, v1::kConditionReady);
  if (ready == nullptr) {
    hard.push_back("not probed yet");
  } else if (ready->status != "True" && !failover) {
    hard.push_back("NotReady (" + ready->reason + ")");
  }
  if (c.spec.unschedulable) new_only.push_back("unschedulable (cordoned)");
  std::string taint = UntoleratedTaint(c.spec.taints, p.spec.tolerations, "NoSchedule");
  if (!taint.empty()) new_only.push_back("tainted " + taint);
  taint = failover ? "" : UntoleratedTaint(c.spec.taints, p.spec.tolerations, "NoExecute");
  if (!taint.empty()) hard.push_back("tainted " + taint);
  for (const auto& r : p.spec.workload_selector.resources) {
    const bool accepted = std::any_of(c.status.synced_resources.begin(), c.status.synced_resources.end(),
                                      [&](const v1::SyncedResourceStatus& s) {
                                        return s.group == r.group && s.resource == r.resource && s.state == "Accepted";
                                      });
    if (!accepted) hard.push_back(r.resource + (r.group.empty() ? "" : "." + r.group) + " not supported");
  }
}

// Failover (advanced placement, engine/placement_failover.h): NotReady and NoExecute taints by the
// tolerations' seconds. A cluster in use stays while tolerated (or while its move waits for the budget)
// and is marked evicted beyond that; a cluster not in use takes no new placement while tainted. Only
// a cluster left for these reasons alone is a failover: one also deleted, deselected or no longer
// serving the kinds is left at once, as without the gate (its copies must not wait for a replacement).
void FilterNoExecute(const v1::WorkloadPlacement& p, const v1::ClusterRegistration& c, bool in_use,
                     const ScheduleOptions& o, TimePoint now, ClusterVerdict& v, std::vector<std::string>& hard,
                     std::vector<std::string>& new_only, ScheduleResult& r) {
  const auto t = NoExecuteTolerance(c, p.spec.tolerations, now, o.taint_time);
  if (!t) return;
  in_use = in_use && hard.empty();
  if (t->evict && in_use && o.hold.count(v.cluster) != 0) {
    new_only.push_back(t->message + "; the move waits for the workspace's failover budget");
    r.held.push_back(v.cluster);
  } else if (t->evict) {
    hard.push_back(t->message);
    if (in_use) {
      v.evict = t->reason;
      r.evicted[v.cluster] = {t->reason, t->message};
    }
  } else if (!t->ready || t->until) {
    new_only.push_back(t->message);  // tolerated by what is there, not offered to new placements
  }
  if (t->until && (!r.requeue_at || *t->until < *r.requeue_at)) r.requeue_at = t->until;
}

// Advanced placement: a cluster without a value for a spread constraint's topology key is in no group.
void FilterTopology(const std::vector<v1::SpreadConstraint>& constraints, const v1::ClusterRegistration& c,
                    std::vector<std::string>& why) {
  for (const auto& sc : constraints) {
    if (!TopologyValue(c, sc.topology_key)) why.push_back("no " + sc.topology_key + " (spreadConstraints)");
  }
}

std::string ConditionMessage(const ScheduleResult& r, const std::vector<std::string>& chosen) {
  std::string msg = std::to_string(r.wanted) + " wanted, " + std::to_string(r.feasible) + " feasible";
  if (!chosen.empty()) msg += ", chosen: " + Join(chosen, ", ");
  size_t listed = 0, rejected = 0;
  std::string reasons;
  for (const auto& v : r.verdicts) {
    if ((v.rejected.empty() && v.spread.empty()) || v.chosen) continue;  // a kept cordoned cluster is not "rejected"
    ++rejected;
    if (listed++ >= kMaxReasonsInMessage) continue;
    reasons += (reasons.empty() ? "" : "; ") + v.cluster + " " + (v.rejected.empty() ? v.spread : v.rejected.front());
  }
  if (!reasons.empty()) msg += "; rejected: " + reasons;
  if (rejected > kMaxReasonsInMessage) {
    msg += " (and " + std::to_string(rejected - kMaxReasonsInMessage) + " more: see the explain endpoint)";
  }
  return msg;
}

// The basic algorithm's order of preference: sticky first (still-feasible earlier choices, in name
// order), then the others from a rotation given by the placement's hash (only previous users may keep a
// cordoned cluster). Returns indexes into r.verdicts.
std::vector<size_t> RoundRobinOrder(const std::string& placement_id, const std::set<std::string>& previous,
                                    const std::vector<size_t>& feasible, const ScheduleResult& r) {
  std::vector<size_t> order;
  order.reserve(feasible.size());
  for (size_t i : feasible) {
    if (previous.count(r.verdicts[i].cluster) != 0) order.push_back(i);
  }
  const size_t offset = feasible.empty() ? 0 : Fnv1a(placement_id) % feasible.size();
  for (size_t k = 0; k < feasible.size(); ++k) {
    const size_t i = feasible[(offset + k) % feasible.size()];
    if (previous.count(r.verdicts[i].cluster) == 0 && r.verdicts[i].rejected.empty()) order.push_back(i);
  }
  return order;
}

// Advanced placement's capacity filter (engine/placement_capacity.h): a cluster that cannot hold what
// the placement needs after the others' reservations — or, when the need is not known, reports no free
// cpu or memory — takes no new placements (one that already has this placement keeps it, as with
// cordon). Returns how many clusters were left out for capacity alone.
size_t FilterCapacity(const std::vector<const v1::ClusterRegistration*>& sorted, const std::set<std::string>& previous,
                      const ScheduleOptions& o, ScheduleResult& r, std::vector<size_t>& feasible) {
  static const Resources kNone;
  if (o.demand != nullptr) r.need = o.demand->Need();
  std::vector<size_t> kept;
  size_t short_only = 0;
  for (size_t i : feasible) {
    auto& v = r.verdicts[i];
    const auto res = o.reserved.find(v.cluster);
    v.reserved = res == o.reserved.end() ? kNone : res->second;
    v.free = Free(*sorted[i], v.reserved);
    if (!r.need.empty()) {
      v.fits = PodsThatFit(v.free, o.demand->divided ? o.demand->largest_pod : o.demand->per_copy);
      v.shortfall = Shortfall(v.free, r.need);
    } else {
      for (const auto& [res_name, free] : v.free) {
        if (free <= 0) v.shortfall[res_name] = 0;  // nothing free, need unknown
      }
    }
    if (v.shortfall.empty() || previous.count(v.cluster) != 0) {
      kept.push_back(i);
      continue;
    }
    std::string why = r.need.empty() ? "no free " + v.shortfall.begin()->first
                                     : "insufficient capacity: short of " + Describe(v.shortfall) + " (needs " +
                                           Describe(r.need) + ", free " + Describe(v.free) + ")";
    if (!v.reserved.empty()) why += "; " + Describe(v.reserved) + " reserved by other placements";
    v.rejected.push_back(std::move(why));
    v.new_only = v.rejected.size() == 1;
    short_only += v.new_only ? 1 : 0;
  }
  feasible = std::move(kept);
  return short_only;
}

// Advanced placement: every feasible cluster scored and ranked, best first; ties go by the
// round-robin rotation. Returns indexes into r.verdicts.
std::vector<size_t> ScoreOrder(const v1::WorkloadPlacement& placement, const std::string& placement_id,
                               const std::vector<const v1::ClusterRegistration*>& sorted,
                               const std::set<std::string>& previous, const ScheduleOptions& options,
                               const std::vector<size_t>& feasible, ScheduleResult& r) {
  r.strategy = placement.spec.strategy.empty() ? "Spread" : placement.spec.strategy;
  r.weights = PlacementWeights(placement.spec);
  size_t max_load = 0;
  for (size_t i : feasible) {
    auto it = options.load.find(r.verdicts[i].cluster);
    if (it != options.load.end()) max_load = std::max(max_load, it->second);
  }
  for (size_t i : feasible) {
    auto& v = r.verdicts[i];
    auto it = options.load.find(v.cluster);
    ScoreContext ctx{previous.count(v.cluster) != 0, it == options.load.end() ? 0 : it->second, max_load, &v.reserved,
                     &v.free};
    v.scores = ScoreCluster(r.weights, placement.spec, *sorted[i], ctx);
    v.total = TotalScore(v.scores);
  }
  const size_t n = feasible.size();
  const size_t offset = n == 0 ? 0 : Fnv1a(placement_id) % n;
  std::vector<size_t> order(n);  // positions in `feasible`, best first
  for (size_t k = 0; k < n; ++k) order[k] = k;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const int64_t ta = r.verdicts[feasible[a]].total;
    const int64_t tb = r.verdicts[feasible[b]].total;
    if (ta != tb) return ta > tb;
    return (a + n - offset) % n < (b + n - offset) % n;
  });
  for (auto& k : order) k = feasible[k];
  return order;
}

// Marks the first `wanted` clusters of the order chosen; returns how many were.
size_t ChooseFirst(const std::vector<size_t>& order, const std::set<std::string>& previous, ScheduleResult& r) {
  size_t chosen = 0;
  for (size_t k = 0; k < order.size() && chosen < r.wanted; ++k, ++chosen) {
    auto& v = r.verdicts[order[k]];
    v.chosen = true;
    v.sticky = previous.count(v.cluster) != 0;
  }
  return chosen;
}

// Spread constraints choose among the ordered clusters (engine/placement_spread.h); returns how
// many were chosen and sets `why` to what could not be met.
size_t ChooseSpread(const v1::WorkloadPlacement& placement, const std::vector<const v1::ClusterRegistration*>& sorted,
                    const std::set<std::string>& previous, const std::vector<size_t>& order, ScheduleResult& r,
                    std::string& why) {
  const auto& constraints = placement.spec.spread_constraints;
  std::vector<std::vector<std::string>> groups(order.size());
  std::vector<bool> kept(order.size());
  for (size_t k = 0; k < order.size(); ++k) {
    for (const auto& c : constraints)
      groups[k].push_back(TopologyValue(*sorted[order[k]], c.topology_key).value_or(""));
    kept[k] = previous.count(r.verdicts[order[k]].cluster) != 0;
  }
  const bool explicit_wanted = placement.spec.number_of_clusters.has_value();
  SpreadChoice choice = engine::ChooseSpread(constraints, groups, kept, r.wanted, explicit_wanted);
  for (size_t k : choice.chosen) {
    auto& v = r.verdicts[order[k]];
    v.chosen = true;
    v.sticky = kept[k];
  }
  for (auto& [k, reason] : choice.left) r.verdicts[order[k]].spread = std::move(reason);
  r.spread = std::move(choice.outcomes);
  why = std::move(choice.message);
  if (!explicit_wanted && why.empty()) r.wanted = choice.chosen.size();  // as many as the spread allows
  return choice.chosen.size();
}

// Divided Dynamic: a kept cluster keeps the weight it was given, so that capacity moving does not
// re-divide every workload at each inventory; nullopt for Static (the spec decides), for new
// clusters, and after a spec change (the old weights may be Static ones).
std::optional<int64_t> KeptWeight(const v1::WorkloadPlacement& p, const std::string& cluster) {
  if (p.spec.replica_scheduling.weighting != "Dynamic") return std::nullopt;
  if (p.status.observed_generation != p.metadata.generation) return std::nullopt;
  for (const auto& d : p.status.decisions) {
    if (d.cluster_name == cluster && d.weight && *d.weight > 0) return d.weight;
  }
  return std::nullopt;
}

// Divided replicas: weights that give nothing to every chosen cluster divide evenly (never a
// workload scaled to zero by a typo); says so ("" when the weights stand).
std::string FixWeights(const v1::ReplicaScheduling& rs, std::vector<v1::ClusterDecision>& decisions) {
  int64_t sum = 0;
  for (const auto& d : decisions) sum += d.weight.value_or(0);
  if (sum > 0 || decisions.empty()) return "";
  for (auto& d : decisions) d.weight = 1;
  return rs.weighting == "Dynamic"
             ? "no chosen cluster reports room (available cpu, or replicas that fit): replicas divided evenly"
             : "replicaScheduling.weights give every chosen cluster 0: replicas divided evenly";
}

// The chosen verdicts as decisions (Divided: with weights; advanced: the overrides that apply to each);
// returns the chosen names.
std::vector<std::string> Decide(const v1::WorkloadPlacement& placement,
                                const std::vector<const v1::ClusterRegistration*>& sorted, bool advanced, bool divided,
                                ScheduleResult& r) {
  std::vector<std::string> names;
  const auto& rs = placement.spec.replica_scheduling;
  for (size_t i = 0; i < r.verdicts.size(); ++i) {
    const auto& v = r.verdicts[i];
    if (!v.chosen) continue;
    v1::ClusterDecision d;
    d.cluster_name = v.cluster;
    d.location = v.location;
    d.reason = r.strategy;
    d.score = static_cast<int32_t>(std::clamp<int64_t>(v.total, INT32_MIN, INT32_MAX));
    if (divided) {
      // Dynamic with known requests: the replicas of the largest pod that fit (capacity); else cpu.
      auto w = KeptWeight(placement, v.cluster);
      if (!w && rs.weighting == "Dynamic" && !r.need.empty() && v.fits >= 0) w = v.fits;
      d.weight = w.value_or(DivisionWeight(rs, *sorted[i]));
    }
    for (size_t k = 0; advanced && k < placement.spec.overrides.size(); ++k) {
      if (MatchesClusterSelector(placement.spec.overrides[k].cluster_selector, *sorted[i])) {
        r.verdicts[i].overrides.push_back(k);
      }
    }
    r.decisions.push_back(std::move(d));
    names.push_back(v.cluster);
  }
  return names;
}

// The Scheduled condition's status and reason.
void SetOutcome(ScheduleResult& r, bool no_clusters, size_t chosen, size_t short_of_capacity,
                const std::string& spread_failure) {
  r.condition_status = "False";
  if ((r.feasible == 0 || chosen < r.wanted) && short_of_capacity > 0) {
    r.condition_reason = "InsufficientCapacity";
  } else if (r.feasible == 0) {
    r.condition_reason = no_clusters ? "NoClusters" : "NoFeasibleClusters";
  } else if (!spread_failure.empty()) {
    r.condition_reason = "SpreadUnsatisfiable";
  } else if (chosen < r.wanted) {
    r.condition_reason = "InsufficientClusters";
  } else {
    r.condition_status = "True";
    r.condition_reason = "Scheduled";
  }
}

// A spec asking for what the engine does not do yet (kcp validated it, tmcd could not refuse it):
// acting on half of it could move or drop copies nobody asked to move, so the previous decisions
// stay and the Scheduled condition says why.
ScheduleResult KeepPrevious(const v1::WorkloadPlacement& placement, ScheduleResult r,
                            const std::vector<v1::UnimplementedField>& unimplemented) {
  std::set<std::string> previous;
  for (const auto& d : placement.status.decisions) previous.insert(d.cluster_name);
  for (auto& v : r.verdicts) v.chosen = v.sticky = previous.count(v.cluster) != 0;
  r.decisions = placement.status.decisions;
  std::vector<std::string> fields;
  fields.reserve(unimplemented.size());
  for (const auto& f : unimplemented) {
    fields.push_back(f.path + (f.value.empty() ? "" : " " + f.value) + " (" + f.detail + ")");
  }
  r.condition_status = "False";
  r.condition_reason = "Unsupported";
  r.condition_message = Join(fields, ", ") + ": previous decisions kept";
  return r;
}

}  // namespace

std::string UntoleratedTaint(const std::vector<v1::Taint>& taints, const std::vector<v1::Toleration>& tolerations,
                             std::string_view effect) {
  for (const auto& taint : taints) {
    if (taint.effect != effect) continue;
    const bool ok = std::any_of(tolerations.begin(), tolerations.end(),
                                [&](const v1::Toleration& t) { return Tolerates(t, taint); });
    if (!ok) return taint.key + (taint.value.empty() ? "" : "=" + taint.value) + ":" + taint.effect;
  }
  return "";
}

bool MatchesClusterSelector(const v1::ClusterSelector& sel, const v1::ClusterRegistration& c) {
  std::vector<std::string> why;
  FilterSelector(sel, c, why);
  return why.empty();
}

bool SelectsWorkload(const v1::WorkloadPlacement& placement, const std::string& group, const std::string& resource,
                     const std::map<std::string, std::string>& labels) {
  const auto& ws = placement.spec.workload_selector;
  const bool type_ok = std::any_of(ws.resources.begin(), ws.resources.end(), [&](const v1::GroupResource& r) {
    return r.group == group && r.resource == resource;
  });
  if (!type_ok || !ws.label_selector) return false;
  auto s = apis::Selector::FromLabelSelector(*ws.label_selector);
  return s.ok() && s->Matches(labels);
}

ScheduleResult Schedule(const v1::WorkloadPlacement& placement, const std::string& placement_id,
                        const std::vector<v1::ClusterRegistration>& clusters, const ScheduleOptions& options) {
  std::vector<const v1::ClusterRegistration*> ptrs;
  ptrs.reserve(clusters.size());
  for (const auto& c : clusters) ptrs.push_back(&c);
  return Schedule(placement, placement_id, std::move(ptrs), options);
}

ScheduleResult Schedule(const v1::WorkloadPlacement& placement, const std::string& placement_id,
                        std::vector<const v1::ClusterRegistration*> clusters, const ScheduleOptions& options) {
  ScheduleResult r;
  std::vector<const v1::ClusterRegistration*>& sorted = clusters;
  const auto by_name = [](const auto* a, const auto* b) { return a->metadata.name < b->metadata.name; };
  if (!std::is_sorted(sorted.begin(), sorted.end(), by_name)) std::sort(sorted.begin(), sorted.end(), by_name);
  r.verdicts.reserve(sorted.size());
  const TimePoint now = options.now == TimePoint{} ? std::chrono::system_clock::now() : options.now;
  std::set<std::string> previous;
  for (const auto& d : placement.status.decisions) previous.insert(d.cluster_name);
  std::vector<size_t> feasible;  // indexes into r.verdicts
  for (const auto* c : sorted) {
    ClusterVerdict v{c->metadata.name, c->spec.location, {}, false, false, false};
    std::vector<std::string> new_only;
    FilterSelector(placement.spec.cluster_selector, *c, v.rejected);
    FilterState(placement, *c, options.advanced, v.rejected, new_only);
    if (options.advanced) {
      FilterNoExecute(placement, *c, previous.count(v.cluster) != 0, options, now, v, v.rejected, new_only, r);
    }
    if (options.advanced) FilterTopology(placement.spec.spread_constraints, *c, v.rejected);
    v.new_only = v.rejected.empty() && !new_only.empty();
    v.rejected.insert(v.rejected.end(), new_only.begin(), new_only.end());
    // A cluster rejected only for new placements stays feasible for the placement that already uses it.
    if (v.rejected.empty() || (v.new_only && previous.count(v.cluster) != 0)) feasible.push_back(r.verdicts.size());
    r.verdicts.push_back(std::move(v));
  }
  const bool scored = options.advanced && placement.spec.strategy != "RoundRobin";
  r.short_of_capacity = scored || (options.advanced && options.demand != nullptr)
                            ? FilterCapacity(sorted, previous, options, r, feasible)
                            : 0;
  r.feasible = feasible.size();
  r.wanted = placement.spec.number_of_clusters ? static_cast<size_t>(*placement.spec.number_of_clusters) : r.feasible;
  const std::vector<size_t> order = scored ? ScoreOrder(placement, placement_id, sorted, previous, options, feasible, r)
                                           : RoundRobinOrder(placement_id, previous, feasible, r);
  std::string spread_failure;
  const size_t chosen = options.advanced && !placement.spec.spread_constraints.empty()
                            ? ChooseSpread(placement, sorted, previous, order, r, spread_failure)
                            : ChooseFirst(order, previous, r);
  if (auto unimplemented = v1::UnimplementedFields(placement.spec, options.advanced); !unimplemented.empty()) {
    return KeepPrevious(placement, std::move(r), unimplemented);
  }
  const auto& rs = placement.spec.replica_scheduling;
  const bool divided = options.advanced && rs.type == "Divided";
  const std::vector<std::string> names = Decide(placement, sorted, options.advanced, divided, r);
  const std::string division = divided ? FixWeights(rs, r.decisions) : "";
  SetOutcome(r, clusters.empty(), chosen, r.short_of_capacity, spread_failure);
  r.condition_message = ConditionMessage(r, names);
  if (!division.empty()) r.condition_message += "; " + division;
  if (!spread_failure.empty()) r.condition_message = spread_failure + "; " + r.condition_message;
  return r;
}

}  // namespace tmcd::engine
