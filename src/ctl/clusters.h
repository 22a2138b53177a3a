#pragma once
// `tmcctl cluster ...` (docs/tmcctl.md "Clusters"): list, get, describe, cordon, uncordon, taint,
// drain, register and deregister ClusterRegistrations. Each returns the process exit code.

#include <string>
#include <vector>

#include "ctl/session.h"

namespace tmcd::ctl {

// `watch`: after the list, every change (kubectl get -w).
int ClusterList(Session& s, const std::vector<std::string>& names, const std::string& selector, bool watch = false);
int ClusterDescribe(Session& s, const std::string& name);
int ClusterCordon(Session& s, const std::string& name, bool cordon);
// kubectl taint's syntax: key[=value]:Effect adds or replaces, key[:Effect]- removes.
int ClusterTaint(Session& s, const std::string& name, const std::vector<std::string>& taints);

struct DrainFlags {
  bool wait = true;
  int timeout_seconds = 300;
};
// Cordons the cluster and adds the NoExecute taint tmc.kcp.io/drain, so that every placement that
// does not tolerate it moves its copies away by its own rules; waits until no copy is left (or the
// timeout) and reports what moved and what stayed (placements that tolerate the taint).
int ClusterDrain(Session& s, const std::string& name, const DrainFlags& f);

// Shared with register.cc.
Result<Json> GetCluster(Session& s, const std::string& name);
// The SyncRecords naming `cluster` (all namespaces); NotFound when the server has none (kcp).
Result<std::vector<Json>> RecordsOn(Session& s, const std::string& cluster);
std::string ConditionStatus(const Json& obj, const std::string& type);

}  // namespace tmcd::ctl
