#pragma once
// APIResourceSchemas for the workload types kcp does not serve itself (deployments.apps/v1 and
// core v1 services), exported next to the TMC types so that a tenant can create Deployments after
// binding tmcd's APIExport (upstream.exportWorkloadTypes). The schemas type the fields tmcd reads
// (replicas, selector, status counts) and keep the rest of spec and status as sent: the downstream
// kube-apiserver is the one that validates a Pod template fully.

#include <vector>

#include "apis/meta/reflect.h"

namespace tmcd::apis::v1alpha1 {

struct WorkloadSchema {
  std::string_view group;  // "" = core ("core" in the APIResourceSchema name)
  std::string_view plural;
  OrderedJson spec;  // the APIResourceSchema spec
};

// Deployments, then Services.
std::vector<WorkloadSchema> WorkloadSchemas();

}  // namespace tmcd::apis::v1alpha1
