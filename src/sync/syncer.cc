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
// what was applied (kinds that never report observedGeneration: once applied).
std::vector<CopyStatus> CopiesOf(const KindRules& rules, const std::vector<v1::SyncRecord>& records,
                                 int64_t generation) {
  std::vector<CopyStatus> copies;
  for (const auto& r : records) {
    const Json& ds = r.status.downstream_status.value;
    const Json st = ds.is_object() ? ds : Json::object();
    const bool reports = rules.observed_generation || st.contains("observedGeneration");
    const bool observed = !reports || st.value("observedGeneration", int64_t{0}) >= r.status.downstream_generation;
    const bool current = r.status.phase == "Applied" && r.status.applied_generation == generation && observed;
    bool healthy = false;
    for (const auto& c : r.status.conditions) healthy = healthy || (c.type == "Ready" && c.status == "True");
    copies.push_back({r.spec.cluster_name, st, current, r.status.phase, r.status.last_error, healthy});
  }
  return copies;
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
      options_(std::move(options)),
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
    const std::string key = WorkloadKey{id.workspace, id.group, id.resource, id.namespace_, id.name}.String();
    if (options_.aggregate_status) Seen(downstream_seen_, key);  // observed when the status is written
    controller_->queue().Add(key);
  });
  downstreams_[k] = ds;
  return ds;
}

RulesPtr Syncer::RulesFor(const std::string& ws, const std::string& group, const std::string& resource) const {
  for (const auto& k : options_.kinds) {
    if (k.group == group && k.resource == resource) return RulesPtr(RulesPtr(), &k);  // options_ outlives it
  }
  return custom_.Find(ws, group, resource);
}

Result<std::map<std::string, Syncer::Target>> Syncer::Targets(const Work& w, const Json& workload) {
  std::map<std::string, Target> out;
  TMCD_ASSIGN_OR_RETURN(
      auto placements, upstream_.List(w.ref.workspace, std::string(kTmcGroup), "workloadplacements", w.ref.namespace_));
  const auto labels = LabelsOf(workload);
  for (const auto& obj : placements) {  // listed in name order: the first placement naming a cluster wins
    auto p = v1::DecodeStored<v1::WorkloadPlacement>(obj.dump());
    if (!p.ok() || p->metadata.deletion_timestamp.set) continue;
    if (!engine::SelectsWorkload(*p, w.ref.group, w.ref.resource, labels)) continue;
    for (const auto& d : p->status.decisions) {
      out.try_emplace(d.cluster_name, Target{p->metadata.name, p->spec.deletion_policy});
    }
  }
  return out;
}

std::vector<std::pair<std::string, Status>> Syncer::SyncCopies(const Work& w, const Json& workload,
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
    Status s = SyncCopy(w, workload, cluster, t, kept[i]);
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

Result<engine::ReconcileResult> Syncer::ReconcileInterpreter(const WorkloadKey& k) {
  const upstream::ObjectRef ref{k.workspace, std::string(kTmcGroup), "v1alpha1", "resourceinterpreters", "", k.name};
  const apis::Time now = apis::Time::FromTimePoint(clock_.Now());
  auto written = upstream_.MutateStatus<v1::ResourceInterpreter>(ref, [&](v1::ResourceInterpreter& ri) -> Result<bool> {
    const int64_t gen = ri.metadata.generation;
    auto rules = RulesFromChecked(ri);
    auto c = rules.ok() ? apis::MakeCondition(v1::kConditionAccepted, apis::kConditionTrue, "Valid",
                                              "tmcd syncs " + ri.spec.target.kind + " objects by these rules", gen)
                        : apis::MakeCondition(v1::kConditionAccepted, apis::kConditionFalse, "InvalidRules",
                                              rules.status().message(), gen);
    bool changed = apis::SetCondition(ri.status.conditions, std::move(c), now);
    changed = changed || ri.status.observed_generation != gen;
    ri.status.observed_generation = gen;
    return changed;
  });
  if (!written.ok() && written.status().reason() != Reason::kNotFound) {
    if (written.status().reason() != Reason::kInvalid) return written.status();
    spdlog::warn("ResourceInterpreter {} in {}: cannot write its status: {}", k.name, k.workspace,
                 written.status().message());  // undecodable: the warning of CustomKinds names why
  }
  return engine::ReconcileResult{};
}

Result<engine::ReconcileResult> Syncer::Reconcile(const std::string& key) {
  const auto k = WorkloadKey::Parse(key);
  if (k && k->group == kTmcGroup && k->resource == "resourceinterpreters") return ReconcileInterpreter(*k);
  const RulesPtr rules = k ? RulesFor(k->workspace, k->group, k->resource) : nullptr;
  if (rules == nullptr) return engine::ReconcileResult{};
  const Work w{{k->workspace, k->group, rules->version, k->resource, k->namespace_, k->name}, rules.get(), key, rules};
  const upstream::ObjectRef& ref = w.ref;
  const std::string& ws = ref.workspace;
  auto obj = upstream_.Get(ref);
  if (!obj.ok() && obj.status().reason() != Reason::kNotFound) return obj.status();
  TMCD_ASSIGN_OR_RETURN(auto records, records_.ForWorkload(ws, ref.namespace_, ref.group, ref.resource, ref.name));
  const bool exists = obj.ok();
  const bool deleting = exists && (*obj)["metadata"].contains("deletionTimestamp");
  std::map<std::string, Target> targets;
  if (exists && !deleting) {
    TMCD_ASSIGN_OR_RETURN(targets, Targets(w, *obj));
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
    for (auto& [cluster, s] : SyncCopies(w, *obj, targets, records, kept)) {
      if (!s.ok() && failed++ == 0) first_error = s.Annotate("cluster " + cluster);
    }
  }
  bool pending = false;
  for (auto& r : records) {
    if (targets.count(r.spec.cluster_name) != 0) continue;
    auto gone = RemoveCopy(w, r, records);
    if (!gone.ok() && failed++ == 0) first_error = gone.status().Annotate("removing from " + r.spec.cluster_name);
    if (!gone.ok() || !*gone) {
      pending = true;
      continue;
    }
    labelled.erase(r.spec.cluster_name);
  }
  if (exists) {
    const std::vector<CopyStatus> copies = CopiesOf(*rules, kept, (*obj)["metadata"].value("generation", int64_t{0}));
    const std::string annotation = ClusterStatusAnnotation(*rules, copies);
    TMCD_TRY(SetMarks(ref, labelled, kept.empty() ? nullptr : &annotation));
    if (options_.aggregate_status && !deleting && !kept.empty()) {
      TMCD_TRY(WriteStatus(w, copies, (*obj)["metadata"].value("generation", int64_t{0})));
    }
  }
  if (failed > 0) {
    std::set<std::string> involved;  // a cluster that is a target and has a record is one copy
    for (const auto& [cluster, t] : targets) involved.insert(cluster);
    for (const auto& r : records) involved.insert(r.spec.cluster_name);
    return Status(first_error.reason(), std::to_string(failed) + " of " + std::to_string(involved.size()) +
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

Status Syncer::WriteStatus(const Work& w, const std::vector<CopyStatus>& copies, int64_t generation) {
  const std::string now = apis::Time::FromTimePoint(clock_.Now()).ToString();
  const upstream::ObjectRef& ref = w.ref;
  auto written = upstream_.Mutate(ref, true, [&](Json& cur) -> Result<bool> {
    const Json before = cur.value("status", Json::object());
    // A newer generation arrived since the copies were looked at: its own reconcile follows.
    if (cur["metadata"].value("generation", int64_t{0}) != generation) return false;
    Json after = AggregateStatus(*w.rules, copies, generation, false, before, now);
    if (after == before) return false;
    cur["status"] = after;
    return true;
  });
  if (!written.ok() && written.status().reason() == Reason::kNotFound) return Status::Ok();
  if (written.ok()) ObserveStage(downstream_seen_, w.key, to_upstream_);
  return written.status();
}

}  // namespace tmcd::sync
