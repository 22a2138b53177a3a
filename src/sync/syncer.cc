#include "sync/syncer.h"

#include <spdlog/spdlog.h>

#include <future>

#include "apis/meta/time.h"
#include "apis/tmc/v1alpha1/register.h"
#include "apis/tmc/v1alpha1/workload_placement.h"
#include "common/strings.h"
#include "engine/placement_schedule.h"
#include "sync/naming.h"
#include "sync/status.h"

namespace tmcd::sync {
namespace {

constexpr std::string_view kTmcGroup = "tmc.kcp.io";
constexpr size_t kCopyFanOut = 8;  // copies of one workload synced at the same time

std::map<std::string, std::string> LabelsOf(const Json& obj) {
  std::map<std::string, std::string> out;
  const Json labels = obj["metadata"].value("labels", Json::object());  // items() must not outlive it
  for (const auto& [k, v] : labels.items()) {
    if (v.is_string()) out[k] = v.get<std::string>();
  }
  return out;
}

// A copy is current when it was applied at the upstream generation and its cluster has observed
// what was applied.
std::vector<CopyStatus> CopiesOf(const std::vector<v1::SyncRecord>& records, int64_t generation) {
  std::vector<CopyStatus> copies;
  for (const auto& r : records) {
    const Json& ds = r.status.downstream_status.value;
    const Json st = ds.is_object() ? ds : Json::object();
    const bool observed = st.value("observedGeneration", int64_t{0}) >= r.status.downstream_generation;
    const bool current = r.status.phase == "Applied" && r.status.applied_generation == generation && observed;
    bool healthy = false;
    for (const auto& c : r.status.conditions) healthy = healthy || (c.type == "Ready" && c.status == "True");
    copies.push_back({r.spec.cluster_name, st, current, r.status.phase, r.status.last_error, healthy});
  }
  return copies;
}

bool ParseKey(const std::string& key, std::string& ws, std::string& ns, std::string& name) {
  const auto bar = key.find('|');
  const auto slash = key.find('/', bar == std::string::npos ? 0 : bar);
  if (bar == std::string::npos || slash == std::string::npos) return false;
  ws = key.substr(0, bar);
  ns = key.substr(bar + 1, slash - bar - 1);
  name = key.substr(slash + 1);
  return true;
}

prometheus::Histogram::BucketBoundaries LatencyBuckets() {
  return {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
}

}  // namespace

Syncer::Syncer(upstream::Upstream& upstream, store::Store& store, const Clock& clock, prometheus::Registry& registry,
               ConnectionFn connection, SyncerOptions options)
    : upstream_(upstream),
      store_(store),
      clock_(clock),
      records_(store, clock),
      connection_(std::move(connection)),
      options_(options),
      applies_(prometheus::BuildCounter()
                   .Name("tmcd_sync_applies_total")
                   .Help("Server-side applies of workload copies to clusters, by workspace, cluster and result.")
                   .Register(registry)),
      apply_latency_(prometheus::BuildHistogram()
                         .Name("tmcd_sync_apply_duration_seconds")
                         .Help("Time to apply one workload copy (with its dependencies) to a cluster.")
                         .Register(registry)),
      stages_(prometheus::BuildHistogram()
                  .Name("tmcd_sync_stage_duration_seconds")
                  .Help("Stage latency: upstream change seen → every copy applied (upstream_to_downstream); "
                        "downstream change seen → upstream status written (downstream_to_upstream).")
                  .Register(registry)),
      to_downstream_(stages_.Add({{"stage", "upstream_to_downstream"}}, LatencyBuckets())),
      to_upstream_(stages_.Add({{"stage", "downstream_to_upstream"}}, LatencyBuckets())) {}

Syncer::~Syncer() {
  std::lock_guard<std::mutex> lock(mu_);
  downstreams_.clear();
}

void Syncer::Register(engine::Manager& m) {
  controller_ = &m.Add(std::make_unique<engine::Controller>(
      "sync", clock_, [this](const std::string& key) { return Reconcile(key); }, options_.workers));
  m.AddSource(std::make_unique<engine::StoreSource>(store_, "apps", "deployments",
                                                    [this](const store::ObjectKey& k, const std::string&) {
                                                      const std::string key = KeyFor(k.workspace, k.namespace_, k.name);
                                                      Seen(upstream_seen_, key);
                                                      controller_->queue().Add(key);
                                                    }));
  // Only what changes targets requeues a namespace's workloads (selector, decisions, policy,
  // deletion); the placement's own condition updates (one per copy applied) do not, or every
  // applied copy would requeue every workload of the namespace.
  m.AddSource(std::make_unique<engine::StoreSource>(
      store_, std::string(kTmcGroup), "workloadplacements", [this](const store::ObjectKey& k, const std::string& json) {
        const Json p = Json::parse(json.empty() ? "{}" : json, nullptr, false);
        std::string fingerprint;
        if (p.is_object() && !json.empty()) {
          const Json spec = p.value("spec", Json::object());
          fingerprint = Json::array({spec.value("workloadSelector", Json()), spec.value("deletionPolicy", ""),
                                     p.value("status", Json::object()).value("decisions", Json()),
                                     p["metadata"].contains("deletionTimestamp")})
                            .dump();
        }
        {
          std::lock_guard<std::mutex> lock(mu_);
          const std::string pk = k.workspace + "|" + k.namespace_ + "/" + k.name;
          auto [it, fresh] = placement_seen_.try_emplace(pk, fingerprint);
          if (!fresh && it->second == fingerprint) return;
          it->second = fingerprint;
          if (fingerprint.empty()) placement_seen_.erase(it);
        }
        QueueNamespace(k.workspace, k.namespace_);
      }));
  m.AddSource(std::make_unique<engine::StoreSource>(
      store_, std::string(kTmcGroup), "syncrecords", [this](const store::ObjectKey& k, const std::string& json) {
        if (json.empty()) return;
        auto r = v1::DecodeStored<v1::SyncRecord>(json);
        if (r.ok()) controller_->queue().Add(KeyFor(k.workspace, k.namespace_, r->spec.upstream.name));
      }));
  for (const char* resource : {"configmaps", "secrets", "serviceaccounts"}) {
    m.AddSource(std::make_unique<engine::StoreSource>(
        store_, "", resource, [this, resource](const store::ObjectKey& k, const std::string&) {
          std::set<std::string> keys;
          {
            std::lock_guard<std::mutex> lock(mu_);
            auto it = by_dependency_.find(k.workspace + "|" + k.namespace_ + "|" + resource + "/" + k.name);
            if (it != by_dependency_.end()) keys = it->second;
          }
          for (const auto& key : keys) controller_->queue().Add(key);
        }));
  }
  // A Service can start or stop selecting any workload of its namespace: they all look again (a
  // workload whose dependencies did not change costs a hash comparison).
  m.AddSource(std::make_unique<engine::StoreSource>(
      store_, "", "services",
      [this](const store::ObjectKey& k, const std::string&) { QueueNamespace(k.workspace, k.namespace_); }));
  // A cluster that becomes Ready again gets its pending copies retried now, not after the backoff.
  // A registration being deleted gets its copies removed (or forgotten, when it cannot be reached);
  // a deleted one takes its client and informer with it.
  m.AddSource(std::make_unique<engine::StoreSource>(
      store_, std::string(kTmcGroup), "clusterregistrations",
      [this](const store::ObjectKey& k, const std::string& json) { OnClusterEvent(k, json); }));
}

void Syncer::OnClusterEvent(const store::ObjectKey& k, const std::string& json) {
  const std::string ck = k.workspace + "|" + k.name;
  if (json.empty()) {
    std::shared_ptr<Downstream> gone;  // stopped outside the lock: its informer calls back into the queue
    {
      std::lock_guard<std::mutex> lock(mu_);
      cluster_ready_.erase(ck);
      if (auto it = downstreams_.find(ck); it != downstreams_.end()) {
        gone = std::move(it->second);
        downstreams_.erase(it);
      }
    }
    return;
  }
  const bool ready = connection_(k.workspace, k.name).has_value();
  const bool deleting = json.find("\"deletionTimestamp\"") != std::string::npos;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto [it, fresh] = cluster_ready_.try_emplace(ck, ready);
    if (!fresh && it->second == ready && !deleting) return;
    it->second = ready;
  }
  if (ready || deleting) QueueCluster(k.workspace, k.name);
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

void Syncer::QueueNamespace(const std::string& ws, const std::string& ns) {
  auto list = upstream_.List(ws, "apps", "deployments", ns);
  if (list.ok()) {
    for (const auto& d : *list) controller_->queue().Add(KeyFor(ws, ns, d["metadata"].value("name", "")));
  }
  auto records = records_.InNamespace(ws, ns);  // copies of workloads no longer there
  if (records.ok()) {
    for (const auto& r : *records) controller_->queue().Add(KeyFor(ws, ns, r.spec.upstream.name));
  }
}

void Syncer::QueueCluster(const std::string& ws, const std::string& cluster) {
  auto list = store_.List(store::ResourcePrefix(ws, kTmcGroup, "syncrecords"), 0, "");
  if (!list.ok()) return;
  for (const auto& [key, o] : list->items) {
    auto r = v1::DecodeStored<v1::SyncRecord>(o.json);
    if (!r.ok() || r->spec.cluster_name != cluster) continue;
    controller_->queue().Add(KeyFor(ws, r->metadata.namespace_, r->spec.upstream.name));
  }
}

void Syncer::Index(const std::string& key, const std::string& ws, const std::string& ns,
                   const std::vector<std::string>& deps) {
  std::set<std::string> now;
  for (const auto& d : deps) now.insert(ws + "|" + ns + "|" + d);
  std::lock_guard<std::mutex> lock(mu_);
  auto& before = deps_of_[key];
  for (const auto& d : before) {
    if (now.count(d) != 0) continue;
    auto it = by_dependency_.find(d);
    if (it == by_dependency_.end()) continue;
    it->second.erase(key);
    if (it->second.empty()) by_dependency_.erase(it);
  }
  for (const auto& d : now) by_dependency_[d].insert(key);
  before = std::move(now);
  if (before.empty()) deps_of_.erase(key);
}

void Syncer::Forget(const std::string& key) {
  Index(key, "", "", {});
  std::lock_guard<std::mutex> lock(mu_);
  upstream_seen_.erase(key);
  downstream_seen_.erase(key);
}

size_t Syncer::CopiesOn(const std::string& ws, const std::string& cluster) const {
  auto list = store_.List(store::ResourcePrefix(ws, kTmcGroup, "syncrecords"), 0, "");
  if (!list.ok()) return 1;  // unknown: keep waiting
  size_t n = 0;
  for (const auto& [key, o] : list->items) {
    auto r = v1::DecodeStored<v1::SyncRecord>(o.json);
    if (r.ok() && r->spec.cluster_name == cluster) ++n;
  }
  return n;
}

std::shared_ptr<Downstream> Syncer::DownstreamFor(const std::string& ws, const std::string& cluster) {
  auto conn = connection_(ws, cluster);
  const std::string k = ws + "|" + cluster;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = downstreams_.find(k);
  if (!conn) return nullptr;  // not Ready: copies fail fast; a running informer keeps going
  if (it != downstreams_.end() && it->second->fingerprint() == conn->fingerprint) return it->second;
  kube::ClientOptions co;
  co.qps = options_.qps;
  co.burst = static_cast<int>(2 * options_.qps);
  co.max_retries = 2;
  co.timeout = std::chrono::seconds(10);
  auto client = kube::Client::Create(conn->rest, co);
  if (!client.ok()) return nullptr;
  auto ds = std::make_shared<Downstream>(std::move(client).value(), conn->fingerprint, [this](const UpstreamId& id) {
    const std::string key = KeyFor(id.workspace, id.namespace_, id.name);
    if (options_.aggregate_status) Seen(downstream_seen_, key);  // observed when the status is written
    controller_->queue().Add(key);
  });
  downstreams_[k] = ds;
  return ds;
}

Result<std::map<std::string, Syncer::Target>> Syncer::Targets(const std::string& ws, const std::string& ns,
                                                              const Json& workload) {
  std::map<std::string, Target> out;
  TMCD_ASSIGN_OR_RETURN(auto placements, upstream_.List(ws, std::string(kTmcGroup), "workloadplacements", ns));
  const auto labels = LabelsOf(workload);
  for (const auto& obj : placements) {  // listed in name order: the first placement naming a cluster wins
    auto p = v1::DecodeStored<v1::WorkloadPlacement>(obj.dump());
    if (!p.ok() || p->metadata.deletion_timestamp.set) continue;
    if (!engine::SelectsWorkload(*p, "apps", "deployments", labels)) continue;
    for (const auto& d : p->status.decisions) {
      out.try_emplace(d.cluster_name, Target{p->metadata.name, p->spec.deletion_policy});
    }
  }
  return out;
}

std::vector<std::pair<std::string, Status>> Syncer::SyncCopies(const upstream::ObjectRef& ref, const Json& workload,
                                                               const std::map<std::string, Target>& targets,
                                                               const std::vector<v1::SyncRecord>& records,
                                                               std::vector<v1::SyncRecord>& kept) {
  const std::vector<std::pair<std::string, Target>> order(targets.begin(), targets.end());
  std::vector<std::pair<std::string, Status>> results(order.size());
  kept.assign(order.size(), v1::SyncRecord{});
  auto one = [&](size_t i) {
    const auto& [cluster, t] = order[i];
    for (const auto& r : records) {
      if (r.spec.cluster_name == cluster) kept[i] = r;
    }
    Status s = SyncCopy(ref, workload, cluster, t, kept[i], records);
    Status put = records_.Put(kept[i]);
    results[i] = {cluster, s.ok() ? put : s};
  };
  // The copies of one workload are independent (own cluster, own record): they run side by side,
  // at most kCopyFanOut at a time, so that a workload's latency is its slowest cluster's, not the
  // sum, and the store commits of its records share one fsync (RocksDB groups concurrent writes).
  for (size_t first = 0; first < order.size(); first += kCopyFanOut) {
    const size_t last = std::min(order.size(), first + kCopyFanOut);
    std::vector<std::future<void>> others;
    others.reserve(last - first);
    for (size_t i = first + 1; i < last; ++i) others.push_back(std::async(std::launch::async, one, i));
    one(first);
    for (auto& f : others) f.get();
  }
  return results;
}

void Syncer::DropLeavingClusters(const std::string& ws, const std::vector<v1::SyncRecord>& records,
                                 std::map<std::string, Target>& targets) {
  for (auto it = targets.begin(); it != targets.end();) {
    const bool has_copy = std::any_of(records.begin(), records.end(),
                                      [&](const v1::SyncRecord& r) { return r.spec.cluster_name == it->first; });
    if (has_copy) {
      ++it;
      continue;
    }
    auto creg = upstream_.Get({ws, std::string(kTmcGroup), "v1alpha1", "clusterregistrations", "", it->first});
    const bool leaving = !creg.ok() || (*creg)["metadata"].contains("deletionTimestamp");
    it = leaving ? targets.erase(it) : std::next(it);
  }
}

Result<engine::ReconcileResult> Syncer::Reconcile(const std::string& key) {
  std::string ws, ns, name;
  if (!ParseKey(key, ws, ns, name)) return engine::ReconcileResult{};
  const upstream::ObjectRef ref{ws, "apps", "v1", "deployments", ns, name};
  auto obj = upstream_.Get(ref);
  if (!obj.ok() && obj.status().reason() != Reason::kNotFound) return obj.status();
  TMCD_ASSIGN_OR_RETURN(auto records, records_.ForWorkload(ws, ns, "apps", "deployments", name));
  const bool exists = obj.ok();
  const bool deleting = exists && (*obj)["metadata"].contains("deletionTimestamp");
  std::map<std::string, Target> targets;
  if (exists && !deleting) {
    TMCD_ASSIGN_OR_RETURN(targets, Targets(ws, ns, *obj));
    DropLeavingClusters(ws, records, targets);
  }

  std::set<std::string> labelled;  // clusters that keep (or get) a state label
  for (const auto& [cluster, t] : targets) labelled.insert(cluster);
  for (const auto& r : records) labelled.insert(r.spec.cluster_name);
  // The finalizer and labels go on before anything is created downstream.
  if (exists && !deleting && !targets.empty()) TMCD_TRY(SetMarks(ref, labelled, nullptr));

  Status first_error;
  size_t failed = 0;
  std::vector<v1::SyncRecord> kept;
  if (!targets.empty()) {  // targets only exist for a live workload: *obj is set
    for (auto& [cluster, s] : SyncCopies(ref, *obj, targets, records, kept)) {
      if (!s.ok() && failed++ == 0) first_error = s.Annotate("cluster " + cluster);
    }
  }
  bool pending = false;
  for (auto& r : records) {
    if (targets.count(r.spec.cluster_name) != 0) continue;
    auto gone = RemoveCopy(r, records);
    if (!gone.ok() && failed++ == 0) first_error = gone.status().Annotate("removing from " + r.spec.cluster_name);
    if (!gone.ok() || !*gone) {
      pending = true;
      continue;
    }
    labelled.erase(r.spec.cluster_name);
  }
  if (exists) {
    const std::vector<CopyStatus> copies = CopiesOf(kept, (*obj)["metadata"].value("generation", int64_t{0}));
    const std::string annotation = ClusterStatusAnnotation(*BuiltinRules("apps", "deployments"), copies);
    TMCD_TRY(SetMarks(ref, labelled, kept.empty() ? nullptr : &annotation));
    if (options_.aggregate_status && !deleting && !kept.empty()) {
      TMCD_TRY(WriteStatus(ref, copies, (*obj)["metadata"].value("generation", int64_t{0})));
    }
  }
  if (failed > 0) {
    return Status(first_error.reason(), std::to_string(failed) + " of " +
                                            std::to_string(targets.size() + records.size()) +
                                            " copies failed; first: " + first_error.message());
  }
  if (pending) return engine::ReconcileResult{std::chrono::milliseconds(500)};
  if (!exists) {
    Forget(key);  // nothing of it is left anywhere
  } else if (targets.empty()) {
    std::lock_guard<std::mutex> lock(mu_);
    upstream_seen_.erase(key);  // nothing to apply: not a sync latency
  } else {
    ObserveStage(upstream_seen_, key, to_downstream_);
  }
  return engine::ReconcileResult{};
}

Status Syncer::SetMarks(const upstream::ObjectRef& ref, const std::set<std::string>& clusters,
                        const std::string* annotation) {
  auto written = upstream_.Mutate(ref, false, [&](Json& cur) -> Result<bool> {
    Json& m = cur["metadata"];
    const Json before = m;
    Json labels = m.value("labels", Json::object());
    for (auto it = labels.begin(); it != labels.end();) {
      it = StartsWith(it.key(), kStateLabelPrefix) ? labels.erase(it) : std::next(it);
    }
    for (const auto& c : clusters) labels[StateLabel(ref.workspace, c)] = "Sync";
    if (labels.empty()) {
      m.erase("labels");
    } else {
      m["labels"] = labels;
    }
    Json fins = Json::array();
    for (const auto& f : m.value("finalizers", Json::array())) {
      if (f != kFinalizer) fins.push_back(f);
    }
    if (!clusters.empty()) fins.push_back(kFinalizer);
    if (fins.empty()) {
      m.erase("finalizers");
    } else {
      m["finalizers"] = fins;
    }
    Json ann = m.value("annotations", Json::object());
    if (annotation != nullptr) {
      ann[std::string(kClusterStatusAnnotation)] = *annotation;
    } else if (clusters.empty()) {
      ann.erase(std::string(kClusterStatusAnnotation));
    }
    if (ann.empty()) {
      m.erase("annotations");
    } else {
      m["annotations"] = ann;
    }
    return m != before;
  });
  if (!written.ok() && written.status().reason() == Reason::kNotFound) return Status::Ok();
  return written.status();
}

Status Syncer::WriteStatus(const upstream::ObjectRef& ref, const std::vector<CopyStatus>& copies, int64_t generation) {
  const std::string now = apis::Time::FromTimePoint(clock_.Now()).ToString();
  auto written = upstream_.Mutate(ref, true, [&](Json& cur) -> Result<bool> {
    const Json before = cur.value("status", Json::object());
    // A newer generation arrived since the copies were looked at: its own reconcile follows.
    if (cur["metadata"].value("generation", int64_t{0}) != generation) return false;
    Json after = AggregateStatus(*BuiltinRules("apps", "deployments"), copies, generation, false, before, now);
    if (after == before) return false;
    cur["status"] = after;
    return true;
  });
  if (!written.ok() && written.status().reason() == Reason::kNotFound) return Status::Ok();
  if (written.ok()) ObserveStage(downstream_seen_, KeyFor(ref.workspace, ref.namespace_, ref.name), to_upstream_);
  return written.status();
}

}  // namespace tmcd::sync
