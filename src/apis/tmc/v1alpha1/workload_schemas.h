#pragma once
// APIResourceSchemas for the workload types kcp does not serve itself (the apps, batch,
// networking.k8s.io, autoscaling and policy kinds tmcd syncs, and core v1 Services and
// PersistentVolumeClaims), exported next to the TMC types so that a tenant can create them after
// binding tmcd's APIExport (upstream.exportWorkloadTypes). Deployments and Services type the fields
// tmcd reads (replicas, selector, status counts); every schema keeps the rest of spec and status as
// sent: the downstream kube-apiserver is the one that validates a Pod template fully.

#include <vector>

#include "apis/meta/reflect.h"

namespace tmcd::apis::v1alpha1 {

struct WorkloadSchema {
  std::string_view group;  // "" = core ("core" in the APIResourceSchema name)
  std::string_view plural;
  OrderedJson spec;  // the APIResourceSchema spec
};

// Deployments, Services, then the other kinds of sync/interpreter.h.
std::vector<WorkloadSchema> WorkloadSchemas();

}  // namespace tmcd::apis::v1alpha1
