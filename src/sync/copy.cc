// The per-copy half of the syncer: apply one copy (with its dependencies) to one cluster, remove
// one copy (delete or orphan), and prune dependencies no copy needs any more.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <functional>
#include <optional>

#include "apis/meta/time.h"
#include "common/strings.h"
#include "observability/logging.h"
#include "sync/naming.h"
#include "sync/overrides.h"
#include "sync/status.h"
#include "sync/syncer.h"

namespace tmcd::sync {
namespace {

// The placement's overrides for the cluster, applied last and in order (sync/overrides.h); `applied`
// lists them for the SyncRecord (a replicas override that an HPA overrules says so). An error names the
// override that failed.
Status ApplyOverrides(const KindRules& rules, const std::vector<std::pair<size_t, v1::Override>>& overrides,
                      bool autoscaled, nlohmann::json& desired, std::vector<std::string>& applied) {
  applied.clear();
  for (const auto& [index, o] : overrides) {
    if (Status s = ApplyOverride(rules, o, desired, autoscaled); !s.ok()) {
      return Status(s.reason(), DescribeOverride(index, o) + ": " + s.message());
    }
    const bool overruled = o.replicas && rules.replicas && autoscaled;
    applied.push_back(DescribeOverride(index, o) +
                      (overruled ? " (replicas left to the HorizontalPodAutoscaler)" : ""));
  }
  return Status::Ok();
}

void Fail(v1::SyncRecord& r, const Status& s, const std::string& reason, const apis::Time& now) {
  if (r.status.phase.empty() || r.status.phase == "Applied") r.status.phase = "Failed";
  r.status.last_error = s.message();
  apis::SetCondition(r.status.conditions, apis::MakeCondition("Synced", "False", reason, s.message(), 0), now);
}

// Whether another record (same namespace and cluster, other workload) still needs `dep`, or is the
// record of `dep` itself synced as a workload there.
bool SharedDependency(const std::string& dep, const v1::SyncRecord& self, const std::vector<v1::SyncRecord>& all) {
  return std::any_of(all.begin(), all.end(), [&](const v1::SyncRecord& o) {
    if (o.metadata.name == self.metadata.name || o.spec.cluster_name != self.spec.cluster_name) return false;
    const auto& u = o.spec.upstream;
    if (Dependency{u.group, u.version, u.resource, u.name}.String() == dep) return true;
    return std::find(o.status.dependencies.begin(), o.status.dependencies.end(), dep) != o.status.dependencies.end();
  });
}

// Removes tmcd's marks from a downstream object (deletionPolicy Orphan).
Status StripMarks(kube::Client& c, const kube::ResourceRef& r, const std::string& name) {
  const Json patch = {{"metadata",
                       {{"labels", {{kManagedByLabel, nullptr}, {kWorkspaceLabel, nullptr}}},
                        {"annotations", {{kUpstreamAnnotation, nullptr}}}}}};
  auto s = c.Patch(r, name, kube::PatchType::kMerge, patch).status();
  return s.reason() == Reason::kNotFound ? Status::Ok() : s;
}

// Deletes a downstream object if it carries tmcd's marks; true once it is gone. `cached` is the copy as
// its informer last saw it: with it one DELETE (on its uid) usually settles the matter; without it, when
// the cache is stale (another object by that name: the uid precondition fails) or when the answer does
// not say the deletion completed, the object is read first, as it is then.
Result<bool> DeleteMarked(kube::Client& c, const kube::ResourceRef& r, const std::string& name,
                          const std::optional<Json>& cached = std::nullopt) {
  // One DELETE of that object (its uid as precondition); true when the answer says it is gone.
  auto delete_one = [&](const Json& obj) -> Result<bool> {
    kube::DeleteOptions o;
    o.propagation_policy = "Background";
    o.precondition_uid = obj["metadata"].value("uid", "");
    auto done = c.DeleteCompleted(r, name, o);
    if (!done.ok() && done.status().reason() == Reason::kNotFound) return true;
    return done;
  };
  if (cached && HasMarks(*cached) && !(*cached)["metadata"].contains("deletionTimestamp")) {
    auto done = delete_one(*cached);
    if (done.ok() && *done) return true;
    if (!done.ok() && done.status().reason() != Reason::kConflict) return done.status();
  }
  auto cur = c.Get(r, name);
  if (!cur.ok()) {
    if (cur.status().reason() == Reason::kNotFound) return true;
    return cur.status();
  }
  if (!HasMarks(*cur)) return true;  // not ours (any more): never touched
  if (!(*cur)["metadata"].contains("deletionTimestamp")) {
    TMCD_ASSIGN_OR_RETURN(const bool gone, delete_one(*cur));
    if (gone) return true;
  }
  auto after = c.Get(r, name);
  if (!after.ok() && after.status().reason() == Reason::kNotFound) return true;
  TMCD_TRY(after.status());
  return false;  // still finalizing downstream: asked again shortly
}

// What the record names: the copy of `id` on `cluster`, for the placement that chose it.
void Identify(v1::SyncRecord& record, const UpstreamId& id, const std::string& cluster, const std::string& placement,
              const std::string& deletion_policy, const std::string& dns) {
  record.metadata.name = SyncRecordName(id.group, id.resource, id.name, ClusterKey(id.workspace, cluster));
  record.metadata.namespace_ = id.namespace_;
  record.spec.upstream = id;
  record.spec.cluster_name = cluster;
  record.spec.placement_name = placement;
  record.spec.deletion_policy = deletion_policy;
  record.status.downstream_namespace = dns;
  if (record.status.phase.empty()) record.status.phase = "Pending";
}

// How the copy on the cluster stands against what tmcd would apply now.
enum class CopyState {
  kCurrent,  // applied with this hash, and the cluster shows the generation tmcd left and its marks
  kStale,    // something to apply: a new desired state, a failed or lagging one
  kDrifted,  // nothing tmcd wants changed, yet the copy was edited, unmarked or deleted on the cluster
  kLagging,  // applied with this hash moments ago; the informer has not seen that apply yet
};

// Whether an apply after drift changed the copy back: it was gone or unmarked, or the apply made a new
// generation. An edit of fields tmcd does not own (an HPA's replicas on an autoscaled copy) stays as it
// is, so it is not counted as put back.
bool PutBack(const std::optional<Json>& before, const Json& after) {
  if (!before || !HasMarks(*before)) return true;
  const int64_t was = (*before)["metadata"].value("generation", int64_t{0});
  return after.value("metadata", Json::object()).value("generation", int64_t{0}) > was;
}

CopyState Compare(const v1::SyncRecord& record, const std::string& hash, const std::optional<Json>& cached,
                  const std::function<bool()>& removed, const std::function<bool()>& applied_recently) {
  if (record.status.desired_hash != hash || record.status.phase != "Applied") return CopyState::kStale;
  // Missing, or a generation below the recorded one: the informer lagging behind tmcd's own apply when
  // that apply was recent (applying again would change nothing), else unknown (apply).
  if (!cached) {
    if (removed()) return CopyState::kDrifted;
    return applied_recently() ? CopyState::kLagging : CopyState::kStale;
  }
  const int64_t gen = (*cached)["metadata"].value("generation", int64_t{0});
  if (!HasMarks(*cached)) return CopyState::kDrifted;
  if (gen == record.status.downstream_generation) return CopyState::kCurrent;
  if (gen > record.status.downstream_generation) return CopyState::kDrifted;
  return applied_recently() ? CopyState::kLagging : CopyState::kStale;
}

// The names (for the record and the dependency index) and objects (for the hash) of a copy's dependencies.
template <typename Dependencies>  // Syncer::DesiredDependency
std::pair<std::vector<std::string>, std::vector<Json>> Split(const Dependencies& deps) {
  std::pair<std::vector<std::string>, std::vector<Json>> out;
  for (const auto& d : deps) {
    out.first.push_back(d.ref.String());
    out.second.push_back(d.object);
  }
  return out;
}

// The dependencies in `was` that are no longer in `now` (to be pruned from the cluster).
std::vector<std::string> Dropped(const std::vector<std::string>& was, const std::vector<std::string>& now) {
  std::vector<std::string> out;
  for (const auto& d : was) {
    if (std::find(now.begin(), now.end(), d) == now.end()) out.push_back(d);
  }
  return out;
}

// Remembered before anything exists downstream: a crash from then on leaves a record to act on. The
// dependencies about to be written are in it too before the copy enters its namespace, so that a
// removal pruning shared dependencies (in that namespace's gate) sees them (docs/sync.md). Writes only
// for a new record or new dependencies.
Status RecordBeforeEntering(RecordStore& records, v1::SyncRecord& record, const std::vector<std::string>& deps,
                            bool fresh) {
  std::vector<std::string> pending = record.status.dependencies;
  for (const auto& d : deps) {
    if (std::find(pending.begin(), pending.end(), d) == pending.end()) pending.push_back(d);
  }
  if (!fresh && pending.size() == record.status.dependencies.size()) return Status::Ok();
  record.status.dependencies = std::move(pending);
  return records.Put(record);
}

}  // namespace

// What travels with a workload is synced only where the cluster's registration accepts its kind too: an
// operator who leaves Secrets out of a cluster's syncedResources means no Secret goes there.
Status Syncer::DependenciesAccepted(const std::string& ws, const std::string& cluster, const Work& w,
                                    const std::vector<DesiredDependency>& deps) const {
  if (deps.empty()) return Status::Ok();
  TMCD_ASSIGN_OR_RETURN(auto creg, upstream_.GetTyped<v1::ClusterRegistration>(
                                       {ws, "tmc.kcp.io", "v1alpha1", "clusterregistrations", "", cluster}));
  for (const auto& d : deps) {
    const bool accepted = std::any_of(
        creg.status.synced_resources.begin(), creg.status.synced_resources.end(),
        [&](const auto& r) { return r.group == d.ref.group && r.resource == d.ref.resource && r.state == "Accepted"; });
    if (!accepted) {
      const std::string gr = d.ref.group.empty() ? d.ref.resource : d.ref.resource + "." + d.ref.group;
      return Status(Reason::kInvalid, "cluster " + cluster + " does not accept " + gr +
                                          " (not Accepted in its status.syncedResources), and the " + w.rules->kind +
                                          " needs " + d.ref.String() + ": add " + gr +
                                          " to the registration's spec.syncedResources, or place it elsewhere");
    }
  }
  return Status::Ok();
}

void Syncer::CountDrift(const Work& w, const std::string& cluster, v1::SyncRecord& record, const apis::Time& now) {
  ++record.status.drift_corrections;
  record.status.last_drift_correction_time = now;
  drift_.Add({{"workspace", w.ref.workspace}, {"cluster", cluster}}).Increment();
  spdlog::info("sync: put back drift of {} on {} (correction {})", w.key, cluster, record.status.drift_corrections);
}

Status Syncer::SyncCopy(const Work& w, const Json& workload, const std::string& cluster, const Target& t,
                        v1::SyncRecord& record) {
  const observability::ScopedLogFields fields({.cluster = cluster});
  const upstream::ObjectRef& ref = w.ref;
  const apis::Time now = apis::Time::FromTimePoint(clock_.Now());
  const int64_t generation = workload["metadata"].value("generation", int64_t{0});
  const std::string dns = DownstreamNamespace(ref.workspace, ref.namespace_);
  const bool fresh = !record.metadata.creation_timestamp.set;
  const UpstreamId id{ref.workspace,
                      ref.group,
                      ref.version,
                      ref.resource,
                      ref.namespace_,
                      ref.name,
                      workload["metadata"].value("uid", "")};
  Identify(record, id, cluster, t.placement, t.deletion_policy, dns);
  const std::vector<DesiredDependency> deps = Dependencies(w, workload, dns);
  const auto [dep_names, dep_objects] = Split(deps);
  index_.SetDependencies(w.key, ref.workspace, ref.namespace_, dep_names);
  TMCD_TRY(RecordBeforeEntering(records_, record, dep_names, fresh));
  if (w.marks.valid()) TMCD_TRY(w.marks.get());  // the finalizer and labels are stored: ReconcileMarks

  auto ds = DownstreamFor(ref.workspace, cluster);
  if (!ds) {
    Status s(Reason::kServiceUnavailable, "cluster " + cluster + " is not Ready");
    // A copy applied at this generation stays as recorded: nothing new has to reach the cluster, and
    // just after a start every cluster reads as not Ready until its first probe; marking the copy
    // Failed then would re-apply every copy once the cluster is Ready (docs/sync.md, "After a restart").
    if (record.status.phase == "Applied" && record.status.applied_generation == generation) return s;
    Fail(record, s, "ClusterNotReady", now);
    return s;
  }
  std::optional<NamespaceGate::Entry> entered = ds->gate().Shared(dns);
  if (Status s = ds->EnsureNamespace(ref.workspace, ref.namespace_); !s.ok()) {
    const bool collision = StartsWith(s.message(), "NamespaceCollision");
    Fail(record, s, collision ? "NamespaceCollision" : "NamespaceError", now);
    if (collision) record.status.phase = "Failed";
    return s;
  }
  const bool autoscaled = Autoscaled(w);
  Json desired = DesiredCopy(w, workload, id, dns, t.replicas, autoscaled);
  if (Status s = ApplyOverrides(*w.rules, t.overrides, autoscaled, desired, record.status.overrides); !s.ok()) {
    Fail(record, s, "OverrideFailed", now);
    record.status.phase = "Failed";  // a configuration error: not retried until something changes
    return s;
  }
  const std::string hash = DesiredHash(desired, dep_objects);
  const kube::ResourceRef all = Ref(ref.group, ref.version, ref.resource, "");
  auto cached = ds->Cached(all, dns, ref.name);
  const CopyState state = Compare(
      record, hash, cached, [&] { return ds->Removed(all, dns, ref.name); },
      [&] { return ds->AppliedRecently(all, dns, ref.name); });
  // The record already says what that apply returned; the informer's event of it requeues the workload.
  if (state == CopyState::kLagging) return Status::Ok();
  Json seen = cached ? *cached : Json::object();
  if (state != CopyState::kCurrent) {
    if (Status s = DependenciesAccepted(ref.workspace, cluster, w, deps); !s.ok()) {
      Fail(record, s, "DependencyNotAccepted", now);
      record.status.phase = "Failed";  // a configuration error, as a namespace collision: not a transient one
      return s;
    }
    auto applied = TimedApply(*ds, w, cluster, desired, deps);
    if (!applied.ok()) {
      Fail(record, applied.status(), "ApplyFailed", now);
      return applied.status();
    }
    seen = *applied;
    entered.reset();  // pruning enters exclusive
    record.status.dependencies = Dropped(record.status.dependencies, dep_names);
    TMCD_TRY(PruneDependencies(*ds, record, false));
    record.status.desired_hash = hash;
    record.status.applied_generation = generation;
    record.status.downstream_generation = seen["metadata"].value("generation", int64_t{0});
    record.status.last_sync_time = now;
    if (state == CopyState::kDrifted && PutBack(cached, seen)) CountDrift(w, cluster, record, now);
  }
  record.status.dependencies = dep_names;
  MarkApplied(*w.rules, record, seen, now);
  return Status::Ok();
}

Json Syncer::DesiredCopy(const Work& w, const Json& workload, const UpstreamId& id, const std::string& dns,
                         std::optional<int32_t> replicas, bool autoscaled) const {
  Json desired = Desired(workload, id, dns);
  StripFields(*w.rules, desired);
  if (!w.rules->replicas) return desired;
  if (autoscaled) {
    w.rules->replicas->Erase(desired);
  } else if (replicas) {
    w.rules->replicas->Set(desired, *replicas);  // Divided: this cluster's share
  }
  return desired;
}

bool Syncer::Autoscaled(const Work& w) const {
  if (!w.rules->replicas) return false;
  const KindRules* hpa = BuiltinRules("autoscaling", "horizontalpodautoscalers");
  auto hpas = upstream_.List(w.ref.workspace, hpa->group, hpa->resource, w.ref.namespace_);
  if (!hpas.ok()) return false;
  const Dependency self{w.ref.group, w.ref.version, w.ref.resource, w.ref.name};
  for (const auto& h : *hpas) {
    const auto targets = DependenciesOf(*hpa, h);
    if (std::find(targets.begin(), targets.end(), self) != targets.end()) return true;
  }
  return false;
}

std::vector<Syncer::DesiredDependency> Syncer::Dependencies(const Work& w, const Json& workload,
                                                            const std::string& dns) const {
  const upstream::ObjectRef& ref = w.ref;
  std::vector<DesiredDependency> out;
  std::vector<Dependency> wanted = DependenciesOf(*w.rules, workload);
  const Json* tmpl = w.rules->pod_template ? w.rules->pod_template->Find(workload) : nullptr;
  if (w.rules->selected_services && tmpl != nullptr) {  // the Services selecting its Pods go where they go
    auto services = upstream_.List(ref.workspace, "", "services", ref.namespace_);
    if (services.ok()) {
      for (const auto& svc : *services) {
        if (ServiceSelects(svc, *tmpl)) wanted.push_back({"", "v1", "services", svc["metadata"].value("name", "")});
      }
    }
  }
  std::sort(wanted.begin(), wanted.end());
  wanted.erase(std::unique(wanted.begin(), wanted.end()), wanted.end());
  for (const auto& d : wanted) {
    auto dep = upstream_.Get({ref.workspace, d.group, d.version, d.resource, ref.namespace_, d.name});
    // Missing upstream: the Pod (or controller) will say so downstream, as it would anywhere.
    if (!dep.ok() || (*dep)["metadata"].contains("deletionTimestamp")) continue;
    const UpstreamId did{
        ref.workspace, d.group, d.version, d.resource, ref.namespace_, d.name, (*dep)["metadata"].value("uid", "")};
    Json obj = Desired(*dep, did, dns);
    const KindRules* rules = BuiltinRules(d.group, d.resource);
    if (rules != nullptr) StripFields(*rules, obj);
    out.push_back({d, std::move(obj)});
  }
  return out;
}

void Syncer::MarkApplied(const KindRules& rules, v1::SyncRecord& record, const Json& seen, const apis::Time& now) {
  record.status.phase = "Applied";
  record.status.last_error.clear();
  if (seen.contains("metadata")) {
    record.status.downstream_resource_version = seen["metadata"].value("resourceVersion", "");
  }
  record.status.downstream_status.value = seen.value("status", Json::object());
  apis::SetCondition(
      record.status.conditions,
      apis::MakeCondition("Synced", "True", "Applied",
                          "applied at upstream generation " + std::to_string(record.status.applied_generation), 0),
      now);
  std::string why;
  const bool healthy = Healthy(rules, seen, &why);
  apis::SetCondition(record.status.conditions,
                     apis::MakeCondition("Ready", healthy ? "True" : "False", healthy ? "Healthy" : "NotHealthy",
                                         healthy ? "" : "the copy is not healthy yet: " + why, 0),
                     now);
}

Result<Json> Syncer::TimedApply(Downstream& ds, const Work& w, const std::string& cluster, const Json& desired,
                                const std::vector<DesiredDependency>& deps) {
  const auto start = clock_.Now();
  const std::string& ws = w.ref.workspace;
  auto applied = ApplyCopy(ds, w, desired, deps);
  const std::map<std::string, std::string> labels = {{"workspace", ws}, {"cluster", cluster}};
  applies_.Add({{"workspace", ws}, {"cluster", cluster}, {"result", applied.ok() ? "ok" : "error"}}).Increment();
  apply_latency_
      .Add(labels, prometheus::Histogram::BucketBoundaries{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10})
      .Observe(std::chrono::duration<double>(clock_.Now() - start).count());
  return applied;
}

Result<Json> Syncer::ApplyCopy(Downstream& ds, const Work& w, const Json& desired,
                               const std::vector<DesiredDependency>& deps) {
  const std::string dns = desired["metadata"].value("namespace", "");
  for (const auto& d : deps) {
    TMCD_TRY(
        ds.Apply(Ref(d.ref.group, d.ref.version, d.ref.resource, dns), d.object).status().Annotate(d.ref.String()));
  }
  return ds.Apply(Ref(w.ref.group, w.ref.version, w.ref.resource, dns), desired);
}

Status Syncer::PruneDependencies(Downstream& ds, const v1::SyncRecord& record, bool orphan) {
  if (record.status.dependencies.empty()) return Status::Ok();
  // The dependencies no other record of the namespace names (shared ones stay), as the store has them now.
  auto unshared = [&]() -> Result<std::vector<std::string>> {
    TMCD_ASSIGN_OR_RETURN(auto all, records_.InNamespace(record.spec.upstream.workspace, record.metadata.namespace_));
    std::vector<std::string> out;
    for (const auto& dep : record.status.dependencies) {
      if (!SharedDependency(dep, record, all)) out.push_back(dep);
    }
    return out;
  };
  // Looked at first with no gate: when every one is shared (many workloads, one ConfigMap) nothing is
  // pruned and the namespace's copies never wait. Otherwise again with no copy writing there: one a
  // copy is about to write is named by its record before it enters (RecordBeforeEntering).
  TMCD_ASSIGN_OR_RETURN(auto candidates, unshared());
  if (candidates.empty()) return Status::Ok();
  const NamespaceGate::Entry entered = ds.gate().Exclusive(record.status.downstream_namespace);
  TMCD_ASSIGN_OR_RETURN(candidates, unshared());
  for (const auto& dep : candidates) {
    const auto d = Dependency::FromString(dep);
    if (!d) continue;
    const auto r = Ref(d->group, d->version, d->resource, record.status.downstream_namespace);
    const std::string& name = d->name;
    if (orphan) {
      TMCD_TRY(StripMarks(ds.client(), r, name));
    } else {
      TMCD_TRY(DeleteMarked(ds.client(), r, name).status());
    }
  }
  return Status::Ok();
}

Result<bool> Syncer::RemoveCopy(const Work& w, v1::SyncRecord& record, const std::vector<v1::SyncRecord>& all) {
  const observability::ScopedLogFields fields({.cluster = record.spec.cluster_name});
  const apis::Time now = apis::Time::FromTimePoint(clock_.Now());
  const std::string& ws = record.spec.upstream.workspace;
  const std::string& cluster = record.spec.cluster_name;
  const bool orphan = record.spec.deletion_policy == "Orphan";
  const std::string dns = record.status.downstream_namespace;
  auto creg = upstream_.Get({ws, "tmc.kcp.io", "v1alpha1", "clusterregistrations", "", cluster});
  if (!creg.ok() && creg.status().reason() == Reason::kNotFound) {
    spdlog::warn("sync: cluster {} of {} is no longer registered: forgetting its copy of {}/{} (left in place)",
                 cluster, ws, record.spec.upstream.namespace_, record.spec.upstream.name);
    TMCD_TRY(records_.Delete(record));
    return true;
  }
  auto ds = DownstreamFor(ws, cluster);
  if (!ds && creg.ok() && (*creg)["metadata"].contains("deletionTimestamp")) {
    // The registration is going and the cluster cannot be reached: nobody could ever remove the copy.
    spdlog::warn(
        "sync: cluster {} of {} is being deleted and is not Ready: forgetting its copy of {}/{} (left "
        "in place)",
        cluster, ws, record.spec.upstream.namespace_, record.spec.upstream.name);
    TMCD_TRY(records_.Delete(record));
    return true;
  }
  if (!ds) {
    Status s(Reason::kServiceUnavailable, "cluster " + cluster + " is not Ready: its copy cannot be removed yet");
    record.status.phase = orphan ? "Orphaned" : "Deleting";
    Fail(record, s, "ClusterNotReady", now);
    record.status.phase = orphan ? "Orphaned" : "Deleting";
    TMCD_TRY(records_.Put(record));
    return s;
  }
  const auto dref = Ref(w.ref.group, w.ref.version, w.ref.resource, dns);
  bool gone = true;
  if (orphan) {
    TMCD_TRY(StripMarks(ds->client(), dref, record.spec.upstream.name));
  } else {
    TMCD_ASSIGN_OR_RETURN(gone, DeleteMarked(ds->client(), dref, record.spec.upstream.name,
                                             ds->Cached(dref, dns, record.spec.upstream.name)));
  }
  if (!gone) {
    if (record.status.phase != "Deleting") {
      record.status.phase = "Deleting";
      TMCD_TRY(records_.Put(record));
    }
    return false;
  }
  TMCD_TRY(PruneDependencies(*ds, record, orphan));
  TMCD_TRY(records_.Delete(record));
  // The namespace goes with the last copy, unless something is left in it (orphans, or objects
  // somebody else put there). Looked at again with no copy writing there (its gate): a copy of another
  // workload records itself before it enters, so it is either seen here or enters after the delete
  // and waits for the namespace to go (docs/sync.md).
  const bool last = std::none_of(all.begin(), all.end(), [&](const v1::SyncRecord& o) {
    return o.metadata.name != record.metadata.name && o.spec.cluster_name == cluster;
  });
  auto copies_left = [&] {
    auto any = records_.AnyOnCluster(ws, record.metadata.namespace_, cluster);
    return !any.ok() || *any;  // unknown: the namespace stays
  };
  if (last && !orphan && !copies_left()) {
    const NamespaceGate::Entry entered = ds->gate().Exclusive(dns);
    if (!copies_left()) {
      auto left = ds->client().List(dref, kube::ListOptions{.limit = 1});
      if (left.ok() && left->items.empty()) TMCD_TRY(ds->DeleteNamespace(ws, record.metadata.namespace_));
    }
  }
  spdlog::info("sync: {} copy of {}/{} on {}", orphan ? "orphaned" : "removed", record.spec.upstream.namespace_,
               record.spec.upstream.name, cluster);
  return true;
}

}  // namespace tmcd::sync
