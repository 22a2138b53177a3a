#pragma once
// SyncRecord (tmc.kcp.io/v1alpha1, local API only, read-only): one per (workload, cluster), the
// syncer's record of what it applied where. Name: <resource>.<group>.<workload name>.<clusterKey>.

#include <array>
#include <string>
#include <vector>

#include "apis/meta/condition.h"
#include "apis/meta/field_errors.h"
#include "apis/meta/object_meta.h"
#include "apis/meta/reflect.h"
#include "apis/tmc/v1alpha1/common_types.h"

namespace tmcd::apis::v1alpha1 {

inline constexpr std::array<std::string_view, 5> kSyncPhases = {"Pending", "Applied", "Failed", "Deleting", "Orphaned"};

struct UpstreamReference {
  std::string workspace;
  std::string group;
  std::string version;
  std::string resource;
  std::string namespace_;
  std::string name;
  std::string uid;
  bool operator==(const UpstreamReference&) const = default;
};

template <class V>
void Reflect(V& v, UpstreamReference& o) {
  v.Field("workspace", o.workspace, {.doc = "Workspace (logical cluster) of the workload.", .required = true});
  v.Field("group", o.group, {.doc = "API group of the workload."});
  v.Field("version", o.version, {.doc = "API version of the workload.", .required = true});
  v.Field("resource", o.resource, {.doc = "Plural resource of the workload.", .required = true});
  v.Field("namespace", o.namespace_, {.doc = "Upstream namespace."});
  v.Field("name", o.name, {.doc = "Upstream name.", .required = true});
  v.Field("uid", o.uid, {.doc = "Upstream uid."});
}

struct SyncRecordSpec {
  UpstreamReference upstream;
  std::string cluster_name;
  std::string placement_name;
  std::string deletion_policy;
  bool operator==(const SyncRecordSpec&) const = default;
};

template <class V>
void Reflect(V& v, SyncRecordSpec& o) {
  v.Field("upstream", o.upstream, {.doc = "The synced workload.", .required = true});
  v.Field("clusterName", o.cluster_name, {.doc = "Target ClusterRegistration.", .required = true});
  v.Field("placementName", o.placement_name, {.doc = "WorkloadPlacement that chose the cluster."});
  v.Field("deletionPolicy", o.deletion_policy,
          {.doc = "That placement's deletionPolicy when the copy was last applied (Delete or Orphan)."});
}

struct SyncRecordStatus {
  std::string phase;
  std::string desired_hash;
  int64_t applied_generation = 0;
  std::string downstream_namespace;
  std::string downstream_resource_version;
  int64_t downstream_generation = 0;
  std::vector<std::string> dependencies;
  std::vector<std::string> overrides;
  Time last_sync_time;
  int64_t drift_corrections = 0;
  Time last_drift_correction_time;
  std::string last_error;
  RawJson downstream_status;
  std::vector<Condition> conditions;
  bool operator==(const SyncRecordStatus&) const = default;
};

template <class V>
void Reflect(V& v, SyncRecordStatus& o) {
  v.Field("phase", o.phase, {.doc = "Pending, Applied, Failed, Deleting or Orphaned.", .enum_values = kSyncPhases});
  v.Field("desiredHash", o.desired_hash, {.doc = "Hash of the last desired downstream object."});
  v.Field("appliedGeneration", o.applied_generation, {.doc = "Upstream generation last applied.", .minimum = 0});
  v.Field("downstreamNamespace", o.downstream_namespace, {.doc = "Mapped namespace on the cluster."});
  v.Field("downstreamResourceVersion", o.downstream_resource_version, {.doc = "Downstream resourceVersion seen."});
  v.Field("downstreamGeneration", o.downstream_generation,
          {.doc = "Downstream metadata.generation after the last apply (a different one means drift).", .minimum = 0});
  v.Field("dependencies", o.dependencies,
          {.doc = "Objects applied with the workload, as <resource>/<name> (ConfigMaps, Secrets, ServiceAccounts)."});
  v.Field("overrides", o.overrides,
          {.doc = "The placement's overrides applied to this copy, in order.", .max_items = 32});
  v.Field("lastSyncTime", o.last_sync_time, {.doc = "Last successful apply."});
  v.Field("driftCorrections", o.drift_corrections,
          {.doc = "Times the copy was found changed or deleted on the cluster and put back.", .minimum = 0});
  v.Field("lastDriftCorrectionTime", o.last_drift_correction_time, {.doc = "When drift was last put back."});
  v.Field("lastError", o.last_error, {.doc = "Last apply error, if any."});
  v.Field("downstreamStatus", o.downstream_status, {.doc = "The object's status as last seen on the cluster."});
  v.Field("conditions", o.conditions, {.doc = "Conditions.", .max_items = 16, .list_map_key = "type"});
}

struct SyncRecord {
  std::string api_version;
  std::string kind;
  ObjectMeta metadata;
  SyncRecordSpec spec;
  SyncRecordStatus status;
  bool operator==(const SyncRecord&) const = default;
};

template <class V>
void Reflect(V& v, SyncRecord& o) {
  v.Field("apiVersion", o.api_version, {.doc = "tmc.kcp.io/v1alpha1"});
  v.Field("kind", o.kind, {.doc = "SyncRecord"});
  v.Field("metadata", o.metadata);
  v.Field("spec", o.spec, {.required = true});
  v.Field("status", o.status);
}

void CheckRules(const SyncRecord& r, const std::string& path, FieldErrors& errs);

}  // namespace tmcd::apis::v1alpha1
