// The event half of the syncer: which store changes requeue which workloads.
#include <spdlog/spdlog.h>

#include "apis/tmc/v1alpha1/register.h"
#include "common/strings.h"
#include "sync/syncer.h"

namespace tmcd::sync {
namespace {

constexpr std::string_view kTmcGroup = "tmc.kcp.io";

std::string GroupResource(const std::string& group, const std::string& resource) {
  return group.empty() ? resource : resource + "." + group;
}

}  // namespace

std::string WorkloadKey::String() const {
  return workspace + "|" + GroupResource(group, resource) + "|" + namespace_ + "/" + name;
}

std::optional<WorkloadKey> WorkloadKey::Parse(const std::string& key) {
  const auto bar1 = key.find('|');
  const auto bar2 = bar1 == std::string::npos ? bar1 : key.find('|', bar1 + 1);
  const auto slash = bar2 == std::string::npos ? bar2 : key.find('/', bar2);
  if (slash == std::string::npos) return std::nullopt;
  WorkloadKey k;
  k.workspace = key.substr(0, bar1);
  const std::string gr = key.substr(bar1 + 1, bar2 - bar1 - 1);
  const auto dot = gr.find('.');
  k.resource = gr.substr(0, dot);
  k.group = dot == std::string::npos ? "" : gr.substr(dot + 1);
  k.namespace_ = key.substr(bar2 + 1, slash - bar2 - 1);
  k.name = key.substr(slash + 1);
  return k;
}

void Syncer::Register(engine::Manager& m) {
  controller_ = &m.Add(std::make_unique<engine::Controller>(
      "sync", clock_, [this](const std::string& key) { return Reconcile(key); }, options_.workers));
  for (const auto& rules : options_.kinds) {
    m.AddSource(std::make_unique<engine::StoreSource>(
        store_, rules.group, rules.resource,
        [this, &rules](const store::ObjectKey& k, const std::string& json) { OnWorkloadEvent(rules, k, json); }));
  }
  m.AddSource(std::make_unique<engine::StoreSource>(
      store_, std::string(kTmcGroup), "resourceinterpreters",
      [this](const store::ObjectKey& k, const std::string& json) { OnInterpreterEvent(k, json); }));
  m.AddSource(std::make_unique<engine::StoreSource>(  // custom resources of some workspace's interpreter
      store_, "*", "*", [this](const store::ObjectKey& k, const std::string& json) {
        if (RulesPtr rules = custom_.Find(k.workspace, k.group, k.resource)) OnWorkloadEvent(*rules, k, json);
      }));
  m.AddSource(std::make_unique<engine::StoreSource>(
      store_, std::string(kTmcGroup), "workloadplacements",
      [this](const store::ObjectKey& k, const std::string& json) { OnPlacementEvent(k, json); }));
  m.AddSource(std::make_unique<engine::StoreSource>(
      store_, std::string(kTmcGroup), "syncrecords", [this](const store::ObjectKey& k, const std::string& json) {
        if (json.empty()) return;
        auto r = v1::DecodeStored<v1::SyncRecord>(json);
        if (!r.ok()) return;
        const auto& u = r->spec.upstream;
        controller_->queue().Add(WorkloadKey{k.workspace, u.group, u.resource, k.namespace_, u.name}.String());
      }));
  // A cluster that becomes Ready again gets its pending copies retried now, not after the backoff.
  // A registration being deleted gets its copies removed (or forgotten, when it cannot be reached);
  // a deleted one takes its client and informers with it.
  m.AddSource(std::make_unique<engine::StoreSource>(
      store_, std::string(kTmcGroup), "clusterregistrations",
      [this](const store::ObjectKey& k, const std::string& json) { OnClusterEvent(k, json); }));
}

void Syncer::OnWorkloadEvent(const KindRules& rules, const store::ObjectKey& k, const std::string& json) {
  const std::string key = WorkloadKey{k.workspace, rules.group, rules.resource, k.namespace_, k.name}.String();
  // As a workload: when a placement of its namespace selects its kind (a deleted one may have
  // copies to remove).
  if (json.empty() || index_.Selected(k.workspace, k.namespace_, rules.GroupResource())) {
    Seen(upstream_seen_, key);
    controller_->queue().Add(key);
  }
  // As a dependency of other workloads.
  const std::string as_dep = Dependency{rules.group, rules.version, rules.resource, k.name}.String();
  for (const auto& dk : index_.Dependents(k.workspace, k.namespace_, as_dep)) controller_->queue().Add(dk);
  // A Service can start or stop selecting any workload of its namespace; an HPA can start or stop
  // scaling its target (whose replicas tmcd then leaves alone).
  if (rules.group.empty() && rules.resource == "services") QueueNamespace(k.workspace, k.namespace_);
  if (rules.scale_target && !json.empty()) {
    const Json hpa = Json::parse(json, nullptr, false);
    for (const auto& d : DependenciesOf(rules, hpa)) {
      controller_->queue().Add(WorkloadKey{k.workspace, d.group, d.resource, k.namespace_, d.name}.String());
    }
  }
}

// Only what changes targets requeues a namespace's workloads (selector, decisions, failover's
// evictions, policy, overrides, replica division, deletion); the placement's own condition updates (one per copy
// applied) do not, or every applied copy would requeue every workload of the namespace.
void Syncer::OnPlacementEvent(const store::ObjectKey& k, const std::string& json) {
  const Json p = Json::parse(json.empty() ? "{}" : json, nullptr, false);
  std::string fingerprint;
  std::set<std::string> kinds;
  if (p.is_object() && !json.empty()) {
    const Json spec = p.value("spec", Json::object());
    const Json selector = spec.value("workloadSelector", Json::object());
    fingerprint =
        Json::array(
            {selector, spec.value("deletionPolicy", ""), spec.value("overrides", Json()),
             spec.value("replicaScheduling", Json()), p.value("status", Json::object()).value("decisions", Json()),
             p.value("status", Json::object()).value("evictions", Json()), p["metadata"].contains("deletionTimestamp")})
            .dump();
    const Json resources = selector.value("resources", Json::array({{{"group", "apps"}, {"resource", "deployments"}}}));
    for (const auto& gr : resources) {
      if (gr.is_object()) kinds.insert(GroupResource(gr.value("group", ""), gr.value("resource", "")));
    }
  }
  if (index_.SetPlacement(k.workspace, k.namespace_, k.name, std::move(kinds), fingerprint)) {
    QueueNamespace(k.workspace, k.namespace_);
  }
}

void Syncer::OnInterpreterEvent(const store::ObjectKey& k, const std::string& json) {
  // Every object of the target is looked at again under the new rules. Without rules (the interpreter
  // was deleted) the kind is not synced: its copies stay where they are (docs/interpreter.md).
  const auto change = custom_.Update(k, json);
  if (!json.empty()) {  // its Accepted condition
    controller_->queue().Add(
        WorkloadKey{k.workspace, std::string(kTmcGroup), "resourceinterpreters", "", k.name}.String());
  }
  const RulesPtr& now = change.now;
  if (!now || !change.spec_changed) return;
  auto list = store_.List(store::ResourcePrefix(k.workspace, now->group, now->resource), 0, "");
  if (!list.ok()) return;
  for (const auto& [raw, o] : list->items) {
    if (auto key = store::DecodeKey(raw); key.ok()) OnWorkloadEvent(*now, *key, o.json);
  }
}

void Syncer::OnClusterEvent(const store::ObjectKey& k, const std::string& json) {
  const std::string ck = k.workspace + "|" + k.name;
  if (json.empty()) {
    std::shared_ptr<Downstream> gone;  // stopped outside the lock: its informers call back into the queue
    {
      std::lock_guard<std::mutex> lock(mu_);
      cluster_ready_.erase(ck);
      cluster_selectable_.erase(ck);
      if (auto it = downstreams_.find(ck); it != downstreams_.end()) {
        gone = std::move(it->second);
        downstreams_.erase(it);
      }
    }
    return;
  }
  const bool ready = connection_(k.workspace, k.name).has_value();
  const bool deleting = json.find("\"deletionTimestamp\"") != std::string::npos;
  std::string selectable;  // what overrides' clusterSelectors read: a change re-applies its copies
  if (options_.advanced_placement) {
    const Json c = Json::parse(json, nullptr, false);
    if (c.is_object()) {
      selectable = Json::array({c.value("metadata", Json::object()).value("labels", Json::object()),
                                c.value("spec", Json::object()).value("location", "")})
                       .dump();
    }
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto [it, fresh] = cluster_ready_.try_emplace(ck, ready);
    auto [sel, sel_fresh] = cluster_selectable_.try_emplace(ck, selectable);
    const bool relabelled = !sel_fresh && sel->second != selectable;
    sel->second = selectable;
    if (!fresh && it->second == ready && !deleting && !relabelled) return;
    it->second = ready;
  }
  if (ready) {
    // The probe reached it: copies go through now rather than fail fast until the breaker's next trial.
    std::shared_ptr<Downstream> ds;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (auto it = downstreams_.find(ck); it != downstreams_.end()) ds = it->second;
    }
    if (ds) ds->client().ResetBreaker();
  }
  if (ready || deleting) QueueCluster(k.workspace, k.name);
}

void Syncer::QueueNamespace(const std::string& ws, const std::string& ns) {
  std::vector<RulesPtr> kinds = custom_.InWorkspace(ws);
  for (const auto& k : options_.kinds) kinds.emplace_back(RulesPtr(), &k);
  for (const auto& kind : kinds) {
    const KindRules& rules = *kind;
    if (!index_.Selected(ws, ns, rules.GroupResource())) continue;
    auto list = upstream_.List(ws, rules.group, rules.resource, ns);
    if (!list.ok()) continue;
    for (const auto& o : *list) {
      controller_->queue().Add(
          WorkloadKey{ws, rules.group, rules.resource, ns, o["metadata"].value("name", "")}.String());
    }
  }
  auto records = records_.InNamespace(ws, ns);  // copies of workloads no longer there or selected
  if (records.ok()) {
    for (const auto& r : *records) {
      const auto& u = r.spec.upstream;
      controller_->queue().Add(WorkloadKey{ws, u.group, u.resource, ns, u.name}.String());
    }
  }
}

void Syncer::QueueCluster(const std::string& ws, const std::string& cluster) {
  // A store that cannot list queues nothing: the cluster's next event tries again.
  (void)records_.ForEachOnCluster(ws, "", cluster, [&](const v1::SyncRecord& r) {
    const auto& u = r.spec.upstream;
    controller_->queue().Add(WorkloadKey{ws, u.group, u.resource, r.metadata.namespace_, u.name}.String());
    return true;
  });
}

void Syncer::Forget(const std::string& key) {
  index_.Forget(key);
  std::lock_guard<std::mutex> lock(mu_);
  upstream_seen_.erase(key);
  downstream_seen_.erase(key);
  const std::string prefix = key + "|";
  for (auto it = applied_.lower_bound(prefix); it != applied_.end() && StartsWith(it->first, prefix);) {
    it = applied_.erase(it);
  }
}

void Syncer::NoteApplied(const std::string& key, const std::string& cluster, const observability::SpanContext& c) {
  if (!c.valid()) return;
  const Clock::TimePoint now = clock_.Now();
  std::lock_guard<std::mutex> lock(mu_);
  // The window runs from the trace's first apply: the reconciles a status report causes (same trace)
  // do not extend it, so a copy whose status keeps changing does not grow one trace forever.
  auto [it, fresh] = applied_.try_emplace(key + "|" + cluster, c, now + kStatusTraceWindow);
  if (!fresh && (it->second.first.trace_id != c.trace_id || it->second.second < now)) {
    it->second = {c, now + kStatusTraceWindow};
  }
  if (applied_.size() < applied_sweep_at_) return;
  std::erase_if(applied_, [&](const auto& e) { return e.second.second < now; });
  applied_sweep_at_ = std::max<size_t>(1024, 2 * applied_.size());
}

observability::SpanContext Syncer::AppliedTrace(const std::string& key, const std::string& cluster) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = applied_.find(key + "|" + cluster);
  if (it == applied_.end()) return {};
  if (it->second.second >= clock_.Now()) return it->second.first;
  applied_.erase(it);
  return {};
}

void Syncer::Seen(std::map<std::string, Clock::TimePoint>& m, const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  m.try_emplace(key, clock_.Now());
}

void Syncer::ObserveStage(std::map<std::string, Clock::TimePoint>& m, const std::string& key,
                          prometheus::Histogram& h) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = m.find(key);
  if (it == m.end()) return;
  h.Observe(std::chrono::duration<double>(clock_.Now() - it->second).count());
  m.erase(it);
}

}  // namespace tmcd::sync
