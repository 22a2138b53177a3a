#include "apis/tmc/v1alpha1/workload_placement.h"

#include <algorithm>
#include <set>

#include "apis/meta/names.h"
#include "common/strings.h"

namespace tmcd::apis::v1alpha1 {
namespace {

// RFC 6901: "" or "/"-separated tokens where '~' is only followed by '0' or '1'.
bool IsJsonPointer(std::string_view p) {
  if (p.empty()) return true;
  if (p.front() != '/') return false;
  for (size_t i = 0; i < p.size(); ++i) {
    if (p[i] == '~' && (i + 1 == p.size() || (p[i + 1] != '0' && p[i + 1] != '1'))) return false;
  }
  return true;
}

template <class T, class KeyFn>
void CheckUnique(const std::vector<T>& list, const std::string& path, KeyFn key, FieldErrors& errs) {
  std::set<std::string> seen;
  for (size_t i = 0; i < list.size(); ++i) {
    std::string k = key(list[i]);
    if (!seen.insert(k).second) errs.Duplicate(IndexPath(path, i), Quote(k));
  }
}

// Kubernetes' rule for environment variable names: printable ASCII other than '='.
bool IsEnvVarName(std::string_view n) {
  if (n.empty()) return false;
  return std::all_of(n.begin(), n.end(), [](char c) { return c >= ' ' && c <= '~' && c != '='; });
}

// Keys whose prefix is tmc.kcp.io or a subdomain of it are tmcd's marks on the copy.
bool IsTmcdKey(std::string_view key) {
  const auto slash = key.find('/');
  if (slash == std::string_view::npos) return false;
  const std::string_view prefix = key.substr(0, slash);
  return prefix == "tmc.kcp.io" || prefix.ends_with(".tmc.kcp.io");
}

// labels or annotations of an override: valid keys (and label values), none of tmcd's, none both set
// and removed; annotations within Kubernetes' 256 KiB total.
void CheckMetadataOverride(const MetadataOverride& m, bool labels, const std::string& path, FieldErrors& errs) {
  const std::string set_path = JoinPath(path, "set");
  size_t total = 0;
  for (const auto& [key, value] : m.set) {
    const std::string field = set_path + "[" + key + "]";
    for (const auto& msg : CheckQualifiedName(key)) errs.Invalid(field, Quote(key), msg);
    if (labels) {
      for (const auto& msg : CheckLabelValue(value)) errs.Invalid(field, Quote(value), msg);
    }
    if (IsTmcdKey(key)) errs.Forbidden(field, "keys under tmc.kcp.io/ are tmcd's marks on the copy");
    total += key.size() + value.size();
  }
  constexpr size_t kAnnotationBytes = size_t{256} * 1024;  // Kubernetes' total for annotations
  if (!labels && total > kAnnotationBytes) errs.TooLong(set_path, kAnnotationBytes);
  for (size_t i = 0; i < m.remove.size(); ++i) {
    const std::string& key = m.remove[i];
    const std::string field = IndexPath(JoinPath(path, "remove"), i);
    for (const auto& msg : CheckQualifiedName(key)) errs.Invalid(field, Quote(key), msg);
    if (IsTmcdKey(key)) errs.Forbidden(field, "keys under tmc.kcp.io/ are tmcd's marks on the copy");
    if (m.set.count(key) != 0) errs.Invalid(field, Quote(key), "is also set");
  }
}

}  // namespace

void CheckRules(const ClusterWeight& w, const std::string& path, FieldErrors& errs) {
  if (w.cluster_names.empty() == !w.label_selector.has_value()) {
    errs.Invalid(path, "", "exactly one of clusterNames or labelSelector must be set");
  }
}

void CheckRules(const ReplicaScheduling& r, const std::string& path, FieldErrors& errs) {
  if (r.type != "Divided") {
    if (!r.weighting.empty()) errs.Forbidden(JoinPath(path, "weighting"), "only for type Divided");
    if (!r.weights.empty()) errs.Forbidden(JoinPath(path, "weights"), "only for type Divided");
    if (r.min_replicas_per_cluster != 0)
      errs.Forbidden(JoinPath(path, "minReplicasPerCluster"), "only for type Divided");
    if (r.max_replicas_per_cluster) errs.Forbidden(JoinPath(path, "maxReplicasPerCluster"), "only for type Divided");
  } else if (r.max_replicas_per_cluster && *r.max_replicas_per_cluster < r.min_replicas_per_cluster) {
    errs.Invalid(JoinPath(path, "maxReplicasPerCluster"), std::to_string(*r.max_replicas_per_cluster),
                 "must not be below minReplicasPerCluster (" + std::to_string(r.min_replicas_per_cluster) + ")");
  }
  if (r.type == "Divided" && r.weighting == "Dynamic" && !r.weights.empty()) {
    errs.Forbidden(JoinPath(path, "weights"), "only with weighting Static (Dynamic weighs by available capacity)");
  }
}

void CheckRules(const Toleration& t, const std::string& path, FieldErrors& errs) {
  if (!t.key.empty()) {
    for (const auto& msg : CheckQualifiedName(t.key)) errs.Invalid(JoinPath(path, "key"), Quote(t.key), msg);
  } else if (t.op != "Exists") {
    errs.Invalid(JoinPath(path, "operator"), Quote(t.op), "operator must be Exists when key is empty");
  }
  if (t.op == "Exists" && !t.value.empty()) {
    errs.Invalid(JoinPath(path, "value"), Quote(t.value), "value must be empty when operator is Exists");
  }
  for (const auto& msg : CheckLabelValue(t.value)) errs.Invalid(JoinPath(path, "value"), Quote(t.value), msg);
  if (t.toleration_seconds && t.effect != "NoExecute") {
    errs.Invalid(JoinPath(path, "effect"), Quote(t.effect), "effect must be NoExecute when tolerationSeconds is set");
  }
}

void CheckRules(const JsonPatchOp& p, const std::string& path, FieldErrors& errs) {
  if (!IsJsonPointer(p.path)) {
    errs.Invalid(JoinPath(path, "path"), Quote(p.path), "must be a JSON Pointer (\"\" or starting with \"/\")");
  }
  const bool needs_from = p.op == "move" || p.op == "copy";
  const bool needs_value = p.op == "add" || p.op == "replace" || p.op == "test";
  if (needs_from && p.from.empty()) errs.Required(JoinPath(path, "from"), "for op " + p.op);
  if (!needs_from && !p.from.empty()) errs.Forbidden(JoinPath(path, "from"), "only for op move and copy");
  if (!p.from.empty() && !IsJsonPointer(p.from)) {
    errs.Invalid(JoinPath(path, "from"), Quote(p.from), "must be a JSON Pointer");
  }
  if (needs_value && !p.value) errs.Required(JoinPath(path, "value"), "for op " + p.op);
  if (!needs_value && p.value && !p.op.empty()) errs.Forbidden(JoinPath(path, "value"), "not used by op " + p.op);
}

void CheckRules(const ClusterSelector& s, const std::string& path, FieldErrors& errs) {
  std::set<std::string> included(s.cluster_names.begin(), s.cluster_names.end());
  for (size_t i = 0; i < s.exclude_clusters.size(); ++i) {
    if (included.count(s.exclude_clusters[i]) != 0) {
      errs.Invalid(IndexPath(JoinPath(path, "excludeClusters"), i), Quote(s.exclude_clusters[i]),
                   "is also listed in clusterNames");
    }
  }
}

void CheckRules(const ContainerOverride& c, const std::string& path, FieldErrors& errs) {
  if (!c.name.empty()) {
    for (const auto& msg : CheckDNS1123Label(c.name)) errs.Invalid(JoinPath(path, "name"), Quote(c.name), msg);
  }
  if (c.env.empty() && c.remove_env.empty() && c.args.empty() && c.append_args.empty()) {
    errs.Required(path, "one of env, removeEnv, args or appendArgs");
  }
  const std::string env = JoinPath(path, "env");
  CheckUnique(
      c.env, env, [](const EnvOverride& e) { return e.name; }, errs);
  std::set<std::string> set;
  for (size_t i = 0; i < c.env.size(); ++i) {
    set.insert(c.env[i].name);
    if (!IsEnvVarName(c.env[i].name)) {
      errs.Invalid(JoinPath(IndexPath(env, i), "name"), Quote(c.env[i].name), "must be printable ASCII without '='");
    }
  }
  for (size_t i = 0; i < c.remove_env.size(); ++i) {
    const std::string field = IndexPath(JoinPath(path, "removeEnv"), i);
    if (!IsEnvVarName(c.remove_env[i])) {
      errs.Invalid(field, Quote(c.remove_env[i]), "must be printable ASCII without '='");
    }
    if (set.count(c.remove_env[i]) != 0) errs.Invalid(field, Quote(c.remove_env[i]), "is also set in env");
  }
}

void CheckRules(const Override& o, const std::string& path, FieldErrors& errs) {
  if (!o.image && !o.replicas && !o.labels && !o.annotations && o.containers.empty() && o.json_patch.empty()) {
    errs.Required(path, "one of image, replicas, labels, annotations, containers or jsonPatch");
  }
  if (o.labels) CheckMetadataOverride(*o.labels, true, JoinPath(path, "labels"), errs);
  if (o.annotations) CheckMetadataOverride(*o.annotations, false, JoinPath(path, "annotations"), errs);
  CheckUnique(
      o.containers, JoinPath(path, "containers"), [](const ContainerOverride& c) { return c.name; }, errs);
}

void CheckRules(const WorkloadPlacementSpec& s, const std::string& path, FieldErrors& errs) {
  CheckGroupResources(s.workload_selector.resources, JoinPath(path, "workloadSelector.resources"), errs);
  const std::string sc = JoinPath(path, "spreadConstraints");
  CheckUnique(
      s.spread_constraints, sc, [](const SpreadConstraint& c) { return c.topology_key; }, errs);
  for (size_t i = 0; i < s.spread_constraints.size(); ++i) {
    const auto& key = s.spread_constraints[i].topology_key;
    if (StartsWith(key, "label:")) {
      for (const auto& msg : CheckQualifiedName(key.substr(6))) {
        errs.Invalid(JoinPath(IndexPath(sc, i), "topologyKey"), Quote(key), "label key: " + msg);
      }
    }
  }
  CheckUnique(
      s.scoring, JoinPath(path, "scoring"), [](const ScoringPlugin& p) { return p.plugin; }, errs);
}

void CheckRules(const WorkloadPlacementStatus& s, const std::string& path, FieldErrors& errs) {
  CheckConditionList(s.conditions, JoinPath(path, "conditions"), errs);
  CheckUnique(
      s.decisions, JoinPath(path, "decisions"), [](const ClusterDecision& d) { return d.cluster_name; }, errs);
  CheckUnique(
      s.evictions, JoinPath(path, "evictions"), [](const ClusterEviction& e) { return e.cluster_name; }, errs);
}

void CheckRules(const WorkloadPlacement& p, const std::string& path, FieldErrors& errs) {
  CheckTypeMeta(p.api_version, p.kind, "WorkloadPlacement", path, errs);
  CheckObjectName(p.metadata, /*label_rule=*/false, JoinPath(path, "metadata"), errs);
}

std::vector<UnimplementedField> UnimplementedFields(const WorkloadPlacementSpec& s, bool advanced) {
  const std::string gate_off = "needs the feature gate TMCAdvancedPlacement, which is off";
  std::vector<UnimplementedField> out;
  if (!advanced && !s.strategy.empty() && s.strategy != "Spread" && s.strategy != "RoundRobin") {
    out.push_back({"spec.strategy", s.strategy, gate_off});
  }
  if (s.replica_scheduling.type == "Divided" && !advanced) {
    out.push_back({"spec.replicaScheduling.type", "Divided", gate_off});
  }
  if (!s.spread_constraints.empty() && !advanced) out.push_back({"spec.spreadConstraints", "", gate_off});
  if (!s.scoring.empty() && !advanced) out.push_back({"spec.scoring", "", gate_off});
  if (!s.scoring.empty() && advanced && s.strategy == "RoundRobin") {
    out.push_back({"spec.scoring", "", "strategy RoundRobin has no scores"});
  }
  if (!s.overrides.empty() && !advanced) out.push_back({"spec.overrides", "", gate_off});
  for (size_t i = 0; i < s.tolerations.size() && !advanced; ++i) {
    if (s.tolerations[i].toleration_seconds) {
      out.push_back({"spec.tolerations[" + std::to_string(i) + "].tolerationSeconds", "", gate_off});
    }
  }
  return out;
}

}  // namespace tmcd::apis::v1alpha1
