#pragma once
// `tmcctl workload ...` (docs/tmcctl.md "Workloads"): which workloads tmcd syncs, where each runs, and
// its per-cluster status. Each returns the process exit code.

#include <string>

#include "ctl/session.h"

namespace tmcd::ctl {

struct WorkloadRef {
  std::string group, version, resource, name;
};
// "deployment/web", "deploy/web", "deployments.apps/web", "Deployment/web", "widgets.example.com/w":
// the built-in kinds by kind, plural or short name; others as resource.group (version by discovery).
Result<WorkloadRef> ParseWorkload(Session& s, const std::string& arg);

// With `watch`, every later change of a copy prints its workload's row again (kubectl get -w).
int WorkloadList(Session& s, bool watch);
int WorkloadStatus(Session& s, const std::string& arg);
int WorkloadWhere(Session& s, const std::string& arg);

}  // namespace tmcd::ctl
