#include "engine/clusters.h"

#include <spdlog/spdlog.h>

#include "apis/meta/codec.h"
#include "apis/tmc/v1alpha1/register.h"
#include "common/strings.h"

namespace tmcd::engine {
namespace {

using Json = nlohmann::json;
using apis::Condition;
using apis::Time;

constexpr std::string_view kGroup = "tmc.kcp.io";
constexpr std::string_view kResource = "clusterregistrations";
constexpr std::string_view kCleanupFinalizer = "tmc.kcp.io/cluster-cleanup";

std::string Fingerprint(const kube::RestConfig& c) {
  return Sha256(c.server + '\0' + c.ca_pem + '\0' + c.tls_server_name + '\0' +
                (c.insecure_skip_tls_verify ? "1" : "0") + '\0' + c.token + '\0' + c.client_cert_pem + '\0' +
                c.client_key_pem);
}

// CamelCase reason for a failed probe part.
std::string FailureReason(const ProbeResult& p, const Status& credentials) {
  if (!credentials.ok()) return credentials.reason() == Reason::kNotFound ? "SecretNotFound" : "CredentialsInvalid";
  if (!p.reach.ok()) return p.reach.message().rfind("TLS: ", 0) == 0 ? "TLSError" : "Unreachable";
  if (!p.auth.ok()) return p.auth.reason() == Reason::kForbidden ? "Forbidden" : "Unauthorized";
  return "APIServerNotReady";
}

std::string FailureMessage(const ProbeResult& p, const Status& credentials) {
  if (!credentials.ok()) return credentials.message();
  if (!p.reach.ok()) return p.reach.message();
  if (!p.auth.ok()) return p.auth.message();
  return p.health.message();
}

}  // namespace

struct ClusterController::State {
  std::string fingerprint;
  std::unique_ptr<kube::Client> client;
  int failures = 0;
  Clock::TimePoint last_inventory{};
  ProbeResult inventory;              // the last inventory read
  int64_t inventory_generation = -1;  // the spec generation it was read for (syncedResources, capacity)
  std::string secret;                 // "ws|ns/name" of the credentials Secret, "" for none
  bool ready = false;
  bool probed = false;  // a probe's outcome has been recorded since start
};

ClusterController::ClusterController(upstream::Upstream& upstream, store::Store& store, const Clock& clock,
                                     prometheus::Registry& registry, ClusterControllerOptions options)
    : upstream_(upstream),
      store_(store),
      clock_(clock),
      options_(options),
      ready_(prometheus::BuildGauge()
                 .Name("tmcd_cluster_ready")
                 .Help("1 when the cluster's Ready condition is True.")
                 .Register(registry)),
      heartbeat_age_(prometheus::BuildGauge()
                         .Name("tmcd_cluster_heartbeat_age_seconds")
                         .Help("Seconds since the last successful probe of the cluster, as of its latest probe "
                               "(absent until one succeeds).")
                         .Register(registry)),
      heartbeat_time_(prometheus::BuildGauge()
                          .Name("tmcd_cluster_last_heartbeat_timestamp_seconds")
                          .Help("Unix time of the last successful probe of the cluster.")
                          .Register(registry)),
      capacity_(prometheus::BuildGauge()
                    .Name("tmcd_cluster_capacity")
                    .Help("Cluster capacity, allocatable and available, by resource (cpu in cores, memory in bytes).")
                    .Register(registry)),
      probe_latency_(prometheus::BuildHistogram()
                         .Name("tmcd_cluster_probe_duration_seconds")
                         .Help("Time one cluster probe takes (readyz, version, identity, inventory when due).")
                         .Register(registry)
                         .Add({}, prometheus::Histogram::BucketBoundaries{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
                                                                          2.5, 5, 10})) {}

void ClusterController::Register(Manager& m) {
  controller_ = &m.Add(std::make_unique<Controller>(
      "clusters", clock_, [this](const std::string& key) { return Reconcile(key); }, options_.workers));
  // Spec changes (a new generation), creations and deletions queue a registration; its own status
  // writes do not (the probe period requeues it anyway), or every write would trigger a probe.
  m.AddSource(std::make_unique<StoreSource>(store_, std::string(kGroup), std::string(kResource),
                                            [this](const store::ObjectKey& k, const std::string& json) {
                                              const std::string key = KeyFor(k.workspace, k.name);
                                              NoteRegistration(key, json.empty());
                                              if (!generations_.Changed(key, json)) return;
                                              controller_->queue().Add(key);
                                            }));
  // A changed (or created, or deleted) Secret requeues the registrations that use it.
  m.AddSource(
      std::make_unique<StoreSource>(store_, "", "secrets", [this](const store::ObjectKey& k, const std::string&) {
        std::vector<std::string> keys;
        {
          std::lock_guard<std::mutex> lock(mu_);
          auto it = by_secret_.find(k.workspace + "|" + k.namespace_ + "/" + k.name);
          if (it != by_secret_.end()) keys.assign(it->second.begin(), it->second.end());
        }
        for (const auto& key : keys) controller_->queue().Add(key);
      }));
}

std::optional<ClusterController::Connection> ClusterController::ConnectionFor(const std::string& workspace,
                                                                              const std::string& name) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = connections_.find(KeyFor(workspace, name));
  if (it == connections_.end()) return std::nullopt;
  return it->second;
}

void ClusterController::NoteRegistration(const std::string& key, bool deleted) {
  std::lock_guard<std::mutex> lock(mu_);
  if (deleted) {
    unprobed_.erase(key);
    return;
  }
  auto it = states_.find(key);
  if (it == states_.end() || !it->second->probed) unprobed_.insert(key);
}

bool ClusterController::FirstProbesDone() const {
  std::lock_guard<std::mutex> lock(mu_);
  return unprobed_.empty();
}

std::shared_ptr<ClusterController::State> ClusterController::StateFor(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& s = states_[key];
  if (!s) s = std::make_shared<State>();
  return s;
}

void ClusterController::Forget(const std::string& key, const std::string& workspace, const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  unprobed_.erase(key);
  auto it = states_.find(key);
  if (it == states_.end()) return;
  if (!it->second->secret.empty()) by_secret_[it->second->secret].erase(key);
  states_.erase(it);
  connections_.erase(key);
  ready_.Remove(&ready_.Add({{"workspace", workspace}, {"cluster", name}}));
  heartbeat_age_.Remove(&heartbeat_age_.Add({{"workspace", workspace}, {"cluster", name}}));
  heartbeat_time_.Remove(&heartbeat_time_.Add({{"workspace", workspace}, {"cluster", name}}));
  for (const char* kind : {"capacity", "allocatable", "available"}) {
    for (const char* r : {"cpu", "memory", "pods"}) {
      capacity_.Remove(&capacity_.Add({{"workspace", workspace}, {"cluster", name}, {"resource", r}, {"kind", kind}}));
    }
  }
}

namespace {

// One probe's outcome, applied to a registration's status.
struct Outcome {
  Status cred;                             // why no client could be built (Secret missing or malformed), if so
  ProbeResult probe;                       // this probe
  const ProbeResult* inventory = nullptr;  // the last inventory read, if any
  int failures = 0;                        // consecutive failed probes, this one included
  int threshold = 3;
  bool insecure = false;  // spec.endpoint.insecureSkipTLSVerify
};

void SetReachability(v1::ClusterRegistrationStatus& st, const Outcome& o, int64_t gen, const Time& t) {
  const ProbeResult& p = o.probe;
  if (!o.cred.ok()) {
    apis::SetCondition(
        st.conditions,
        apis::MakeCondition(v1::kConditionReachable, "Unknown", "CredentialsUnavailable", o.cred.message(), gen), t);
  } else if (!p.reach.ok()) {
    apis::SetCondition(
        st.conditions,
        apis::MakeCondition(v1::kConditionReachable, "False", FailureReason(p, o.cred), p.reach.message(), gen), t);
  } else {
    apis::SetCondition(st.conditions,
                       apis::MakeCondition(v1::kConditionReachable, "True", "Reachable", "the API server answers", gen),
                       t);
  }
  // A warning that stays visible while the registration skips TLS verification (docs/security.md).
  apis::SetCondition(st.conditions,
                     o.insecure ? apis::MakeCondition(v1::kConditionTLSVerified, "False", "InsecureSkipTLSVerify",
                                                      "spec.endpoint.insecureSkipTLSVerify is set: the cluster's "
                                                      "certificate is not checked, and whoever can intercept the "
                                                      "connection receives this cluster's credentials",
                                                      gen)
                                : apis::MakeCondition(v1::kConditionTLSVerified, "True", "Verified",
                                                      "the API server's certificate is verified", gen),
                     t);
  if (!o.cred.ok() || !p.auth.ok()) {
    apis::SetCondition(st.conditions,
                       apis::MakeCondition(v1::kConditionAuthenticated, "False", FailureReason(p, o.cred),
                                           FailureMessage(p, o.cred), gen),
                       t);
  } else if (!p.reach.ok()) {
    apis::SetCondition(st.conditions,
                       apis::MakeCondition(v1::kConditionAuthenticated, "Unknown", "Unreachable",
                                           "the API server did not answer", gen),
                       t);
  } else {
    apis::SetCondition(
        st.conditions,
        apis::MakeCondition(v1::kConditionAuthenticated, "True", "Authenticated", "the credentials are accepted", gen),
        t);
  }
}

void SetInventory(v1::ClusterRegistrationStatus& st, const ProbeResult& inv, int64_t gen, const Time& t) {
  std::vector<std::string> missing;
  for (const auto& s : inv.synced) {
    if (s.state != "Accepted") missing.push_back(s.group.empty() ? s.resource : s.resource + "." + s.group);
  }
  apis::SetCondition(st.conditions,
                     missing.empty()
                         ? apis::MakeCondition(v1::kConditionResourcesSupported, "True", "AllSupported",
                                               "every resource in spec.syncedResources is served", gen)
                         : apis::MakeCondition(v1::kConditionResourcesSupported, "False", "ResourcesMissing",
                                               "not served: " + Join(missing, ", "), gen),
                     t);
  st.capacity = inv.capacity;
  st.allocatable = inv.allocatable;
  st.available = inv.available;
  st.synced_resources = inv.synced;
}

void SetReady(v1::ClusterRegistrationStatus& st, const Outcome& o, bool was_ready, int64_t gen, const Time& t) {
  const ProbeResult& p = o.probe;
  bool mismatch = false;
  if (p.ok()) {
    st.kubernetes_version = p.version;
    if (st.cluster_id.empty()) st.cluster_id = p.cluster_id;
    mismatch = st.cluster_id != p.cluster_id;
  }
  if (mismatch) {
    apis::SetCondition(st.conditions,
                       apis::MakeCondition(v1::kConditionReady, "False", "ClusterIDChanged",
                                           "the endpoint now reaches a different cluster (kube-system uid " +
                                               p.cluster_id + ", registered " + st.cluster_id +
                                               "); tmcd does not sync to it. Re-create the registration to accept it",
                                           gen),
                       t);
  } else if (p.ok()) {
    apis::SetCondition(st.conditions,
                       apis::MakeCondition(v1::kConditionReady, "True", "Healthy", "probes succeed", gen), t);
  } else if (!was_ready || o.failures >= o.threshold) {
    // A stable message (no running count), so a failing cluster is not rewritten on every probe.
    apis::SetCondition(st.conditions,
                       apis::MakeCondition(v1::kConditionReady, "False", FailureReason(p, o.cred),
                                           "failureThreshold (" + std::to_string(o.threshold) +
                                               ") consecutive probes failed: " + FailureMessage(p, o.cred),
                                           gen),
                       t);
  }
}

// The status from one probe's outcome, written when it changed or the heartbeat is due; `before` gets
// the conditions it replaced (the events compare them). Returns the registration as written.
Result<v1::ClusterRegistration> WriteStatus(upstream::Upstream& up, const upstream::ObjectRef& ref, const Outcome& o,
                                            Clock::TimePoint now, std::chrono::seconds heartbeat,
                                            std::vector<apis::Condition>& before) {
  return up.MutateStatus<v1::ClusterRegistration>(ref, [&](v1::ClusterRegistration& fresh) -> Result<bool> {
    const int64_t gen = fresh.metadata.generation;
    const Time t = Time::FromTimePoint(now);
    v1::ClusterRegistrationStatus st = fresh.status;
    const bool was_ready = apis::IsConditionTrue(st.conditions, v1::kConditionReady);
    SetReachability(st, o, gen, t);
    if (o.inventory != nullptr) SetInventory(st, *o.inventory, gen, t);
    SetReady(st, o, was_ready, gen, t);
    st.observed_generation = gen;
    // The heartbeat moves with a write that happens anyway, or when it is due.
    v1::ClusterRegistrationStatus without_heartbeat = st;
    without_heartbeat.last_heartbeat_time = fresh.status.last_heartbeat_time;
    const bool changed = !(without_heartbeat == fresh.status);
    const bool due = !fresh.status.last_heartbeat_time.set ||
                     t.seconds - fresh.status.last_heartbeat_time.seconds >= heartbeat.count();
    if (o.probe.ok() && (changed || due)) st.last_heartbeat_time = t;
    before = fresh.status.conditions;
    if (st == fresh.status) return false;
    fresh.status = std::move(st);
    return true;
  });
}

}  // namespace

Status ClusterController::Credentials(const std::string& key, const std::string& ws,
                                      const v1::ClusterRegistration& creg, State& state, kube::RestConfig& rest) {
  Status cred = Status::Ok();
  Json secret;
  std::string secret_key;
  if (creg.spec.credentials_ref) {
    // The Secret is read from the upstream (the cache in kcp mode).
    const auto& r = *creg.spec.credentials_ref;
    secret_key = ws + "|" + r.namespace_ + "/" + r.name;
    auto got = upstream_.Get(upstream::ObjectRef{ws, "", "v1", "secrets", r.namespace_, r.name});
    if (got.ok()) {
      secret = std::move(got).value();
    } else {
      cred = got.status().reason() == Reason::kNotFound
                 ? Status(Reason::kNotFound, "credentials Secret " + r.namespace_ + "/" + r.name + " not found")
                 : got.status();
    }
  }
  if (secret_key != state.secret) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!state.secret.empty()) by_secret_[state.secret].erase(key);
    if (!secret_key.empty()) by_secret_[secret_key].insert(key);
    state.secret = secret_key;
  }
  if (!cred.ok()) return cred;
  auto resolved = ResolveCredentials(creg.spec.endpoint, creg.spec.credentials_ref ? &secret : nullptr);
  if (!resolved.ok()) {
    return {Reason::kInvalid, "credentials Secret " + creg.spec.credentials_ref->namespace_ + "/" +
                                  creg.spec.credentials_ref->name + ": " + resolved.status().message()};
  }
  rest = std::move(resolved).value();
  return Status::Ok();
}

ProbeResult ClusterController::ProbeWith(State& state, const v1::ClusterRegistration& creg,
                                         const kube::RestConfig& rest, Status& cred, Clock::TimePoint now) {
  ProbeResult probe;
  const std::string fp = Fingerprint(rest);
  bool rebuilt = false;
  if (!state.client || state.fingerprint != fp) {
    kube::ClientOptions co;
    co.timeout = std::chrono::seconds(creg.spec.health_check.timeout_seconds);
    co.max_retries = 0;
    co.retry_reads = false;  // failures are counted against failureThreshold instead
    co.qps = 0;
    auto client = kube::Client::Create(rest, co);
    if (!client.ok()) {
      cred = Status(Reason::kInvalid, "cannot build a client: " + client.status().message());
      return probe;
    }
    state.client = std::move(client).value();
    state.fingerprint = fp;
    rebuilt = true;
  }
  // A changed spec (syncedResources to check, declared capacity) is read at once, not at the next period.
  const bool inventory_due = rebuilt || state.inventory_generation != creg.metadata.generation ||
                             now - state.last_inventory >= options_.inventory_interval;
  const auto started = std::chrono::steady_clock::now();
  probe = Probe(*state.client, creg.spec, inventory_due);
  probe_latency_.Observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  if (probe.inventory) {
    state.inventory = probe;
    state.last_inventory = now;
    state.inventory_generation = creg.metadata.generation;
  }
  return probe;
}

Result<ReconcileResult> ClusterController::Reconcile(const std::string& key) {
  const auto bar = key.find('|');
  if (bar == std::string::npos) return ReconcileResult{};  // not ours
  const std::string ws = key.substr(0, bar);
  const std::string name = key.substr(bar + 1);
  const upstream::ObjectRef ref{ws, std::string(kGroup), "v1alpha1", std::string(kResource), "", name};
  auto creg = upstream_.GetTyped<v1::ClusterRegistration>(ref);
  if (!creg.ok() && creg.status().reason() == Reason::kNotFound) {
    Forget(key, ws, name);
    return ReconcileResult{};
  }
  if (!creg.ok()) return creg.status().Annotate("reading " + ref.String());
  auto state = StateFor(key);
  const auto now = clock_.Now();
  kube::RestConfig rest;
  Outcome o;
  o.cred = Credentials(key, ws, *creg, *state, rest);
  if (o.cred.ok()) o.probe = ProbeWith(*state, *creg, rest, o.cred, now);
  if (!o.cred.ok()) o.probe.auth = o.cred;
  state->failures = o.probe.ok() ? 0 : state->failures + 1;
  o.failures = state->failures;
  o.threshold = creg->spec.health_check.failure_threshold;
  o.insecure = creg->spec.endpoint.insecure_skip_tls_verify;
  if (state->inventory.inventory) o.inventory = &state->inventory;

  std::vector<apis::Condition> before;  // for the events
  TMCD_ASSIGN_OR_RETURN(const v1::ClusterRegistration written,
                        WriteStatus(upstream_, ref, o, now, options_.heartbeat_interval, before));
  const bool ready_now = apis::IsConditionTrue(written.status.conditions, v1::kConditionReady);
  if (recorder_ != nullptr) {
    const InvolvedObject obj{ws,
                             "tmc.kcp.io/v1alpha1",
                             "ClusterRegistration",
                             "",
                             name,
                             written.metadata.uid,
                             written.metadata.resource_version};
    recorder_->RecordTransition(obj, before, written.status.conditions, std::string(v1::kConditionReady), "True",
                                "ClusterReady");
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (ready_now && o.cred.ok()) {
      connections_[key] = Connection{rest, Fingerprint(rest)};
    } else {
      connections_.erase(key);
    }
  }
  Record(ws, name, ready_now, o.probe);
  {
    std::lock_guard<std::mutex> lock(mu_);
    state->probed = true;
    unprobed_.erase(key);
  }
  if (ready_now != state->ready) {
    spdlog::info("cluster {} in {} is {}", name, ws, ready_now ? "Ready" : "not Ready");
    state->ready = ready_now;
    if (on_ready_change_) on_ready_change_(ws, name, ready_now);
  }
  TMCD_ASSIGN_OR_RETURN(const bool gone, Finalize(ref, *creg));
  if (gone) {
    Forget(key, ws, name);
    return ReconcileResult{};
  }
  // While deleting, look again soon: the copies are being removed.
  if (creg->metadata.deletion_timestamp.set) return ReconcileResult{std::chrono::seconds(1)};
  return ReconcileResult{std::chrono::seconds(creg->spec.health_check.period_seconds)};
}

Result<bool> ClusterController::Finalize(const upstream::ObjectRef& ref, const v1::ClusterRegistration& creg) {
  const bool deleting = creg.metadata.deletion_timestamp.set;
  const bool has = std::find(creg.metadata.finalizers.begin(), creg.metadata.finalizers.end(), kCleanupFinalizer) !=
                   creg.metadata.finalizers.end();
  if (deleting) {
    const size_t left = copies_ ? copies_(ref.workspace, ref.name) : 0;
    if (left > 0) {
      spdlog::info("cluster {} in {} is being deleted: waiting for {} copies to be removed", ref.name, ref.workspace,
                   left);
      return false;
    }
    if (!has) return true;
  } else if (has) {
    return false;
  }
  auto written = upstream_.Mutate(ref, false, [&](Json& cur) -> Result<bool> {
    Json fins = Json::array();
    for (const auto& f : cur["metadata"].value("finalizers", Json::array())) {
      if (f != kCleanupFinalizer) fins.push_back(f);
    }
    if (!cur["metadata"].contains("deletionTimestamp")) fins.push_back(kCleanupFinalizer);
    if (fins == cur["metadata"].value("finalizers", Json::array())) return false;
    cur["metadata"]["finalizers"] = fins;
    return true;
  });
  if (!written.ok() && written.status().reason() == Reason::kNotFound) return true;
  TMCD_TRY(written.status());
  if (deleting)
    spdlog::info("cluster {} in {}: nothing of tmcd's left on it; registration released", ref.name, ref.workspace);
  return deleting;
}

void ClusterController::Record(const std::string& ws, const std::string& name, bool ready, const ProbeResult& probe) {
  const std::map<std::string, std::string> labels = {{"workspace", ws}, {"cluster", name}};
  ready_.Add(labels).Set(ready ? 1 : 0);
  // The age grows with each failed probe (every probe period), so an alert can read it without time().
  const double now = std::chrono::duration<double>(clock_.Now().time_since_epoch()).count();
  if (probe.ok()) heartbeat_time_.Add(labels).Set(now);
  if (heartbeat_time_.Has(labels)) heartbeat_age_.Add(labels).Set(now - heartbeat_time_.Add(labels).Value());
  if (!probe.inventory) return;
  for (const auto& [kind, m] :
       {std::pair{"capacity", &probe.capacity}, {"allocatable", &probe.allocatable}, {"available", &probe.available}}) {
    for (const auto& [r, q] : *m) {
      capacity_.Add({{"workspace", ws}, {"cluster", name}, {"resource", r}, {"kind", kind}})
          .Set(static_cast<double>(q.MilliValue()) / 1000.0);
    }
  }
}

}  // namespace tmcd::engine
