#include "engine/placement.h"

#include <spdlog/spdlog.h>

#include "apis/meta/codec.h"
#include "apis/tmc/v1alpha1/register.h"
#include "common/config.h"
#include "common/strings.h"
#include "store/codec.h"

namespace tmcd::engine {
namespace {

using Json = nlohmann::json;
using apis::Time;

constexpr std::string_view kGroup = "tmc.kcp.io";
// Workload and SyncRecord changes only move counts and the Synced/Ready summary: they are gathered
// for this long, so that syncing N workloads costs a few placement reconciles, not N (each one
// reads every workload and record of the namespace).
constexpr std::chrono::milliseconds kCoalesce{500};

// Capacity amounts as Kubernetes quantities (cpu "1500m", memory "268435456").
Json Quantities(const Resources& r) {
  Json out = Json::object();
  for (const auto& [k, v] : r) out[k] = apis::Quantity::FromMilli(v).str();
  return out;
}

// Divided replicas: the split (decisionGeneration moves with it too).
std::map<std::string, int64_t> Weights(const std::vector<v1::ClusterDecision>& decisions) {
  std::map<std::string, int64_t> out;
  for (const auto& d : decisions) {
    if (d.weight) out[d.cluster_name] = *d.weight;
  }
  return out;
}

std::set<std::string> ClusterSet(const std::vector<v1::ClusterDecision>& d) {
  std::set<std::string> out;
  for (const auto& x : d) out.insert(x.cluster_name);
  return out;
}

// Synced and Ready from the SyncRecords that name this placement, per cluster.
struct CopySummary {
  size_t copies = 0, applied = 0, ready = 0;
  std::string first_problem;
};

// Capacity (engine/placement_capacity.h): which copies the cluster's inventory already counts — applied
// at least `settle` ago ("<cluster>|<group>/<resource>/<name>") — and when the next one will.
struct Settled {
  std::chrono::milliseconds settle{0};  // 0: not wanted
  TimePoint now{};
  std::set<std::string> copies;  // settled
  std::set<std::string> recent;  // applied within `settle`: the inventory may not count their Pods yet
  std::optional<TimePoint> next;
};

std::string WorkloadKeyOf(std::string_view group, std::string_view resource, std::string_view name) {
  return std::string(group) + "/" + std::string(resource) + "/" + std::string(name);
}

std::string_view Str(simdjson::dom::element e, std::string_view path) {
  std::string_view out;
  if (e.at_pointer(path).get(out) != simdjson::SUCCESS) return {};
  return out;
}

void NoteSettled(simdjson::dom::element record, const std::string& cluster, Settled& out) {
  auto synced = Time::Parse(Str(record, "/status/lastSyncTime"));
  const TimePoint at =
      (synced.ok() ? std::chrono::system_clock::from_time_t(synced->seconds) : TimePoint{}) + out.settle;
  std::string key = cluster + "|" +
                    WorkloadKeyOf(Str(record, "/spec/upstream/group"), Str(record, "/spec/upstream/resource"),
                                  Str(record, "/spec/upstream/name"));
  if (at <= out.now) {
    out.copies.insert(std::move(key));
    return;
  }
  out.recent.insert(std::move(key));
  if (!out.next || at < *out.next) out.next = at;
}

// Reads only what the summary needs, with simdjson: a reconcile scans every record of the
// namespace, and a full DOM per record was most of the controller's CPU with 1,000 workloads.
std::map<std::string, CopySummary> Summarize(store::Store& store, const std::string& ws, const std::string& ns,
                                             const std::string& placement, Settled* settled = nullptr) {
  std::map<std::string, CopySummary> out;
  auto list = store.List(store::NamespacePrefix(ws, kGroup, "syncrecords", ns), 0, "");
  if (!list.ok()) return out;
  auto& parser = apis::detail::ThreadParser();
  for (const auto& [key, o] : list->items) {
    auto doc = apis::detail::ParseJson(o.json, parser);
    if (!doc.ok() || Str(*doc, "/spec/placementName") != placement) continue;
    const std::string_view phase = Str(*doc, "/status/phase");
    const std::string cluster(Str(*doc, "/spec/clusterName"));
    if (phase == "Deleting" && settled != nullptr) NoteSettled(*doc, cluster, *settled);  // its Pods still run
    if (phase == "Orphaned" || phase == "Deleting") continue;
    CopySummary& s = out[cluster];
    ++s.copies;
    if (phase == "Applied") {
      ++s.applied;
      if (settled != nullptr) NoteSettled(*doc, cluster, *settled);
    } else if (s.first_problem.empty()) {
      const std::string_view err = Str(*doc, "/status/lastError");
      s.first_problem = cluster + ": " + std::string(err.empty() ? phase : err);
    }
    simdjson::dom::array conds;
    if (doc->at_pointer("/status/conditions").get(conds) != simdjson::SUCCESS) continue;
    for (auto c : conds) {
      if (Str(c, "/type") == "Ready" && Str(c, "/status") == "True") ++s.ready;
    }
  }
  return out;
}

// The placement's copies, but those on clusters being left (failover): they are not what it wants.
CopySummary Total(const std::map<std::string, CopySummary>& by_cluster,
                  const std::vector<v1::ClusterEviction>& evictions) {
  CopySummary t;
  for (const auto& [name, s] : by_cluster) {
    const std::string& cluster = name;
    const bool leaving = std::any_of(evictions.begin(), evictions.end(),
                                     [&](const v1::ClusterEviction& e) { return e.cluster_name == cluster; });
    if (leaving) continue;
    t.copies += s.copies;
    t.applied += s.applied;
    t.ready += s.ready;
    if (t.first_problem.empty()) t.first_problem = s.first_problem;
  }
  return t;
}

// Workloads of one selected resource in (ws, ns) that the placement selects, reading only labels; with
// `demand` (capacity), also what each one's pods request (key: group/resource/name).
int32_t SelectWorkloads(store::Store& store, const std::string& ws, const std::string& ns,
                        const v1::WorkloadPlacement& p, const v1::GroupResource& gr, const DemandFn* demand,
                        std::map<std::string, WorkloadDemand>& out) {
  auto list = store.List(store::NamespacePrefix(ws, gr.group, gr.resource, ns), 0, "");
  if (!list.ok()) return 0;
  auto& parser = apis::detail::ThreadParser();
  int32_t n = 0;
  for (const auto& [key, o] : list->items) {
    auto doc = apis::detail::ParseJson(o.json, parser);
    if (!doc.ok()) continue;
    std::map<std::string, std::string> labels;
    simdjson::dom::object obj;
    if (doc->at_pointer("/metadata/labels").get(obj) == simdjson::SUCCESS) {
      for (auto field : obj) {
        std::string_view v;
        if (field.value.get(v) == simdjson::SUCCESS) labels.emplace(std::string(field.key), std::string(v));
      }
    }
    if (!SelectsWorkload(p, gr.group, gr.resource, labels)) continue;
    ++n;
    if (demand == nullptr) continue;
    const Json full = Json::parse(o.json, nullptr, false);
    if (auto d = full.is_discarded() ? std::nullopt : (*demand)(ws, gr, full)) {
      out[WorkloadKeyOf(gr.group, gr.resource, std::string(Str(*doc, "/metadata/name")))] = *d;
    }
  }
  return n;
}

int32_t SelectWorkloads(store::Store& store, const std::string& ws, const std::string& ns,
                        const v1::WorkloadPlacement& p, const DemandFn* demand,
                        std::map<std::string, WorkloadDemand>& out) {
  int32_t n = 0;
  for (const auto& gr : p.spec.workload_selector.resources) n += SelectWorkloads(store, ws, ns, p, gr, demand, out);
  return n;
}

// The schedule's decisions and Scheduled condition into `st`; returns whether the chosen set or the
// weights moved (decisionGeneration and lastScheduleTime move with them).
bool SetDecisions(v1::WorkloadPlacementStatus& st, const ScheduleResult& r, int64_t gen, const Time& t) {
  const bool moved =
      ClusterSet(r.decisions) != ClusterSet(st.decisions) || Weights(r.decisions) != Weights(st.decisions);
  if (moved) {
    ++st.decision_generation;
    st.last_schedule_time = t;
  }
  st.decisions = r.decisions;
  st.observed_generation = gen;
  apis::SetCondition(
      st.conditions,
      apis::MakeCondition(v1::kConditionScheduled, r.condition_status, r.condition_reason, r.condition_message, gen),
      t);
  return moved;
}

void SetSummaryConditions(v1::WorkloadPlacementStatus& st, const CopySummary& s, bool scheduled, int64_t gen,
                          const Time& t) {
  const std::string counts = std::to_string(s.applied) + "/" + std::to_string(s.copies) + " copies applied";
  if (s.copies == 0) {
    apis::SetCondition(st.conditions,
                       apis::MakeCondition(v1::kConditionSynced, "True", "NothingToSync", "no copies to apply", gen),
                       t);
  } else if (s.applied == s.copies) {
    apis::SetCondition(st.conditions, apis::MakeCondition(v1::kConditionSynced, "True", "Synced", counts, gen), t);
  } else {
    apis::SetCondition(
        st.conditions,
        apis::MakeCondition(v1::kConditionSynced, "False", "SyncPending", counts + "; " + s.first_problem, gen), t);
  }
  const bool ready = scheduled && s.applied == s.copies && s.ready == s.copies;
  const std::string msg = std::to_string(s.ready) + "/" + std::to_string(s.copies) + " copies ready";
  apis::SetCondition(
      st.conditions,
      apis::MakeCondition(v1::kConditionReady, ready ? "True" : "False", ready ? "Ready" : "NotReady", msg, gen), t);
}

// Failover's condition: a move waiting for the budget, moves under way, or none.
void SetEvictingCondition(v1::WorkloadPlacementStatus& st, const std::vector<std::string>& held,
                          const FailoverOptions& f, int64_t gen, const Time& t) {
  std::string status = "False", reason = "NoEvictions", msg = "no copies are being moved";
  if (!held.empty()) {
    status = "True";
    reason = "FailoverRateLimited";
    msg = "leaving " + Join(held, ", ") + " waits for the workspace's failover budget (" + std::to_string(f.max_moves) +
          " moves per " + FormatDuration(f.interval) + ")";
  }
  for (const auto& e : st.evictions) {
    status = "True";
    if (reason == "NoEvictions") {
      reason = "MovingCopies";
      msg.clear();
    }
    msg += (msg.empty() ? "" : "; ") + std::string("leaving ") + e.cluster_name + " (" + e.message +
           "): its copies stay until the chosen clusters hold Ready copies, at most " + FormatDuration(f.grace_period) +
           " from " + e.start_time.ToString();
  }
  apis::SetCondition(st.conditions, apis::MakeCondition(v1::kConditionEvicting, status, reason, msg, gen), t);
}

}  // namespace

PlacementController::PlacementController(upstream::Upstream& upstream, store::Store& store, const Clock& clock,
                                         prometheus::Registry& registry, std::vector<v1::GroupResource> workload_kinds,
                                         bool advanced, int workers, FailoverOptions failover)
    : upstream_(upstream),
      store_(store),
      clock_(clock),
      workers_(workers),
      advanced_(advanced),
      workload_kinds_(std::move(workload_kinds)),
      decisions_(prometheus::BuildCounter()
                     .Name("tmcd_placement_decisions_total")
                     .Help("Placement decision changes (the chosen cluster set changed), by result.")
                     .Register(registry)),
      evictions_(prometheus::BuildCounter()
                     .Name("tmcd_placement_evictions_total")
                     .Help("Failover: placements that began leaving a cluster (by reason), or whose move waited for "
                           "the workspace's budget (result=held).")
                     .Register(registry)),
      placements_(
          prometheus::BuildGauge()
              .Name("tmcd_placements")
              .Help("WorkloadPlacements by their Scheduled condition: status (True, False, Unknown) and reason.")
              .Register(registry)),
      failover_(failover),
      budget_(failover.max_moves, failover.interval) {}

void PlacementController::Register(Manager& m) {
  controller_ = &m.Add(std::make_unique<Controller>(
      "placement", clock_, [this](const std::string& key) { return Reconcile(key); }, workers_));
  // New generations, creations and deletions; not the controller's own status writes.
  m.AddSource(std::make_unique<StoreSource>(store_, std::string(kGroup), "workloadplacements",
                                            [this](const store::ObjectKey& k, const std::string& json) {
                                              const std::string key = KeyFor(k.workspace, k.namespace_, k.name);
                                              if (!generations_.Changed(key, json)) return;
                                              controller_->queue().Add(key);
                                            }));
  m.AddSource(std::make_unique<StoreSource>(
      store_, std::string(kGroup), "clusterregistrations",
      [this](const store::ObjectKey& k, const std::string&) { QueueAll(k.workspace, ""); }));
  for (const auto& gr : workload_kinds_) {  // selected-workload counts
    m.AddSource(std::make_unique<StoreSource>(
        store_, gr.group, gr.resource,
        [this](const store::ObjectKey& k, const std::string&) { QueueAll(k.workspace, k.namespace_, kCoalesce); }));
  }
  m.AddSource(std::make_unique<StoreSource>(
      store_, std::string(kGroup), "syncrecords", [this](const store::ObjectKey& k, const std::string& json) {
        const Json r = Json::parse(json.empty() ? "{}" : json, nullptr, false);
        const std::string placement = r.is_object() ? r.value("spec", Json::object()).value("placementName", "") : "";
        if (placement.empty()) return QueueAll(k.workspace, k.namespace_, kCoalesce);  // deleted: placement unknown
        controller_->queue().AddAfter(KeyFor(k.workspace, k.namespace_, placement), kCoalesce);
      }));
}

void PlacementController::QueueAll(const std::string& workspace, const std::string& ns,
                                   std::chrono::milliseconds delay) {
  // Names only, from the store's keys: this runs for every workload event of the namespace, and
  // parsing every placement there (their decisions included) each time showed in profiles.
  const std::string prefix = ns.empty() ? store::ResourcePrefix(workspace, kGroup, "workloadplacements")
                                        : store::NamespacePrefix(workspace, kGroup, "workloadplacements", ns);
  auto list = store_.List(prefix, 0, "");
  if (!list.ok()) return;
  for (const auto& [raw, o] : list->items) {
    auto k = store::DecodeKey(raw);
    if (!k.ok()) continue;
    const std::string key = KeyFor(workspace, k->namespace_, k->name);
    if (delay.count() > 0) {
      controller_->queue().AddAfter(key, delay);
    } else {
      controller_->queue().Add(key);
    }
  }
}

Result<std::vector<const v1::ClusterRegistration*>> PlacementController::Clusters(
    const std::string& workspace, std::vector<std::shared_ptr<const v1::ClusterRegistration>>& hold) const {
  TMCD_ASSIGN_OR_RETURN(hold, upstream_.ListTyped<v1::ClusterRegistration>(workspace, "", clusters_));
  std::vector<const v1::ClusterRegistration*> out;
  out.reserve(hold.size());
  for (const auto& c : hold) out.push_back(c.get());
  return out;
}

Result<std::map<std::string, size_t>> PlacementController::Load(const std::string& workspace,
                                                                const std::string& self) const {
  if (!advanced_) return std::map<std::string, size_t>{};
  std::lock_guard<std::mutex> lock(load_mu_);
  auto it = load_.find(workspace);
  if (it == load_.end()) {  // first use: every placement's stored decisions
    TMCD_ASSIGN_OR_RETURN(auto placements, upstream_.ListTyped<v1::WorkloadPlacement>(workspace, ""));
    LoadIndex index;
    for (const auto& p : placements) {
      auto& mine = index.chosen[p.metadata.namespace_ + "/" + p.metadata.name];
      for (const auto& d : p.status.decisions) {
        if (mine.insert(d.cluster_name).second) ++index.per_cluster[d.cluster_name];
      }
    }
    it = load_.emplace(workspace, std::move(index)).first;
  }
  std::map<std::string, size_t> load = it->second.per_cluster;
  if (auto mine = it->second.chosen.find(self); mine != it->second.chosen.end()) {
    for (const auto& c : mine->second) {
      if (--load[c] == 0) load.erase(c);
    }
  }
  return load;
}

void PlacementController::RecordLoad(const std::string& workspace, const std::string& self,
                                     std::set<std::string> clusters) {
  if (!advanced_) return;
  std::lock_guard<std::mutex> lock(load_mu_);
  auto it = load_.find(workspace);
  if (it == load_.end()) return;  // seeded from the store on first use
  auto& index = it->second;
  auto& mine = index.chosen[self];
  for (const auto& c : mine) {
    if (--index.per_cluster[c] == 0) index.per_cluster.erase(c);
  }
  for (const auto& c : clusters) ++index.per_cluster[c];
  mine = std::move(clusters);
  if (mine.empty()) index.chosen.erase(self);
}

void PlacementController::SetCapacity(DemandFn demand, std::chrono::milliseconds settle) {
  demand_ = std::move(demand);
  settle_ = settle;
}

int32_t PlacementController::Select(const std::string& workspace, const v1::WorkloadPlacement& p,
                                    std::map<std::string, WorkloadDemand>& demand) const {
  const DemandFn* fn = advanced_ && demand_ ? &demand_ : nullptr;
  return SelectWorkloads(store_, workspace, p.metadata.namespace_, p, fn, demand);
}

Result<ScheduleResult> PlacementController::Compute(const std::string& workspace,
                                                    const v1::WorkloadPlacement& p) const {
  std::vector<std::shared_ptr<const v1::ClusterRegistration>> hold;
  TMCD_ASSIGN_OR_RETURN(auto clusters, Clusters(workspace, hold));
  ScheduleOptions options{advanced_, {}};
  const std::string self = p.metadata.namespace_ + "/" + p.metadata.name;
  TMCD_ASSIGN_OR_RETURN(options.load, Load(workspace, self));
  std::map<std::string, WorkloadDemand> workloads;
  Select(workspace, p, workloads);
  const PlacementDemand demand = Combine(workloads, p.spec.replica_scheduling.type == "Divided");
  if (demand.workloads > 0) options.demand = &demand;
  options.reserved = reservations_.Others(workspace, self);
  options.now = clock_.Now();
  options.taint_time = TaintTime(workspace);
  return Schedule(p, workspace + "/" + p.metadata.namespace_ + "/" + p.metadata.name, std::move(clusters), options);
}

std::mutex& PlacementController::WorkspaceLock(const std::string& workspace) {
  std::lock_guard<std::mutex> lock(load_mu_);
  return workspace_locks_[workspace];
}

TaintClock PlacementController::TaintTime(const std::string& workspace) const {
  return [this, workspace](const std::string& cluster, const v1::Taint& t) {
    const std::string key = workspace + "/" + cluster + "/" + t.key + "=" + t.value + ":" + t.effect;
    std::lock_guard<std::mutex> lock(taint_mu_);
    return taint_seen_.try_emplace(key, clock_.Now()).first->second;
  };
}

ScheduleResult PlacementController::ScheduleWithBudget(const std::string& workspace, const v1::WorkloadPlacement& p,
                                                       const std::string& id,
                                                       const std::vector<const v1::ClusterRegistration*>& clusters,
                                                       ScheduleOptions options) {
  options.now = clock_.Now();
  options.taint_time = TaintTime(workspace);
  ScheduleResult r = Schedule(p, id, clusters, options);
  if (!advanced_ || r.evicted.empty()) return r;
  for (const auto& [cluster, why] : r.evicted) {
    if (!budget_.Take(workspace, id + "/" + cluster, options.now)) options.hold.insert(cluster);
  }
  return options.hold.empty() ? r : Schedule(p, id, clusters, options);
}

std::optional<TimePoint> PlacementController::Failover(const ScheduleResult& r,
                                                       const std::vector<const v1::ClusterRegistration*>& clusters,
                                                       const std::string& workspace, const std::string& id,
                                                       const EvictionProgress& progress,
                                                       v1::WorkloadPlacementStatus& st, int64_t gen,
                                                       std::vector<v1::ClusterEviction>& fresh) const {
  const TimePoint now = clock_.Now();
  std::vector<std::string> names, finished;
  names.reserve(clusters.size());
  for (const auto* c : clusters) names.push_back(c->metadata.name);
  const auto before = st.evictions;
  st.evictions =
      UpdateEvictions(before, r.evicted, r.decisions, names, progress, now, failover_.grace_period, finished);
  for (const auto& f : finished) spdlog::info("placement {}: failover: {}", id, f);
  fresh.clear();
  for (const auto& e : st.evictions) {
    const bool known = std::any_of(before.begin(), before.end(),
                                   [&](const v1::ClusterEviction& b) { return b.cluster_name == e.cluster_name; });
    if (!known) fresh.push_back(e);
  }
  SetEvictingCondition(st, r.held, failover_, gen, Time::FromTimePoint(now));
  std::optional<TimePoint> next = r.requeue_at;
  auto sooner = [&](TimePoint tp) {
    if (!next || tp < *next) next = tp;
  };
  for (const auto& e : st.evictions) {
    sooner(TimePoint(std::chrono::seconds(e.start_time.seconds)) + failover_.grace_period);
  }
  if (!r.held.empty()) sooner(budget_.NextFree(workspace, now));
  return next;
}

std::vector<std::string> PlacementController::Waiting(const std::string& workspace, const std::string& self,
                                                      bool short_now, bool freed) {
  std::lock_guard<std::mutex> lock(load_mu_);
  auto& waiting = waiting_[workspace];
  if (short_now) {
    waiting.insert(self);
  } else {
    waiting.erase(self);
  }
  std::vector<std::string> out;
  if (!freed) return out;
  for (const auto& w : waiting) {
    const auto slash = w.find('/');
    if (w != self) out.push_back(KeyFor(workspace, w.substr(0, slash), w.substr(slash + 1)));
  }
  return out;
}

ReconcileResult PlacementController::Forget(const std::string& workspace, const std::string& self,
                                            const std::string& id) {
  Track(id, "", "");
  RecordLoad(workspace, self, {});
  for (const auto& k : Waiting(workspace, self, false, reservations_.Set(workspace, self, {}))) {
    controller_->queue().AddAfter(k, kCoalesce);
  }
  return ReconcileResult{};
}

void PlacementController::Track(const std::string& id, const std::string& status, const std::string& reason) {
  std::lock_guard<std::mutex> lock(track_mu_);
  auto it = tracked_.find(id);
  if (it != tracked_.end()) {
    if (it->second == std::make_pair(status, reason)) return;
    placements_.Add({{"status", it->second.first}, {"reason", it->second.second}}).Decrement();
    tracked_.erase(it);
  }
  if (status.empty()) return;
  placements_.Add({{"status", status}, {"reason", reason}}).Increment();
  tracked_.emplace(id, std::make_pair(status, reason));
}

void PlacementController::Report(const std::string& id, const v1::WorkloadPlacementStatus& st,
                                 const std::vector<v1::ClusterEviction>& fresh, size_t held, const std::string& moved) {
  const apis::Condition* scheduled = apis::FindCondition(st.conditions, v1::kConditionScheduled);
  Track(id, scheduled != nullptr ? scheduled->status : "Unknown", scheduled != nullptr ? scheduled->reason : "");
  for (const auto& e : fresh) {
    evictions_.Add({{"reason", e.reason}, {"result", "evicted"}}).Increment();
    spdlog::info("placement {}: failover: leaving {} ({}); its copies stay until the new ones are Ready", id,
                 e.cluster_name, e.message);
  }
  if (held > 0) {
    evictions_.Add({{"reason", "FailoverRateLimited"}, {"result", "held"}}).Increment(static_cast<double>(held));
  }
  if (moved.empty()) return;
  decisions_.Add({{"result", moved}}).Increment();
  std::string s;
  for (const auto& d : st.decisions) s += (s.empty() ? "" : ", ") + d.cluster_name;
  spdlog::info("placement {}: decisions now [{}]", id, s);
}

void PlacementController::Announce(const upstream::ObjectRef& ref, const v1::WorkloadPlacement& written,
                                   const std::vector<apis::Condition>& before,
                                   const std::vector<v1::ClusterEviction>& fresh, bool moved) {
  if (recorder_ == nullptr) return;
  const InvolvedObject obj{ref.workspace,
                           "tmc.kcp.io/v1alpha1",
                           "WorkloadPlacement",
                           ref.namespace_,
                           ref.name,
                           written.metadata.uid,
                           written.metadata.resource_version};
  const auto& st = written.status;
  const bool scheduled = apis::IsConditionTrue(st.conditions, v1::kConditionScheduled);
  if (scheduled && moved) {
    std::string clusters;
    for (const auto& d : st.decisions) clusters += (clusters.empty() ? "" : ", ") + d.cluster_name;
    recorder_->Record(obj, EventType::kNormal, "Scheduled",
                      "chose " + (clusters.empty() ? std::string("no cluster") : clusters) + " (decision generation " +
                          std::to_string(st.decision_generation) + ")");
  } else if (!scheduled) {
    recorder_->RecordTransition(obj, before, st.conditions, std::string(v1::kConditionScheduled), "True", "Scheduled");
  }
  for (const auto& e : fresh) {
    recorder_->Record(obj, EventType::kWarning, "Evicting",
                      "leaving cluster " + e.cluster_name + " (" + e.reason + ": " + e.message +
                          "); its copies stay until the new ones are Ready");
  }
}

Result<ReconcileResult> PlacementController::Reconcile(const std::string& key) {
  const auto bar = key.find('|');
  const auto slash = key.find('/', bar);
  if (bar == std::string::npos || slash == std::string::npos) return ReconcileResult{};
  const upstream::ObjectRef ref{
      key.substr(0, bar),   std::string(kGroup), "v1alpha1", "workloadplacements", key.substr(bar + 1, slash - bar - 1),
      key.substr(slash + 1)};
  std::vector<std::shared_ptr<const v1::ClusterRegistration>> hold;
  TMCD_ASSIGN_OR_RETURN(auto clusters, Clusters(ref.workspace, hold));
  // Advanced placement: one reconcile per workspace at a time (load read to decisions recorded), so Balance
  // sees the others' latest choices (two workers reading old decisions flip-flopped when a cluster joined).
  std::unique_lock<std::mutex> serial;
  if (advanced_) serial = std::unique_lock<std::mutex>(WorkspaceLock(ref.workspace));
  const std::string self = ref.namespace_ + "/" + ref.name;
  ScheduleOptions options{advanced_, {}};
  TMCD_ASSIGN_OR_RETURN(options.load, Load(ref.workspace, self));
  options.reserved = reservations_.Others(ref.workspace, self);
  const std::string id = ref.workspace + "/" + ref.namespace_ + "/" + ref.name;
  std::map<std::string, Resources> reserve;  // capacity: what this placement's unreported copies hold
  bool moved = false;
  std::string outcome;
  std::optional<TimePoint> again;
  std::vector<v1::ClusterEviction> fresh;
  std::vector<std::string> held;
  std::vector<apis::Condition> before;  // for the events
  bool short_now = false;
  auto written = upstream_.MutateStatus<v1::WorkloadPlacement>(ref, [&](v1::WorkloadPlacement& p) -> Result<bool> {
    again.reset();  // a conflict runs this again
    if (p.metadata.deletion_timestamp.set) return false;
    const int64_t gen = p.metadata.generation;
    const Time t = Time::FromTimePoint(clock_.Now());
    std::map<std::string, WorkloadDemand> workloads;
    const int32_t selected = Select(ref.workspace, p, workloads);
    const bool divided = advanced_ && p.spec.replica_scheduling.type == "Divided";
    const PlacementDemand demand = Combine(workloads, divided);
    ScheduleOptions o = options;
    if (demand.workloads > 0) o.demand = &demand;
    const ScheduleResult r = ScheduleWithBudget(ref.workspace, p, id, clusters, std::move(o));
    v1::WorkloadPlacementStatus st = p.status;
    moved = SetDecisions(st, r, gen, t);
    st.selected_workloads = selected;
    Settled settled{settle_, clock_.Now(), {}, {}, std::nullopt};
    const auto copies = Summarize(store_, ref.workspace, ref.namespace_, ref.name, &settled);
    reserve = Reservations(workloads, r.decisions, p.spec.replica_scheduling, divided, settled.copies, settled.recent);
    if (!reserve.empty() && settled.next && (!again || *settled.next < *again)) again = settled.next;
    if (advanced_) {
      EvictionProgress progress{{}, static_cast<size_t>(st.selected_workloads)};
      for (const auto& [cluster, c] : copies) progress.ready_on[cluster] = c.ready;
      if (auto f = Failover(r, clusters, ref.workspace, id, progress, st, gen, fresh); f && (!again || *f < *again)) {
        again = f;
      }
      held = r.held;
    }
    SetSummaryConditions(st, Total(copies, st.evictions), r.condition_status == "True", gen, t);
    outcome = r.condition_reason;
    short_now = r.short_of_capacity > 0;
    before = p.status.conditions;
    if (st == p.status) return false;
    p.status = std::move(st);
    return true;
  });
  if (!written.ok() && written.status().reason() == Reason::kNotFound) return Forget(ref.workspace, self, id);
  TMCD_TRY(written.status());
  RecordLoad(ref.workspace, self, ClusterSet(written->status.decisions));
  // Capacity freed here may let another placement in (nothing else would requeue it: the cluster's
  // inventory need not change when copies that never ran go away).
  // Only the placements waiting for room are queued: settling copies shrink reservations all the time.
  const bool freed = reservations_.Set(ref.workspace, self, std::move(reserve));
  for (const auto& k : Waiting(ref.workspace, self, short_now, freed)) controller_->queue().AddAfter(k, kCoalesce);
  Report(id, written->status, fresh, held.size(), moved ? outcome : "");
  Announce(ref, *written, before, fresh, moved);
  if (!again) return ReconcileResult{};
  const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(*again - clock_.Now());
  return ReconcileResult{std::max(wait, std::chrono::milliseconds(1000))};
}

Result<nlohmann::json> PlacementController::Explain(const std::string& workspace, const std::string& ns,
                                                    const std::string& name) const {
  TMCD_ASSIGN_OR_RETURN(auto p, upstream_.GetTyped<v1::WorkloadPlacement>(
                                    {workspace, std::string(kGroup), "v1alpha1", "workloadplacements", ns, name}));
  TMCD_ASSIGN_OR_RETURN(auto r, Compute(workspace, p));
  return Render(workspace, p, r);
}

Result<nlohmann::json> PlacementController::ExplainCandidate(const std::string& workspace, const std::string& ns,
                                                             const nlohmann::json& obj) const {
  TMCD_ASSIGN_OR_RETURN(auto candidate, v1::DecodeStored<v1::WorkloadPlacement>(obj.dump()));
  auto stored = upstream_.GetTyped<v1::WorkloadPlacement>(
      {workspace, std::string(kGroup), "v1alpha1", "workloadplacements", ns, candidate.metadata.name});
  if (!stored.ok() && stored.status().reason() != Reason::kNotFound) return stored.status();
  candidate.status = stored.ok() ? stored->status : v1::WorkloadPlacementStatus{};
  TMCD_ASSIGN_OR_RETURN(auto r, Compute(workspace, candidate));
  Json out = Render(workspace, candidate, r);
  out["dryRun"] = true;
  out["stored"] = stored.ok();
  return out;
}

Json PlacementController::Render(const std::string& workspace, const v1::WorkloadPlacement& p,
                                 const ScheduleResult& r) {
  const std::string& ns = p.metadata.namespace_;
  const std::string& name = p.metadata.name;
  Json clusters = Json::array();
  for (const auto& v : r.verdicts) {
    Json c = {{"name", v.cluster}, {"location", v.location}, {"feasible", v.rejected.empty()}, {"chosen", v.chosen},
              {"kept", v.sticky},  {"rejected", v.rejected}, {"newPlacementsOnly", v.new_only}};
    if (!r.weights.empty() && !v.scores.empty()) {  // advanced placement: each plugin's score and weight
      Json scores = Json::object();
      for (const auto& s : v.scores) scores[s.plugin] = {{"score", s.score}, {"weight", s.weight}};
      c["scores"] = std::move(scores);
      c["total"] = v.total;
    }
    if (!v.spread.empty()) c["spread"] = v.spread;
    if (!v.overrides.empty()) c["overrides"] = v.overrides;  // indexes into spec.overrides
    if (!v.evict.empty()) c["evict"] = v.evict;              // failover: leaves beyond its toleration
    if (!v.free.empty() || !v.reserved.empty()) {            // capacity, in Kubernetes quantities
      Json cap = {{"free", Quantities(v.free)}, {"reservedByOthers", Quantities(v.reserved)}};
      if (!r.need.empty()) cap["shortfall"] = Quantities(v.shortfall);
      if (v.fits >= 0) cap["fits"] = v.fits;
      c["capacity"] = std::move(cap);
    }
    clusters.push_back(std::move(c));
  }
  Json spread = Json::array();
  for (const auto& o : r.spread) {
    Json groups = Json::object();
    for (const auto& [g, n] : o.feasible) groups[g] = {{"chosen", o.chosen.at(g)}, {"feasible", n}};
    spread.push_back({{"topologyKey", o.topology_key},
                      {"maxSkew", o.max_skew},
                      {"minGroups", o.min_groups},
                      {"groups", std::move(groups)},
                      {"skew", o.skew},
                      {"satisfied", o.satisfied}});
  }
  return Json{
      {"kind", "PlacementExplanation"},
      {"apiVersion", "tmc.kcp.io/v1alpha1"},
      {"placement", {{"workspace", workspace}, {"namespace", ns}, {"name", name}}},
      {"strategy", r.strategy},
      {"weights", r.weights},
      {"wanted", r.wanted},
      {"feasible", r.feasible},
      {"spreadConstraints", spread},
      {"needs", Quantities(r.need)},
      {"scheduled", {{"status", r.condition_status}, {"reason", r.condition_reason}, {"message", r.condition_message}}},
      {"clusters", clusters}};
}

}  // namespace tmcd::engine
