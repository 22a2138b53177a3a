#include "sync/interpreter.h"

#include <algorithm>
#include <array>
#include <climits>
#include <set>
#include <utility>

#include "sync/transform.h"

namespace tmcd::sync {
namespace {

using A = Aggregation;

constexpr std::array<std::pair<Aggregation, std::string_view>, 12> kNames = {{
    {A::kReplicas, "Replicas"},
    {A::kShortfall, "Shortfall"},
    {A::kSum, "Sum"},
    {A::kMin, "Min"},
    {A::kMax, "Max"},
    {A::kAll, "All"},
    {A::kAny, "Any"},
    {A::kUnion, "Union"},
    {A::kLatest, "Latest"},
    {A::kEarliest, "Earliest"},
    {A::kLatestOfAll, "LatestOfAll"},
    {A::kUnanimous, "Unanimous"},
}};

JsonPath P(std::initializer_list<const char*> segs) {
  std::vector<std::string> v;
  for (const char* s : segs) v.emplace_back(s);
  return JsonPath::Of(std::move(v));
}

std::vector<StatusField> Fields(Aggregation op, std::initializer_list<const char*> names) {
  std::vector<StatusField> out;
  for (const char* n : names) out.push_back({P({n}), op});
  return out;
}

KindRules Kind(const char* group, const char* resource, const char* kind, const char* version = "v1") {
  KindRules r;
  r.group = group;
  r.version = version;
  r.resource = resource;
  r.kind = kind;
  return r;
}

Health Condition(const char* type) {
  Health h;
  h.rule = Health::Rule::kCondition;
  h.condition = type;
  return h;
}

Health Counter(JsonPath ready, JsonPath desired, int64_t def) {
  Health h;
  h.rule = Health::Rule::kCounter;
  h.ready = std::move(ready);
  h.desired = std::move(desired);
  h.desired_default = def;
  return h;
}

KindRules PodOwner(const char* group, const char* resource, const char* kind, JsonPath tmpl) {
  KindRules r = Kind(group, resource, kind);
  r.pod_template = std::move(tmpl);
  r.selected_services = true;
  r.observed_generation = true;
  return r;
}

KindRules Deployments() {
  KindRules r = PodOwner("apps", "deployments", "Deployment", P({"spec", "template"}));
  r.replicas = P({"spec", "replicas"});
  r.status = Fields(A::kReplicas, {"replicas", "updatedReplicas", "readyReplicas", "availableReplicas"});
  r.status.push_back({P({"unavailableReplicas"}), A::kShortfall});
  r.health = Condition("Available");
  return r;
}

KindRules StatefulSets() {
  KindRules r = PodOwner("apps", "statefulsets", "StatefulSet", P({"spec", "template"}));
  r.replicas = P({"spec", "replicas"});
  r.dependencies.push_back({P({"spec", "serviceName"}), "", "v1", "services"});
  r.status =
      Fields(A::kReplicas, {"replicas", "readyReplicas", "currentReplicas", "updatedReplicas", "availableReplicas"});
  r.health = Counter(P({"status", "readyReplicas"}), P({"spec", "replicas"}), 1);
  return r;
}

KindRules ReplicaSets() {
  KindRules r = PodOwner("apps", "replicasets", "ReplicaSet", P({"spec", "template"}));
  r.replicas = P({"spec", "replicas"});
  r.status = Fields(A::kReplicas, {"replicas", "fullyLabeledReplicas", "readyReplicas", "availableReplicas"});
  r.health = Counter(P({"status", "availableReplicas"}), P({"spec", "replicas"}), 1);
  return r;
}

KindRules DaemonSets() {
  KindRules r = PodOwner("apps", "daemonsets", "DaemonSet", P({"spec", "template"}));
  r.status = Fields(A::kSum, {"currentNumberScheduled", "desiredNumberScheduled", "numberReady", "numberAvailable",
                              "updatedNumberScheduled", "numberMisscheduled", "numberUnavailable"});
  r.health = Counter(P({"status", "numberAvailable"}), P({"status", "desiredNumberScheduled"}), 0);
  return r;
}

KindRules Jobs() {
  KindRules r = PodOwner("batch", "jobs", "Job", P({"spec", "template"}));
  r.selected_services = false;
  r.observed_generation = false;
  r.replicas = P({"spec", "parallelism"});
  // The selector and these template labels are generated from the Job's uid by each apiserver.
  for (const char* l :
       {"controller-uid", "job-name", "batch.kubernetes.io/controller-uid", "batch.kubernetes.io/job-name"}) {
    r.strip.push_back(P({"spec", "template", "metadata", "labels", l}));
  }
  r.strip.push_back(P({"spec", "selector"}));  // kept when spec.manualSelector is true (StripFields)
  // Like Deployment replicas: a Duplicated Job runs all its completions on every cluster, so
  // "succeeded 3" upstream means 3 on each (kubectl's COMPLETIONS then reads 3/3, not 6/3).
  r.status = Fields(A::kReplicas, {"active", "succeeded", "ready", "terminating"});
  r.status.push_back({P({"failed"}), A::kShortfall});
  r.status.push_back({P({"startTime"}), A::kEarliest});
  r.status.push_back({P({"completionTime"}), A::kLatestOfAll});
  r.any_conditions = {"Failed", "FailureTarget"};
  r.health = Condition("Complete");
  return r;
}

KindRules CronJobs() {
  KindRules r = PodOwner("batch", "cronjobs", "CronJob", P({"spec", "jobTemplate", "spec", "template"}));
  r.selected_services = false;
  r.observed_generation = false;
  r.status = {{P({"lastScheduleTime"}), A::kLatest}, {P({"lastSuccessfulTime"}), A::kLatest}};
  return r;
}

KindRules Services() {
  KindRules r = Kind("", "services", "Service");
  r.status = {{P({"loadBalancer", "ingress"}), A::kUnion}};
  return r;
}

KindRules Ingresses() {
  KindRules r = Kind("networking.k8s.io", "ingresses", "Ingress");
  r.dependencies = {
      {P({"spec", "defaultBackend", "service", "name"}), "", "v1", "services"},
      {P({"spec", "rules", "*", "http", "paths", "*", "backend", "service", "name"}), "", "v1", "services"},
      {P({"spec", "tls", "*", "secretName"}), "", "v1", "secrets"}};
  r.status = {{P({"loadBalancer", "ingress"}), A::kUnion}};
  return r;
}

KindRules PersistentVolumeClaims() {
  KindRules r = Kind("", "persistentvolumeclaims", "PersistentVolumeClaim");
  r.strip.push_back(P({"spec", "volumeName"}));
  for (const char* a : {"pv.kubernetes.io/bind-completed", "pv.kubernetes.io/bound-by-controller",
                        "volume.beta.kubernetes.io/storage-provisioner", "volume.kubernetes.io/storage-provisioner",
                        "volume.kubernetes.io/selected-node"}) {
    r.strip.push_back(P({"metadata", "annotations", a}));
  }
  r.status = {{P({"phase"}), A::kUnanimous}, {P({"accessModes"}), A::kUnanimous}, {P({"capacity"}), A::kUnanimous}};
  r.health.rule = Health::Rule::kPhase;
  r.health.phase = "Bound";
  return r;
}

KindRules HorizontalPodAutoscalers() {
  KindRules r = Kind("autoscaling", "horizontalpodautoscalers", "HorizontalPodAutoscaler", "v2");
  r.scale_target = true;
  r.observed_generation = true;
  r.status = Fields(A::kSum, {"currentReplicas", "desiredReplicas"});
  r.status.push_back({P({"lastScaleTime"}), A::kLatest});
  r.health = Condition("AbleToScale");
  return r;
}

KindRules PodDisruptionBudgets() {
  KindRules r = Kind("policy", "poddisruptionbudgets", "PodDisruptionBudget");
  r.observed_generation = true;
  r.status = Fields(A::kSum, {"currentHealthy", "desiredHealthy", "expectedPods"});
  r.status.push_back({P({"disruptionsAllowed"}), A::kMin});
  return r;
}

std::vector<KindRules> Build() {
  std::vector<KindRules> out = {Deployments(),
                                StatefulSets(),
                                DaemonSets(),
                                ReplicaSets(),
                                Jobs(),
                                CronJobs(),
                                Services(),
                                Ingresses(),
                                PersistentVolumeClaims(),
                                HorizontalPodAutoscalers(),
                                PodDisruptionBudgets(),
                                Kind("networking.k8s.io", "networkpolicies", "NetworkPolicy"),
                                Kind("", "configmaps", "ConfigMap"),
                                Kind("", "secrets", "Secret"),
                                Kind("", "serviceaccounts", "ServiceAccount")};
  out.back().strip.push_back(P({"secrets"}));  // token Secrets are per cluster
  return out;
}

// The resource of a scaleTargetRef (apiVersion + kind) among the built-in kinds.
std::optional<Dependency> ScaleTarget(const Json& obj) {
  const Json* ref = P({"spec", "scaleTargetRef"}).Find(obj);
  if (ref == nullptr || !ref->is_object()) return std::nullopt;
  const std::string api = ref->value("apiVersion", ""), kind = ref->value("kind", ""), name = ref->value("name", "");
  const auto slash = api.find('/');
  const std::string group = slash == std::string::npos ? "" : api.substr(0, slash);
  for (const auto& k : BuiltinKinds()) {
    if (k.kind == kind && k.group == group && !name.empty()) return Dependency{k.group, k.version, k.resource, name};
  }
  return std::nullopt;
}

}  // namespace

std::optional<Aggregation> ParseAggregation(std::string_view name) {
  for (const auto& [a, n] : kNames) {
    if (n == name) return a;
  }
  return std::nullopt;
}

std::string_view AggregationName(Aggregation a) {
  for (const auto& [x, n] : kNames) {
    if (x == a) return n;
  }
  return "";
}

const std::vector<KindRules>& BuiltinKinds() {
  static const std::vector<KindRules> kKinds = Build();
  return kKinds;
}

const KindRules* BuiltinRules(std::string_view group, std::string_view resource) {
  for (const auto& k : BuiltinKinds()) {
    if (k.group == group && k.resource == resource) return &k;
  }
  return nullptr;
}

KindRules GenericRules(std::string group, std::string version, std::string resource, std::string kind) {
  KindRules r;
  r.group = std::move(group);
  r.version = std::move(version);
  r.resource = std::move(resource);
  r.kind = std::move(kind);
  return r;
}

std::string Dependency::String() const {
  return (group.empty() ? resource : resource + "." + group) + "/" + name;
}

std::optional<Dependency> Dependency::FromString(std::string_view s) {
  const auto slash = s.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == s.size()) return std::nullopt;
  const std::string gr(s.substr(0, slash));
  const auto dot = gr.find('.');
  Dependency d;
  d.resource = gr.substr(0, dot);
  d.group = dot == std::string::npos ? "" : gr.substr(dot + 1);
  d.name = std::string(s.substr(slash + 1));
  const KindRules* k = BuiltinRules(d.group, d.resource);
  d.version = k != nullptr ? k->version : "v1";
  return d;
}

std::vector<Dependency> DependenciesOf(const KindRules& rules, const Json& obj) {
  std::set<Dependency> out;
  if (rules.pod_template) {
    if (const Json* t = rules.pod_template->Find(obj); t != nullptr) {
      for (const auto& r : PodTemplateReferences(*t)) out.insert({"", "v1", r.resource, r.name});
    }
  }
  for (const auto& d : rules.dependencies) {
    for (const Json* v : d.path.Collect(obj)) {
      if (v->is_string() && !v->get<std::string>().empty()) {
        out.insert({d.group, d.version, d.resource, v->get<std::string>()});
      }
    }
  }
  if (rules.scale_target) {
    if (auto t = ScaleTarget(obj)) out.insert(*t);
  }
  return {out.begin(), out.end()};
}

std::optional<engine::WorkloadDemand> PodDemand(const KindRules& rules, const Json& obj) {
  if (!rules.pod_template) return std::nullopt;
  const Json* tmpl = rules.pod_template->Find(obj);
  if (tmpl == nullptr || !tmpl->is_object()) return std::nullopt;
  engine::WorkloadDemand d;
  const auto spec = tmpl->find("spec");
  if (spec != tmpl->end()) d.per_pod = engine::PodRequests(*spec);
  d.divisible = rules.replicas.has_value();
  const Json* replicas = rules.replicas ? rules.replicas->Find(obj) : nullptr;
  if (replicas != nullptr && replicas->is_number_integer()) {
    d.replicas = static_cast<int32_t>(std::clamp<int64_t>(replicas->get<int64_t>(), 0, INT32_MAX));
  }
  return d;
}

void StripFields(const KindRules& rules, Json& desired) {
  const Json* manual = P({"spec", "manualSelector"}).Find(desired);
  const bool keep_selector =
      rules.resource == "jobs" && manual != nullptr && manual->is_boolean() && manual->get<bool>();
  for (const auto& p : rules.strip) {
    if (keep_selector && p == P({"spec", "selector"})) continue;
    p.Erase(desired);
  }
}

bool Healthy(const KindRules& rules, const Json& downstream, std::string* why) {
  const Json st = downstream.value("status", Json::object());
  switch (rules.health.rule) {
    case Health::Rule::kApplied:
      return true;
    case Health::Rule::kCondition:
      for (const auto& c : st.value("conditions", Json::array())) {
        if (c.is_object() && c.value("type", "") == rules.health.condition && c.value("status", "") == "True") {
          return true;
        }
      }
      if (why != nullptr) *why = "condition " + rules.health.condition + " is not True on the cluster yet";
      return false;
    case Health::Rule::kCounter: {
      const Json* r = rules.health.ready.Find(downstream);
      const Json* d = rules.health.desired.Find(downstream);
      const int64_t ready = r != nullptr && r->is_number_integer() ? r->get<int64_t>() : 0;
      const int64_t desired = d != nullptr && d->is_number_integer() ? d->get<int64_t>() : rules.health.desired_default;
      if (ready >= desired) return true;
      if (why != nullptr) {
        *why = rules.health.ready.String() + " is " + std::to_string(ready) + " of " + std::to_string(desired);
      }
      return false;
    }
    case Health::Rule::kPhase:
      if (st.value("phase", "") == rules.health.phase) return true;
      if (why != nullptr)
        *why = "phase is " + st.value("phase", std::string("not reported")) + ", not " + rules.health.phase;
      return false;
  }
  return true;
}

}  // namespace tmcd::sync
