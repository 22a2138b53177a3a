#include "apis/tmc/v1alpha1/register.h"

namespace tmcd::apis::v1alpha1 {

template <>
const KindInfo& KindOf<ClusterRegistration>() {
  static const KindInfo kInfo{
      "ClusterRegistration",
      "ClusterRegistrationList",
      "clusterregistrations",
      "clusterregistration",
      {"creg"},
      false,
      true,
      "A physical Kubernetes cluster that WorkloadPlacements in this workspace may choose.",
      {{"Location", "string", ".spec.location", "Region-like location."},
       {"Ready", "string", R"(.status.conditions[?(@.type=="Ready")].status)", "Summary health."},
       {"Version", "string", ".status.kubernetesVersion", "Kubernetes version.", 1},
       {"Age", "date", ".metadata.creationTimestamp", ""}},
  };
  return kInfo;
}

template <>
const KindInfo& KindOf<WorkloadPlacement>() {
  static const KindInfo kInfo{
      "WorkloadPlacement",
      "WorkloadPlacementList",
      "workloadplacements",
      "workloadplacement",
      {"wp"},
      true,
      true,
      "Selects workloads in its namespace and places them on ClusterRegistrations of the same workspace.",
      {{"Clusters", "string", ".status.decisions[*].clusterName", "Chosen clusters."},
       {"Scheduled", "string", R"(.status.conditions[?(@.type=="Scheduled")].status)", "Enough clusters found."},
       {"Ready", "string", R"(.status.conditions[?(@.type=="Ready")].status)", "Summary.", 1},
       {"Age", "date", ".metadata.creationTimestamp", ""}},
  };
  return kInfo;
}

template <>
const KindInfo& KindOf<SyncRecord>() {
  static const KindInfo kInfo{
      "SyncRecord",
      "SyncRecordList",
      "syncrecords",
      "syncrecord",
      {"sr"},
      true,
      false,
      "tmcd's record of one workload synced to one cluster (read-only, local API only).",
      {{"Cluster", "string", ".spec.clusterName", "Target cluster."},
       {"Phase", "string", ".status.phase", "Sync phase."},
       {"Age", "date", ".metadata.creationTimestamp", ""}},
      true,
  };
  return kInfo;
}

template <>
const KindInfo& KindOf<ResourceInterpreter>() {
  static const KindInfo kInfo{
      "ResourceInterpreter",
      "ResourceInterpreterList",
      "resourceinterpreters",
      "resourceinterpreter",
      {"ri"},
      false,
      true,
      "How tmcd syncs one custom resource: replicas, dependencies, per-cluster fields, status aggregation and "
      "health.",
      {{"Target", "string", ".spec.target.kind", "The custom resource's kind."},
       {"Group", "string", ".spec.target.group", "Its API group."},
       {"Accepted", "string", R"(.status.conditions[?(@.type=="Accepted")].status)", "Its rules are in use."},
       {"Age", "date", ".metadata.creationTimestamp", ""}},
  };
  return kInfo;
}

}  // namespace tmcd::apis::v1alpha1
