// The reconcile half of the syncer (docs/design/architecture.md §6): one pass over one workload as a
// sequence of sub-reconcilers, each reading and extending the same Pass — targets (which clusters
// should have a copy), marks (finalizer and state labels before anything is created), copies (apply
// to each target, in parallel), removals (copies on clusters no longer chosen, or of a deleted
// workload) and status (the per-cluster annotation and the aggregated status). A sub-reconciler's
// error stops the pass; one copy's failure does not: it is counted and reported at the end, after
// every other copy was attempted. The event half (sources, indexes, queue) is sync/sources.cc.
#include <array>
#include <future>

#include "apis/meta/time.h"
#include "apis/tmc/v1alpha1/register.h"
#include "apis/tmc/v1alpha1/workload_placement.h"
#include "common/strings.h"
#include "engine/placement_divide.h"
#include "engine/placement_schedule.h"
#include "observability/logging.h"
#include "observability/trace.h"
#include "sync/naming.h"
#include "sync/status.h"
#include "sync/syncer.h"

namespace tmcd::sync {
namespace {

constexpr std::string_view kTmcGroup = "tmc.kcp.io";
// Runs one(0) .. one(n-1) side by side on the syncer's pool (the calling thread takes part); the
// others log with the calling thread's fields (workspace, workload).
void FanOut(FanOutPool& pool, size_t n, const std::function<void(size_t)>& one) {
  const observability::LogFields fields = observability::CurrentLogFields();
  pool.Run(n, [&](size_t i) {
    const observability::ScopedLogFields scoped(fields);
    one(i);
  });
}

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

// Divided replicas: the workload's replicas split by the placement's decision weights
// (engine/placement_divide.h); empty when the placement duplicates or the kind has no replica count.
std::map<std::string, int32_t> Shares(const KindRules& rules, const Json& workload, const v1::WorkloadPlacement& p) {
  std::map<std::string, int64_t> weights;
  for (const auto& d : p.status.decisions) {
    if (d.weight) weights[d.cluster_name] = *d.weight;
  }
  if (weights.empty() || !rules.replicas || p.spec.replica_scheduling.type != "Divided") return {};
  const Json* replicas = rules.replicas->Find(workload);  // absent: the kinds' default of 1
  const int64_t total = replicas != nullptr && replicas->is_number_integer() ? replicas->get<int64_t>() : 1;
  return engine::DivideReplicas(static_cast<int32_t>(std::clamp<int64_t>(total, 0, INT32_MAX)), weights,
                                p.spec.replica_scheduling.min_replicas_per_cluster,
                                p.spec.replica_scheduling.max_replicas_per_cluster);
}

// Sets tmcd's marks on an upstream object: a state label per cluster in `clusters` (others dropped),
// the finalizer iff `clusters` is not empty, the cluster-status annotation (`annotation`; null: kept,
// or dropped with the last cluster). Returns whether anything changed.
bool Mark(Json& cur, const std::string& ws, const std::set<std::string>& clusters, const std::string* annotation) {
  Json& m = cur["metadata"];
  const Json before = m;
  Json labels = m.value("labels", Json::object());
  for (auto it = labels.begin(); it != labels.end();) {
    it = StartsWith(it.key(), kStateLabelPrefix) ? labels.erase(it) : std::next(it);
  }
  for (const auto& c : clusters) labels[StateLabel(ws, c)] = "Sync";
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
}

}  // namespace

void Syncer::Pass::Fail(const Status& s, const std::string& where) {
  if (failed++ == 0) first_error = s.Annotate(where);
}

Result<engine::ReconcileResult> Syncer::Reconcile(const std::string& key) {
  const auto k = WorkloadKey::Parse(key);
  if (k && k->group == kTmcGroup && k->resource == "resourceinterpreters") return ReconcileInterpreter(*k);
  const RulesPtr rules = k ? RulesFor(k->workspace, k->group, k->resource) : nullptr;
  if (rules == nullptr) return engine::ReconcileResult{};
  Pass p{{{k->workspace, k->group, rules->version, k->resource, k->namespace_, k->name}, rules.get(), key, rules}};
  const upstream::ObjectRef& ref = p.w.ref;
  auto obj = upstream_.Get(ref);
  if (!obj.ok() && obj.status().reason() != Reason::kNotFound) return obj.status();
  if (obj.ok()) p.obj = std::move(obj).value();
  p.deleting = p.obj && (*p.obj)["metadata"].contains("deletionTimestamp");
  TMCD_ASSIGN_OR_RETURN(p.records,
                        records_.ForWorkload(ref.workspace, ref.namespace_, ref.group, ref.resource, ref.name));

  using Step = Status (Syncer::*)(Pass&);
  static constexpr std::array<std::pair<std::string_view, Step>, 5> kSteps = {{{"targets", &Syncer::ReconcileTargets},
                                                                               {"marks", &Syncer::ReconcileMarks},
                                                                               {"copies", &Syncer::ReconcileCopies},
                                                                               {"removals", &Syncer::ReconcileRemovals},
                                                                               {"status", &Syncer::ReconcileStatus}}};
  for (const auto& [name, step] : kSteps) {
    if (Status s = (this->*step)(p); !s.ok()) return s.Annotate(std::string(name));
  }

  if (p.failed > 0) {
    std::set<std::string> involved;  // a cluster that is a target and has a record is one copy
    for (const auto& [cluster, t] : p.targets) involved.insert(cluster);
    for (const auto& r : p.records) involved.insert(r.spec.cluster_name);
    return Status(p.first_error.reason(), std::to_string(p.failed) + " of " + std::to_string(involved.size()) +
                                              " copies failed; first: " + p.first_error.message());
  }
  if (p.pending) return engine::ReconcileResult{std::chrono::milliseconds(500)};
  if (!p.obj) {
    Forget(key);  // nothing of it is left anywhere
  } else if (p.targets.empty()) {
    std::lock_guard<std::mutex> lock(mu_);
    upstream_seen_.erase(key);  // nothing to apply: not a sync latency
  } else {
    ObserveStage(upstream_seen_, key, to_downstream_);
  }
  return engine::ReconcileResult{};
}

Status Syncer::ReconcileTargets(Pass& p) {
  if (p.obj && !p.deleting) {
    TMCD_ASSIGN_OR_RETURN(p.targets, Targets(p.w, *p.obj, p.held));
    DropLeavingClusters(p.w.ref.workspace, p.records, p.targets);
  }
  for (const auto& [cluster, t] : p.targets) p.labelled.insert(cluster);
  for (const auto& r : p.records) p.labelled.insert(r.spec.cluster_name);
  return Status::Ok();
}

Status Syncer::ReconcileMarks(Pass& p) {
  // The finalizer and labels go on before anything is created downstream. They are written while the
  // copies write their first records (one fsync for both: the store groups concurrent commits), and
  // each copy waits for them before it writes downstream (SyncCopy).
  if (!p.obj || p.deleting || p.targets.empty()) return Status::Ok();
  Json probe = {{"metadata", (*p.obj)["metadata"]}};  // marks are metadata: the rest is not copied
  if (!Mark(probe, p.w.ref.workspace, p.labelled, nullptr)) return Status::Ok();  // already there
  p.w.marks = std::async(std::launch::async, [this, ref = p.w.ref, clusters = p.labelled,
                                              fields = observability::CurrentLogFields()] {
                const observability::ScopedLogFields scoped(fields);
                return SetMarks(ref, clusters, nullptr);
              }).share();
  return Status::Ok();
}

Status Syncer::ReconcileCopies(Pass& p) {
  if (p.targets.empty()) return Status::Ok();  // targets only exist for a live workload: p.obj is set
  auto results = SyncCopies(p.w, *p.obj, p.targets, p.records, p.kept);
  if (p.w.marks.valid()) TMCD_TRY(p.w.marks.get().Annotate("marks"));  // no copy went downstream without them
  for (auto& [cluster, s] : results) {
    if (!s.ok()) p.Fail(s, "cluster " + cluster);
  }
  AnnounceCopies(p);
  return Status::Ok();
}

engine::InvolvedObject Syncer::Involved(const Pass& p) const {
  const upstream::ObjectRef& ref = p.w.ref;
  const Json meta = p.obj ? p.obj->value("metadata", Json::object()) : Json::object();
  return {ref.workspace,
          ref.group.empty() ? ref.version : ref.group + "/" + ref.version,
          p.w.rules->kind,
          ref.namespace_,
          ref.name,
          meta.value("uid", ""),
          meta.value("resourceVersion", "")};
}

void Syncer::AnnounceCopies(const Pass& p) {
  if (recorder_ == nullptr || !p.obj) return;
  const engine::InvolvedObject obj = Involved(p);
  for (const auto& now : p.kept) {
    const std::string& cluster = now.spec.cluster_name;
    const auto was = std::find_if(p.records.begin(), p.records.end(),
                                  [&](const v1::SyncRecord& r) { return r.spec.cluster_name == cluster; });
    if (was != p.records.end() && now.status.drift_corrections > was->status.drift_corrections) {
      recorder_->Record(obj, engine::EventType::kWarning, "DriftCorrected",
                        "cluster " + cluster + ": the copy was changed or deleted there and has been put back (" +
                            std::to_string(now.status.drift_corrections) + " corrections)");
    }
    const apis::Condition* synced = apis::FindCondition(now.status.conditions, "Synced");
    if (synced == nullptr) continue;
    const apis::Condition* prior =
        was == p.records.end() ? nullptr : apis::FindCondition(was->status.conditions, "Synced");
    const bool changed = prior == nullptr || prior->status != synced->status || prior->reason != synced->reason;
    if (synced->status == "True") {
      // A new copy, a recovered one, or a new generation applied.
      const bool newer = was != p.records.end() && was->status.applied_generation != now.status.applied_generation;
      if (!changed && !newer) continue;
      recorder_->Record(obj, engine::EventType::kNormal, "Synced",
                        "cluster " + cluster + ": " + synced->message +
                            (now.status.downstream_namespace.empty() ? "" : " in " + now.status.downstream_namespace));
    } else if (changed) {
      recorder_->Record(obj, engine::EventType::kWarning, synced->reason,
                        "cluster " + cluster + ": " + synced->message);
    }
  }
}

Status Syncer::ReconcileRemovals(Pass& p) {
  std::vector<v1::SyncRecord*> leaving;
  for (auto& r : p.records) {
    // Failover is make-before-break: a cluster being left keeps its copy until the placement lets go.
    if (p.targets.count(r.spec.cluster_name) == 0 && p.held.count(r.spec.cluster_name) == 0) leaving.push_back(&r);
  }
  // Like the copies, the removals are independent (own cluster, own record): side by side, so that
  // deleting a workload takes its slowest cluster's time, not the sum.
  std::vector<Result<bool>> gone(leaving.size(), Result<bool>(false));
  const observability::SpanContext reconcile = observability::CurrentSpanContext();
  FanOut(fanout_, leaving.size(), [&](size_t i) {
    observability::Span span("remove copy", observability::SpanKind::kInternal, reconcile);
    if (span.recording()) span.SetAttribute("tmcd.cluster", leaving[i]->spec.cluster_name);
    gone[i] = RemoveCopy(p.w, *leaving[i], p.records);
    if (!gone[i].ok()) span.SetError(gone[i].status().message());
  });
  for (size_t i = 0; i < leaving.size(); ++i) {
    const v1::SyncRecord& r = *leaving[i];
    if (!gone[i].ok()) p.Fail(gone[i].status(), "removing from " + r.spec.cluster_name);
    if (!gone[i].ok() || !*gone[i]) {
      p.pending = true;
      continue;
    }
    p.labelled.erase(r.spec.cluster_name);
    if (recorder_ != nullptr && p.obj && !p.deleting) {  // a workload being deleted is told nothing more
      const bool orphaned = r.status.phase == "Orphaned";
      recorder_->Record(Involved(p), engine::EventType::kNormal, orphaned ? "CopyOrphaned" : "CopyRemoved",
                        "cluster " + r.spec.cluster_name + ": " +
                            (orphaned ? "the copy was left in place (deletionPolicy Orphan) and is no longer synced"
                                      : "the copy was deleted: no placement chooses the cluster any more"));
    }
  }
  return Status::Ok();
}

Status Syncer::ReconcileStatus(Pass& p) {
  if (!p.obj) return Status::Ok();
  const int64_t generation = (*p.obj)["metadata"].value("generation", int64_t{0});
  const std::vector<CopyStatus> copies = CopiesOf(*p.w.rules, p.kept, generation);
  const std::string annotation = ClusterStatusAnnotation(*p.w.rules, copies);
  if (!options_.aggregate_status || p.deleting || p.kept.empty()) {
    return SetMarks(p.w.ref, p.labelled, p.kept.empty() ? nullptr : &annotation);
  }
  const bool divided = std::any_of(p.targets.begin(), p.targets.end(), [](const auto& t) { return t.second.replicas; });
  return WriteStatus(p.w, p.labelled, annotation, copies, generation, divided);
}

Result<std::vector<std::pair<size_t, v1::Override>>> Syncer::OverridesFor(const std::string& ws,
                                                                          const v1::WorkloadPlacement& p,
                                                                          const std::string& cluster) const {
  std::vector<std::pair<size_t, v1::Override>> out;
  if (p.spec.overrides.empty() || !options_.advanced_placement) return out;
  auto c = upstream_.GetTyped<v1::ClusterRegistration>(
      {ws, std::string(kTmcGroup), "v1alpha1", "clusterregistrations", "", cluster});
  if (!c.ok()) return c.status().reason() == Reason::kNotFound ? Result(out) : Result<decltype(out)>(c.status());
  for (size_t i = 0; i < p.spec.overrides.size(); ++i) {
    if (engine::MatchesClusterSelector(p.spec.overrides[i].cluster_selector, *c))
      out.emplace_back(i, p.spec.overrides[i]);
  }
  return out;
}

Result<std::map<std::string, Syncer::Target>> Syncer::Targets(const Work& w, const Json& workload,
                                                              std::set<std::string>& held) {
  std::map<std::string, Target> out;
  TMCD_ASSIGN_OR_RETURN(auto placements, upstream_.ListTyped<v1::WorkloadPlacement>(w.ref.workspace, w.ref.namespace_));
  const auto labels = LabelsOf(workload);
  for (const v1::WorkloadPlacement& p :
       placements) {  // listed in name order: the first placement naming a cluster wins
    if (p.metadata.deletion_timestamp.set) continue;
    if (!engine::SelectsWorkload(p, w.ref.group, w.ref.resource, labels)) continue;
    const auto shares = Shares(*w.rules, workload, p);
    for (const auto& d : p.status.decisions) {
      if (out.count(d.cluster_name) != 0) continue;
      const auto share = shares.find(d.cluster_name);
      Target t{p.metadata.name,
               p.spec.deletion_policy,
               share == shares.end() ? std::nullopt : std::optional(share->second),
               {}};
      TMCD_ASSIGN_OR_RETURN(t.overrides, OverridesFor(w.ref.workspace, p, d.cluster_name));
      out.emplace(d.cluster_name, std::move(t));
    }
    for (const auto& e : p.status.evictions) held.insert(e.cluster_name);
  }
  for (const auto& [cluster, t] : out) held.erase(cluster);
  return out;
}

std::vector<std::pair<std::string, Status>> Syncer::SyncCopies(const Work& w, const Json& workload,
                                                               const std::map<std::string, Target>& targets,
                                                               const std::vector<v1::SyncRecord>& records,
                                                               std::vector<v1::SyncRecord>& kept) {
  const std::vector<std::pair<std::string, Target>> order(targets.begin(), targets.end());
  std::vector<std::pair<std::string, Status>> results(order.size());
  kept.assign(order.size(), v1::SyncRecord{});
  const observability::SpanContext reconcile = observability::CurrentSpanContext();  // other threads below
  auto one = [&](size_t i) {
    const auto& [cluster, t] = order[i];
    observability::Span span("sync copy", observability::SpanKind::kInternal, reconcile);
    if (span.recording()) span.SetAttribute("tmcd.cluster", cluster);
    for (const auto& r : records) {
      if (r.spec.cluster_name == cluster) kept[i] = r;
    }
    Status s = SyncCopy(w, workload, cluster, t, kept[i]);
    NoteApplied(w.key, cluster, span.context());
    Status put = records_.Put(kept[i]);
    results[i] = {cluster, s.ok() ? put : s};
    if (!results[i].second.ok()) span.SetError(results[i].second.message());
  };
  // The copies of one workload are independent (own cluster, own record): they run side by side, so
  // that a workload's latency is its slowest cluster's, not the sum, and the store commits of its
  // records share one fsync (RocksDB groups concurrent writes).
  FanOut(fanout_, order.size(), one);
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
    auto creg = upstream_.GetTyped<v1::ClusterRegistration>(
        {ws, std::string(kTmcGroup), "v1alpha1", "clusterregistrations", "", it->first});
    const bool leaving = !creg.ok() || creg->metadata.deletion_timestamp.set;
    it = leaving ? targets.erase(it) : std::next(it);
  }
}

Status Syncer::SetMarks(const upstream::ObjectRef& ref, const std::set<std::string>& clusters,
                        const std::string* annotation) {
  auto written = upstream_.Mutate(
      ref, false, [&](Json& cur) -> Result<bool> { return Mark(cur, ref.workspace, clusters, annotation); });
  if (!written.ok() && written.status().reason() == Reason::kNotFound) return Status::Ok();
  return written.status();
}

Status Syncer::WriteStatus(const Work& w, const std::set<std::string>& clusters, const std::string& annotation,
                           const std::vector<CopyStatus>& copies, int64_t generation, bool divided) {
  const std::string now = apis::Time::FromTimePoint(clock_.Now()).ToString();
  const upstream::ObjectRef& ref = w.ref;
  // The marks and the aggregated status in one write (embedded mode: one store commit).
  auto written = upstream_.MutateWithStatus(ref, [&](Json& cur) -> Result<bool> {
    bool changed = Mark(cur, ref.workspace, clusters, &annotation);
    // A newer generation arrived since the copies were looked at: its own reconcile follows.
    if (cur["metadata"].value("generation", int64_t{0}) != generation) return changed;
    const Json before = cur.value("status", Json::object());
    Json after = AggregateStatus(*w.rules, copies, generation, divided, before, now);
    if (after == before) return changed;
    cur["status"] = std::move(after);
    return true;
  });
  if (!written.ok() && written.status().reason() == Reason::kNotFound) return Status::Ok();
  if (written.ok()) ObserveStage(downstream_seen_, w.key, to_upstream_);
  return written.status();
}

}  // namespace tmcd::sync
