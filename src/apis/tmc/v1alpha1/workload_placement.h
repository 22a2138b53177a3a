#pragma once
// WorkloadPlacement (tmc.kcp.io/v1alpha1, namespaced, short name wp): selects workloads in its own
// namespace and places them on ClusterRegistrations of the same workspace. See docs/api-reference.md.

#include <array>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "apis/meta/condition.h"
#include "apis/meta/field_errors.h"
#include "apis/meta/object_meta.h"
#include "apis/meta/reflect.h"
#include "apis/meta/selector.h"
#include "apis/tmc/v1alpha1/cluster_registration.h"
#include "apis/tmc/v1alpha1/common_types.h"

namespace tmcd::apis::v1alpha1 {

inline constexpr std::array<std::string_view, 5> kStrategies = {"Spread", "Binpack", "LeastLoaded", "LocationAware",
                                                                "RoundRobin"};
inline constexpr std::array<std::string_view, 2> kReplicaSchedulingTypes = {"Duplicated", "Divided"};
inline constexpr std::array<std::string_view, 2> kWeightings = {"Static", "Dynamic"};
inline constexpr std::array<std::string_view, 2> kTolerationOperators = {"Exists", "Equal"};
inline constexpr std::array<std::string_view, 3> kScoringPlugins = {"Capacity", "Balance", "Steady"};
inline constexpr std::array<std::string_view, 2> kDeletionPolicies = {"Delete", "Orphan"};
inline constexpr std::array<std::string_view, 6> kJsonPatchOps = {"add", "remove", "replace", "move", "copy", "test"};
inline constexpr std::string_view kTopologyKeyPattern = "^(location|zone|provider|label:.+)$";

inline constexpr std::string_view kConditionScheduled = "Scheduled";
inline constexpr std::string_view kConditionSynced = "Synced";
// Advanced placement: True while copies are being moved off a cluster (failover) or wait for the
// workspace's failover budget.
inline constexpr std::string_view kConditionEvicting = "Evicting";
// The taint a NotReady cluster carries for failover (effect NoExecute, added when Ready left True).
inline constexpr std::string_view kNotReadyTaint = "tmc.kcp.io/not-ready";

struct WorkloadSelector {
  std::vector<GroupResource> resources;
  std::optional<LabelSelector> label_selector;
  bool operator==(const WorkloadSelector&) const = default;
};

template <class V>
void Reflect(V& v, WorkloadSelector& o) {
  v.Field("resources", o.resources,
          {.doc = "Workload resources to select.",
           .default_json = R"([{"group":"apps","resource":"deployments"}])",
           .max_items = 16});
  v.Field("labelSelector", o.label_selector,
          {.doc = "Workloads whose labels match; an empty selector selects all.", .required = true});
}

struct ClusterSelector {
  std::vector<std::string> locations;
  std::optional<LabelSelector> label_selector;
  std::vector<std::string> cluster_names;
  std::vector<std::string> exclude_clusters;
  bool operator==(const ClusterSelector&) const = default;
};

template <class V>
void Reflect(V& v, ClusterSelector& o) {
  v.Field(
      "locations", o.locations,
      {.doc = "Clusters in any of these locations.", .max_length = 63, .max_items = 64, .pattern = kDNSLabelPattern});
  v.Field("labelSelector", o.label_selector, {.doc = "Clusters whose labels match."});
  v.Field("clusterNames", o.cluster_names,
          {.doc = "Explicit include list of ClusterRegistration names.",
           .max_length = 63,
           .max_items = 256,
           .pattern = kDNSLabelPattern});
  v.Field("excludeClusters", o.exclude_clusters,
          {.doc = "ClusterRegistration names never chosen.",
           .max_length = 63,
           .max_items = 256,
           .pattern = kDNSLabelPattern});
}

struct ClusterWeight {
  std::vector<std::string> cluster_names;
  std::optional<LabelSelector> label_selector;
  int32_t weight = 0;
  bool operator==(const ClusterWeight&) const = default;
};

template <class V>
void Reflect(V& v, ClusterWeight& o) {
  v.Field("clusterNames", o.cluster_names,
          {.doc = "Clusters this weight applies to.", .max_length = 63, .max_items = 256, .pattern = kDNSLabelPattern});
  v.Field("labelSelector", o.label_selector, {.doc = "Clusters this weight applies to, by label."});
  v.Field("weight", o.weight, {.doc = "Relative share of replicas.", .required = true, .minimum = 0, .maximum = 1000});
  v.Rule("has(self.clusterNames) != has(self.labelSelector)", "exactly one of clusterNames or labelSelector");
}

struct ReplicaScheduling {
  std::string type;
  std::string weighting;
  std::vector<ClusterWeight> weights;
  int32_t min_replicas_per_cluster = 0;
  std::optional<int32_t> max_replicas_per_cluster;
  bool operator==(const ReplicaScheduling&) const = default;
};

template <class V>
void Reflect(V& v, ReplicaScheduling& o) {
  v.Field("type", o.type,
          {.doc = "Duplicated: full replicas on each cluster; Divided: split them.",
           .default_json = R"("Duplicated")",
           .enum_values = kReplicaSchedulingTypes});
  v.Field("weighting", o.weighting,
          {.doc = "Divided only: Static (weights) or Dynamic (by available capacity); default Static.",
           .enum_values = kWeightings});
  v.Field("weights", o.weights, {.doc = "Divided + Static only: per-cluster weights.", .max_items = 64});
  v.Field("minReplicasPerCluster", o.min_replicas_per_cluster,
          {.doc = "Divided only: floor per chosen cluster.", .minimum = 0, .maximum = 10000});
  v.Field("maxReplicasPerCluster", o.max_replicas_per_cluster,
          {.doc = "Divided only: ceiling per chosen cluster; replicas beyond every ceiling are not run.",
           .minimum = 1,
           .maximum = 1000000});
  v.Rule("(has(self.type) && self.type == 'Divided') || (!has(self.weighting) && !has(self.weights))",
         "weighting and weights apply only to type Divided");
}

struct SpreadConstraint {
  std::string topology_key;
  int32_t max_skew = 0;
  int32_t min_groups = 0;
  bool operator==(const SpreadConstraint&) const = default;
};

template <class V>
void Reflect(V& v, SpreadConstraint& o) {
  v.Field("topologyKey", o.topology_key,
          {.doc = "location, zone, provider or label:<key>.",
           .required = true,
           .max_length = 330,
           .pattern = kTopologyKeyPattern});
  v.Field("maxSkew", o.max_skew,
          {.doc = "Largest allowed difference in chosen clusters between groups.",
           .default_json = "1",
           .minimum = 1,
           .maximum = 1000});
  v.Field("minGroups", o.min_groups, {.doc = "Fewest distinct groups to use.", .minimum = 0, .maximum = 1000});
}

struct Toleration {
  std::string key;
  std::string op;
  std::string value;
  std::string effect;
  std::optional<int64_t> toleration_seconds;
  bool operator==(const Toleration&) const = default;
};

template <class V>
void Reflect(V& v, Toleration& o) {
  v.Field("key", o.key, {.doc = "Taint key; empty with Exists tolerates everything.", .max_length = 317});
  v.Field("operator", o.op,
          {.doc = "Exists or Equal.", .default_json = R"("Equal")", .enum_values = kTolerationOperators});
  v.Field("value", o.value, {.doc = "Taint value for Equal.", .max_length = 63});
  v.Field("effect", o.effect, {.doc = "Effect to tolerate; empty = all.", .enum_values = kTaintEffects});
  v.Field("tolerationSeconds", o.toleration_seconds,
          {.doc = "NoExecute only: how long copies stay on a cluster after the taint was added (the "
                  "tmc.kcp.io/not-ready taint: after the cluster turned NotReady); absent = for ever, 0 or less = "
                  "move at once. Needs TMCAdvancedPlacement."});
  v.Rule("!has(self.tolerationSeconds) || (has(self.effect) && self.effect == 'NoExecute')",
         "effect must be NoExecute when tolerationSeconds is set");
  v.Rule("!has(self.operator) || self.operator != 'Exists' || !has(self.value)",
         "value must be empty when operator is Exists");
  v.Rule("has(self.key) || (has(self.operator) && self.operator == 'Exists')", "an empty key requires operator Exists");
}

struct ScoringPlugin {
  std::string plugin;
  int32_t weight = 0;
  bool operator==(const ScoringPlugin&) const = default;
};

template <class V>
void Reflect(V& v, ScoringPlugin& o) {
  v.Field("plugin", o.plugin,
          {.doc = "Capacity, Balance or Steady.", .required = true, .enum_values = kScoringPlugins});
  v.Field("weight", o.weight, {.doc = "-10..10; 0 disables the plugin.", .minimum = -10, .maximum = 10});
}

struct JsonPatchOp {
  std::string op;
  std::string path;
  std::string from;
  std::optional<RawJson> value;
  bool operator==(const JsonPatchOp&) const = default;
};

template <class V>
void Reflect(V& v, JsonPatchOp& o) {
  v.Field("op", o.op, {.doc = "RFC 6902 operation.", .required = true, .enum_values = kJsonPatchOps});
  v.Field("path", o.path, {.doc = "JSON Pointer (RFC 6901).", .required = true, .max_length = 1024});
  v.Field("from", o.from, {.doc = "Source pointer for move and copy.", .max_length = 1024});
  v.Field("value", o.value, {.doc = "Value for add, replace and test."});
  v.Rule("!(self.op in ['move', 'copy']) || has(self.from)", "from is required for move and copy");
}

struct ImageOverride {
  std::string registry;
  bool operator==(const ImageOverride&) const = default;
};

template <class V>
void Reflect(V& v, ImageOverride& o) {
  v.Field("registry", o.registry,
          {.doc = "Registry host[:port][/path] that replaces the registry of every container image.",
           .required = true,
           .max_length = 253});
}

// Labels or annotations of the copy's own metadata (not its Pod template's: a JSON patch reaches those).
struct MetadataOverride {
  std::map<std::string, std::string> set;
  std::vector<std::string> remove;
  bool operator==(const MetadataOverride&) const = default;
};

template <class V>
void Reflect(V& v, MetadataOverride& o) {
  v.Field("set", o.set, {.doc = "Keys set to these values, added or replaced."});
  v.Field("remove", o.remove, {.doc = "Keys removed.", .max_items = 64, .list_set = true});
}

struct EnvOverride {
  std::string name;
  std::string value;
  bool operator==(const EnvOverride&) const = default;
};

template <class V>
void Reflect(V& v, EnvOverride& o) {
  v.Field("name", o.name, {.doc = "Variable name.", .required = true, .max_length = 256});
  v.Field("value", o.value, {.doc = "Its value (replaces a value or valueFrom of that name).", .max_length = 32768});
}

// Changes to the containers of the copy's Pod template that have this name.
struct ContainerOverride {
  std::string name;
  std::vector<EnvOverride> env;
  std::vector<std::string> remove_env;
  std::vector<std::string> args;
  std::vector<std::string> append_args;
  bool operator==(const ContainerOverride&) const = default;
};

template <class V>
void Reflect(V& v, ContainerOverride& o) {
  v.Field("name", o.name,
          {.doc = "Container or init container name; empty: every container (init containers excepted).",
           .max_length = 63});
  v.Field("env", o.env,
          {.doc = "Variables set: an existing one of that name is replaced in place, a new one appended.",
           .max_items = 64,
           .list_map_key = "name"});
  v.Field("removeEnv", o.remove_env, {.doc = "Variables removed.", .max_items = 64, .list_set = true});
  v.Field("args", o.args, {.doc = "Replaces the container's args when not empty.", .max_items = 256});
  v.Field("appendArgs", o.append_args, {.doc = "Appended to the args (after a replacement).", .max_items = 256});
}

struct Override {
  ClusterSelector cluster_selector;
  std::optional<ImageOverride> image;
  std::optional<int32_t> replicas;
  std::optional<MetadataOverride> labels;
  std::optional<MetadataOverride> annotations;
  std::vector<ContainerOverride> containers;
  std::vector<JsonPatchOp> json_patch;
  bool operator==(const Override&) const = default;
};

template <class V>
void Reflect(V& v, Override& o) {
  v.Field("clusterSelector", o.cluster_selector, {.doc = "Clusters this override applies to."});
  v.Field("image", o.image, {.doc = "Image registry rewrite."});
  v.Field("replicas", o.replicas,
          {.doc = "Replica count of the copy (kinds with a replicas path; replaces a Divided share).",
           .minimum = 0,
           .maximum = 1000000});
  v.Field("labels", o.labels, {.doc = "Labels of the copy."});
  v.Field("annotations", o.annotations, {.doc = "Annotations of the copy."});
  v.Field("containers", o.containers, {.doc = "Container env and args, by container name.", .max_items = 16});
  v.Field("jsonPatch", o.json_patch, {.doc = "JSON Patch applied to the downstream object, last.", .max_items = 64});
}

struct WorkloadPlacementSpec {
  WorkloadSelector workload_selector;
  ClusterSelector cluster_selector;
  std::optional<int32_t> number_of_clusters;
  std::string strategy;
  ReplicaScheduling replica_scheduling;
  std::vector<SpreadConstraint> spread_constraints;
  std::vector<Toleration> tolerations;
  std::vector<ScoringPlugin> scoring;
  std::string deletion_policy;
  std::vector<Override> overrides;
  bool operator==(const WorkloadPlacementSpec&) const = default;
};

template <class V>
void Reflect(V& v, WorkloadPlacementSpec& o) {
  v.Field("workloadSelector", o.workload_selector, {.doc = "Which workloads in this namespace.", .required = true});
  v.Field("clusterSelector", o.cluster_selector, {.doc = "Which clusters of this workspace may be chosen."});
  v.Field("numberOfClusters", o.number_of_clusters,
          {.doc = "How many clusters to choose; default every matching cluster.", .minimum = 1, .maximum = 1000});
  v.Field("strategy", o.strategy,
          {.doc = "How to rank clusters.", .default_json = R"("Spread")", .enum_values = kStrategies});
  v.Field("replicaScheduling", o.replica_scheduling, {.doc = "Replica handling.", .default_json = "{}"});
  v.Field("spreadConstraints", o.spread_constraints, {.doc = "Topology spread.", .max_items = 8});
  v.Field("tolerations", o.tolerations, {.doc = "Tolerated cluster taints.", .max_items = 32});
  v.Field("scoring", o.scoring, {.doc = "Scoring plugin weights.", .max_items = 8, .list_map_key = "plugin"});
  v.Field("deletionPolicy", o.deletion_policy,
          {.doc = "Delete or Orphan downstream copies when workload or placement goes.",
           .default_json = R"("Delete")",
           .enum_values = kDeletionPolicies});
  v.Field("overrides", o.overrides, {.doc = "Per-cluster changes, applied last, in order.", .max_items = 32});
}

struct ClusterDecision {
  std::string cluster_name;
  std::string location;
  std::optional<int32_t> replicas;
  int32_t score = 0;
  std::string reason;
  std::optional<int64_t> weight;
  bool operator==(const ClusterDecision&) const = default;
};

template <class V>
void Reflect(V& v, ClusterDecision& o) {
  v.Field("clusterName", o.cluster_name, {.doc = "Chosen ClusterRegistration.", .required = true, .max_length = 63});
  v.Field("location", o.location, {.doc = "Its location.", .max_length = 63});
  v.Field("replicas", o.replicas, {.doc = "Replicas on this cluster (workloads with spec.replicas).", .minimum = 0});
  v.Field("weight", o.weight,
          {.doc = "Divided replicas: this cluster's share weight; each workload's replicas are split by it.",
           .minimum = 0});
  v.Field("score", o.score, {.doc = "Total score.", .minimum = -1000, .maximum = 1000});
  v.Field("reason", o.reason, {.doc = "Why, per plugin.", .max_length = 1024});
}

// Failover (advanced placement): a cluster the placement left because it turned NotReady or was
// tainted NoExecute beyond the toleration. Its copies stay, untouched, until the copies on the chosen
// clusters are Ready or the grace period ends (make-before-break; docs/placement.md#failover).
struct ClusterEviction {
  std::string cluster_name;
  std::string reason;
  std::string message;
  Time start_time;
  bool operator==(const ClusterEviction&) const = default;
};

template <class V>
void Reflect(V& v, ClusterEviction& o) {
  v.Field("clusterName", o.cluster_name, {.doc = "The cluster being left.", .required = true, .max_length = 63});
  v.Field("reason", o.reason, {.doc = "ClusterNotReady or NoExecuteTaint.", .required = true, .max_length = 128});
  v.Field("message", o.message, {.doc = "Why, in words.", .max_length = 1024});
  v.Field("startTime", o.start_time, {.doc = "When the move began; the grace period counts from it."});
}

struct WorkloadPlacementStatus {
  int64_t observed_generation = 0;
  int64_t decision_generation = 0;
  Time last_schedule_time;
  int32_t selected_workloads = 0;
  std::vector<ClusterDecision> decisions;
  std::vector<ClusterEviction> evictions;
  std::vector<Condition> conditions;
  bool operator==(const WorkloadPlacementStatus&) const = default;
};

template <class V>
void Reflect(V& v, WorkloadPlacementStatus& o) {
  v.Field("observedGeneration", o.observed_generation, {.doc = "Generation acted on.", .minimum = 0});
  v.Field("decisionGeneration", o.decision_generation,
          {.doc = "Bumps when the chosen set or replica split changes.", .minimum = 0});
  v.Field("lastScheduleTime", o.last_schedule_time, {.doc = "When decisions last changed."});
  v.Field("selectedWorkloads", o.selected_workloads, {.doc = "Workloads the selector matches.", .minimum = 0});
  v.Field("decisions", o.decisions, {.doc = "Chosen clusters.", .max_items = 1000, .list_map_key = "clusterName"});
  v.Field("evictions", o.evictions,
          {.doc = "Clusters being left by failover; their copies stay until the new ones are Ready.",
           .max_items = 1000,
           .list_map_key = "clusterName"});
  v.Field("conditions", o.conditions,
          {.doc = "Scheduled, Synced, Ready, Evicting.", .max_items = 16, .list_map_key = "type"});
}

struct WorkloadPlacement {
  std::string api_version;
  std::string kind;
  ObjectMeta metadata;
  WorkloadPlacementSpec spec;
  WorkloadPlacementStatus status;
  bool operator==(const WorkloadPlacement&) const = default;
};

template <class V>
void Reflect(V& v, WorkloadPlacement& o) {
  v.Field("apiVersion", o.api_version, {.doc = "tmc.kcp.io/v1alpha1"});
  v.Field("kind", o.kind, {.doc = "WorkloadPlacement"});
  v.Field("metadata", o.metadata);
  v.Field("spec", o.spec, {.required = true});
  v.Field("status", o.status);
}

void CheckRules(const ClusterWeight& w, const std::string& path, FieldErrors& errs);
void CheckRules(const ReplicaScheduling& r, const std::string& path, FieldErrors& errs);
void CheckRules(const Toleration& t, const std::string& path, FieldErrors& errs);
void CheckRules(const JsonPatchOp& p, const std::string& path, FieldErrors& errs);
void CheckRules(const ClusterSelector& s, const std::string& path, FieldErrors& errs);
void CheckRules(const ContainerOverride& c, const std::string& path, FieldErrors& errs);
void CheckRules(const Override& o, const std::string& path, FieldErrors& errs);
void CheckRules(const WorkloadPlacementSpec& s, const std::string& path, FieldErrors& errs);
void CheckRules(const WorkloadPlacementStatus& s, const std::string& path, FieldErrors& errs);
void CheckRules(const WorkloadPlacement& p, const std::string& path, FieldErrors& errs);

// A field of the spec that the placement engine does not act on yet: advanced placement (roadmap
// step 07). `value` is the offending value for enums, "" for lists that must stay empty.
struct UnimplementedField {
  std::string path;  // "spec.strategy"
  std::string value;
  std::string detail;  // why, for the error or condition message
  bool operator==(const UnimplementedField&) const = default;
};
// What the spec asks for that tmcd would ignore. Without advanced placement (feature gate
// TMCAdvancedPlacement off): strategy Binpack/LeastLoaded/LocationAware, scoring, spreadConstraints,
// replicaScheduling Divided, overrides and tolerationSeconds (Spread, the default, and RoundRobin are both the basic
// round-robin spread); with it, scoring together with RoundRobin (which has no scores). The local API refuses such a
// spec; in kcp mode, where kcp validates, the placement controller reports it (Scheduled=False, reason Unsupported) and
// keeps its previous decisions (docs/placement.md#fields-that-need-the-gate).
std::vector<UnimplementedField> UnimplementedFields(const WorkloadPlacementSpec& s, bool advanced = false);

}  // namespace tmcd::apis::v1alpha1
