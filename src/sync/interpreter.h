#pragma once
// The resource interpreter (docs/interpreter.md, docs/sync.md "Per-kind rules"): what the syncer
// needs to know about a kind to place it on clusters and bring its status back, as declarative
// rules — the same shape for the built-in Kubernetes kinds below and for custom resources an
// operator describes. Per kind: where its replica count is, which objects of its namespace travel
// with it, which fields are per cluster and must not be copied, how each status field of the copies
// aggregates into the upstream status, and when one copy counts as healthy.
// Kinds without rules get the generic ones: conditions combined (True only when True on every
// cluster), observedGeneration when the copies report it, healthy once applied.
// Immutable tables and pure functions; thread-safe.

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "apis/meta/json_path.h"
#include "engine/placement_capacity.h"

namespace tmcd::sync {

using Json = nlohmann::json;
using apis::JsonPath;

enum class Aggregation {
  kReplicas,     // counters of copies of one workload: min when Duplicated, sum when Divided
  kShortfall,    // counters of what is missing: max when Duplicated, sum when Divided
  kSum,          // numbers added up (DaemonSet Pods)
  kMin,          // numbers
  kMax,          // numbers
  kAll,          // booleans: true when true on every cluster
  kAny,          // booleans: true when true on some cluster
  kUnion,        // arrays: every distinct element (load-balancer ingress)
  kLatest,       // RFC 3339 times: the latest any cluster reports
  kEarliest,     // RFC 3339 times: the earliest any cluster reports
  kLatestOfAll,  // RFC 3339 times: the latest, once every cluster reports one (Job completionTime)
  kUnanimous,    // any value: set when every cluster reports the same one (PVC phase)
};
std::optional<Aggregation> ParseAggregation(std::string_view name);
std::string_view AggregationName(Aggregation a);

// A status field (path below .status) and how the copies' values combine.
struct StatusField {
  JsonPath path;
  Aggregation op;
};

// When one copy is healthy (its SyncRecord's Ready condition; the placement's Ready count).
struct Health {
  enum class Rule { kApplied, kCondition, kCounter, kPhase };
  Rule rule = Rule::kApplied;
  std::string condition;  // kCondition: this condition type is True
  JsonPath ready;         // kCounter: this number (from the object root) ...
  JsonPath desired;       // ... reaches this one (absent: desired_default)
  int64_t desired_default = 1;
  std::string phase;  // kPhase: .status.phase is this
};

// Names at `path` in the object are objects of (group, version, resource) in its namespace.
struct DependencyRule {
  JsonPath path;
  std::string group;
  std::string version;
  std::string resource;
};

struct KindRules {
  std::string group;
  std::string version;
  std::string resource;
  std::string kind;
  std::optional<JsonPath> replicas;      // spec path of the replica count (Divided placements)
  std::optional<JsonPath> pod_template;  // a PodTemplateSpec: its ConfigMaps, Secrets, ServiceAccount, PVCs
  bool selected_services = false;        // Services selecting the template's Pods travel with it
  bool scale_target = false;             // .spec.scaleTargetRef is a dependency (HPA)
  std::vector<DependencyRule> dependencies;
  std::vector<JsonPath> strip;  // removed from the desired object (per-cluster fields)
  std::vector<StatusField> status;
  std::vector<std::string> any_conditions;  // True when True on some cluster (Job Failed)
  bool observed_generation = false;         // the kind reports .status.observedGeneration
  Health health;

  std::string GroupResource() const { return group.empty() ? resource : resource + "." + group; }
};

// The built-in rules of (group, resource), or nullptr.
const KindRules* BuiltinRules(std::string_view group, std::string_view resource);
const std::vector<KindRules>& BuiltinKinds();
// The rules of a kind without built-in ones.
KindRules GenericRules(std::string group, std::string version, std::string resource, std::string kind);

// An object a workload needs next to it on the cluster, in the workload's namespace.
struct Dependency {
  std::string group;
  std::string version;
  std::string resource;
  std::string name;
  // "<resource>/<name>" for the core group, "<resource>.<group>/<name>" otherwise (SyncRecord
  // status.dependencies).
  std::string String() const;
  static std::optional<Dependency> FromString(std::string_view s);
  bool operator<(const Dependency& o) const { return String() < o.String(); }
  bool operator==(const Dependency& o) const { return String() == o.String(); }
};

// The dependencies the rules name in `obj` (pod template references, dependency paths, the scale
// target); sorted, unique. Services chosen by selector are the syncer's (they need a list).
std::vector<Dependency> DependenciesOf(const KindRules& rules, const Json& obj);
// What the workload's pods request (advanced placement's capacity, engine/placement_capacity.h): the
// pod template's effective requests and the replica count (absent: 1); nullopt when the kind has no
// pod template or the object has none.
std::optional<engine::WorkloadDemand> PodDemand(const KindRules& rules, const Json& obj);
// Removes the per-cluster fields from a desired object.
void StripFields(const KindRules& rules, Json& desired);
// Whether a downstream copy (the whole object as the cluster returned it) is healthy; `why` gets a
// short reason when it is not.
bool Healthy(const KindRules& rules, const Json& downstream, std::string* why);

}  // namespace tmcd::sync
