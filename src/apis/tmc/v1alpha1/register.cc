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

}  // namespace tmcd::apis::v1alpha1
