#include "sync/syncer.h"

#include <spdlog/spdlog.h>

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
      drift_(prometheus::BuildCounter()
                 .Name("tmcd_sync_drift_corrections_total")
                 .Help("Copies found changed or deleted on a cluster and put back, by workspace and cluster.")
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
      to_upstream_(stages_.Add({{"stage", "downstream_to_upstream"}}, LatencyBuckets())),
      fanout_(static_cast<size_t>(std::max(options_.workers, 1)) * (kCopyFanOut - 1), kCopyFanOut) {}

Syncer::~Syncer() {
  // Destroyed outside mu_: a client's destructor waits for its breaker trial, whose close callback
  // (QueueCluster) takes mu_.
  std::map<std::string, std::shared_ptr<Downstream>> gone;
  {
    std::lock_guard<std::mutex> lock(mu_);
    gone.swap(downstreams_);
  }
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
  std::shared_ptr<Downstream> replaced;  // destroyed after mu_ is released (see ~Syncer)
  std::lock_guard<std::mutex> lock(mu_);
  auto it = downstreams_.find(k);
  if (!conn) return nullptr;  // not Ready: copies fail fast; a running informer keeps going
  if (it != downstreams_.end() && it->second->fingerprint() == conn->fingerprint) return it->second;
  if (it != downstreams_.end()) replaced = std::move(it->second);
  kube::ClientOptions co;
  co.qps = options_.qps;
  co.burst = static_cast<int>(2 * options_.qps);
  co.max_retries = 2;
  co.timeout = std::chrono::seconds(10);
  co.fail_fast = true;  // a dead cluster costs one timeout, not one per copy (docs/sync.md)
  auto client = kube::Client::Create(conn->rest, co);
  if (!client.ok()) return nullptr;
  // What failed fast while the breaker was open is retried now, not after each key's grown backoff.
  client.value()->OnBreakerClosed([this, ws, cluster] { QueueCluster(ws, cluster); });
  auto on_change = [this, cluster](const UpstreamId& id) {
    const std::string key = WorkloadKey{id.workspace, id.group, id.resource, id.namespace_, id.name}.String();
    if (options_.aggregate_status) Seen(downstream_seen_, key);  // observed when the status is written
    // Status back: a report within the window after a copy's apply is a span of that apply's trace,
    // and the reconcile it queues continues there (no lookup at all with tracing off).
    const observability::SpanContext applied =
        observability::TracingEnabled() ? AppliedTrace(key, cluster) : observability::SpanContext{};
    if (!applied.valid()) return controller_->queue().Add(key);
    observability::Span report("cluster report", observability::SpanKind::kConsumer, applied);
    if (report.recording()) report.SetAttribute("tmcd.cluster", cluster);
    controller_->queue().Add(key);
  };
  auto ds = std::make_shared<Downstream>(std::move(client).value(), conn->fingerprint, std::move(on_change));
  downstreams_[k] = ds;
  return ds;
}

RulesPtr Syncer::RulesFor(const std::string& ws, const std::string& group, const std::string& resource) const {
  for (const auto& k : options_.kinds) {
    if (k.group == group && k.resource == resource) return RulesPtr(RulesPtr(), &k);  // options_ outlives it
  }
  return custom_.Find(ws, group, resource);
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

}  // namespace tmcd::sync
