#pragma once
// ResourceInterpreter (tmc.kcp.io/v1alpha1, cluster-scoped, local API): teaches tmcd how to sync one custom
// resource without code — where its replica count is, what travels with it, which fields are per cluster,
// how each status field of its copies aggregates, and when a copy is healthy (docs/interpreter.md). The
// syncer reads it as the same rules the built-in kinds have (sync/interpreter.h).
// Name: <resource>.<group> of the target.

#include <array>
#include <string>
#include <vector>

#include "apis/meta/condition.h"
#include "apis/meta/field_errors.h"
#include "apis/meta/object_meta.h"
#include "apis/meta/reflect.h"

namespace tmcd::apis::v1alpha1 {

// The aggregations of sync::Aggregation, by name (sync/interpreter.h; a unit test keeps them equal).
inline constexpr std::array<std::string_view, 12> kAggregations = {"Replicas", "Shortfall", "Sum",         "Min",
                                                                   "Max",      "All",       "Any",         "Union",
                                                                   "Latest",   "Earliest",  "LatestOfAll", "Unanimous"};
inline constexpr std::array<std::string_view, 4> kHealthRules = {"Applied", "Condition", "Counter", "Phase"};

struct InterpreterTarget {
  std::string group;
  std::string version;
  std::string resource;
  std::string kind;
  bool operator==(const InterpreterTarget&) const = default;
};

template <class V>
void Reflect(V& v, InterpreterTarget& o) {
  v.Field("group", o.group, {.doc = "API group of the custom resource.", .required = true, .max_length = 253});
  v.Field("version", o.version, {.doc = "Its served version.", .required = true, .max_length = 63});
  v.Field("resource", o.resource, {.doc = "Its plural resource name.", .required = true, .max_length = 63});
  v.Field("kind", o.kind, {.doc = "Its kind.", .required = true, .max_length = 63});
}

struct InterpreterDependency {
  std::string path;
  std::string group;
  std::string version;
  std::string resource;
  bool operator==(const InterpreterDependency&) const = default;
};

template <class V>
void Reflect(V& v, InterpreterDependency& o) {
  v.Field("path", o.path,
          {.doc = "Where the object names the dependency, e.g. .spec.configRef.name or .spec.secrets[*].name.",
           .required = true,
           .max_length = 256});
  v.Field("group", o.group, {.doc = "API group of the named objects (\"\" = core).", .max_length = 253});
  v.Field("version", o.version, {.doc = "Their version.", .required = true, .max_length = 63});
  v.Field("resource", o.resource,
          {.doc = "Their plural resource, in the workload's namespace (configmaps, secrets, ...).",
           .required = true,
           .max_length = 63});
}

struct InterpreterStatusField {
  std::string path;
  std::string aggregation;
  bool operator==(const InterpreterStatusField&) const = default;
};

template <class V>
void Reflect(V& v, InterpreterStatusField& o) {
  v.Field("path", o.path,
          {.doc = "A field below .status, e.g. .readyReplicas (relative to .status).",
           .required = true,
           .max_length = 256});
  v.Field("aggregation", o.aggregation,
          {.doc = "How the copies' values combine: Replicas (min when Duplicated, sum when Divided), Shortfall, "
                  "Sum, Min, Max, All, Any, Union, Latest, Earliest, LatestOfAll, Unanimous.",
           .required = true,
           .enum_values = kAggregations});
}

struct InterpreterHealth {
  std::string rule;
  std::string condition;
  std::string ready;
  std::string desired;
  std::string phase;
  bool operator==(const InterpreterHealth&) const = default;
};

template <class V>
void Reflect(V& v, InterpreterHealth& o) {
  v.Field("rule", o.rule,
          {.doc = "Applied (healthy once applied), Condition (a condition is True), Counter (a number reaches "
                  "another) or Phase (.status.phase has a value).",
           .default_json = "\"Applied\"",
           .enum_values = kHealthRules});
  v.Field("condition", o.condition, {.doc = "Condition: the condition type that must be True.", .max_length = 316});
  v.Field("ready", o.ready,
          {.doc = "Counter: the path of the ready count, e.g. .status.readyReplicas.", .max_length = 256});
  v.Field("desired", o.desired, {.doc = "Counter: the path of the wanted count (absent: 1).", .max_length = 256});
  v.Field("phase", o.phase, {.doc = "Phase: the healthy value of .status.phase.", .max_length = 63});
}

struct ResourceInterpreterSpec {
  InterpreterTarget target;
  std::string replicas;
  std::string pod_template;
  std::vector<InterpreterDependency> dependencies;
  std::vector<std::string> strip;
  std::vector<InterpreterStatusField> status;
  std::vector<std::string> any_conditions;
  bool observed_generation = false;
  InterpreterHealth health;
  bool operator==(const ResourceInterpreterSpec&) const = default;
};

template <class V>
void Reflect(V& v, ResourceInterpreterSpec& o) {
  v.Field("target", o.target, {.doc = "The custom resource these rules are for.", .required = true});
  v.Field("replicas", o.replicas, {.doc = "Path of its replica count, e.g. .spec.replicas.", .max_length = 256});
  v.Field("podTemplate", o.pod_template,
          {.doc = "Path of a PodTemplateSpec: its ConfigMaps, Secrets, ServiceAccount and PVCs travel with it.",
           .max_length = 256});
  v.Field("dependencies", o.dependencies,
          {.doc = "Other objects of the namespace it names, synced with it.", .max_items = 32});
  v.Field(
      "strip", o.strip,
      {.doc = "Paths removed before copying (fields each cluster sets itself).", .max_length = 256, .max_items = 32});
  v.Field("status", o.status,
          {.doc = "Status fields brought back from the copies and how each aggregates.",
           .max_items = 64,
           .list_map_key = "path"});
  v.Field("anyConditions", o.any_conditions,
          {.doc = "Condition types that are True upstream when True on some cluster (others: on every cluster).",
           .max_length = 316,
           .max_items = 16});
  v.Field("observedGeneration", o.observed_generation,
          {.doc = "The kind reports .status.observedGeneration: upstream gets it once every copy is current."});
  v.Field("health", o.health,
          {.doc = "When one copy counts as healthy (SyncRecord Ready; placement Ready). Default: Applied."});
}

// Written by tmcd's syncer when it reads the interpreter: Accepted says whether its rules are in use.
inline constexpr std::string_view kConditionAccepted = "Accepted";

struct ResourceInterpreterStatus {
  int64_t observed_generation = 0;
  std::vector<Condition> conditions;
  bool operator==(const ResourceInterpreterStatus&) const = default;
};

template <class V>
void Reflect(V& v, ResourceInterpreterStatus& o) {
  v.Field("observedGeneration", o.observed_generation, {.doc = "Generation the syncer read.", .minimum = 0});
  v.Field("conditions", o.conditions,
          {.doc = "Accepted: the rules are in use (False: why not).", .max_items = 8, .list_map_key = "type"});
}

struct ResourceInterpreter {
  std::string api_version;
  std::string kind;
  ObjectMeta metadata;
  ResourceInterpreterSpec spec;
  ResourceInterpreterStatus status;
  bool operator==(const ResourceInterpreter&) const = default;
};

template <class V>
void Reflect(V& v, ResourceInterpreter& o) {
  v.Field("apiVersion", o.api_version, {.doc = "tmc.kcp.io/v1alpha1"});
  v.Field("kind", o.kind, {.doc = "ResourceInterpreter"});
  v.Field("metadata", o.metadata);
  v.Field("spec", o.spec, {.required = true});
  v.Field("status", o.status);
}

void CheckRules(const ResourceInterpreterSpec& s, const std::string& path, FieldErrors& errs);
void CheckRules(const ResourceInterpreter& r, const std::string& path, FieldErrors& errs);

}  // namespace tmcd::apis::v1alpha1
