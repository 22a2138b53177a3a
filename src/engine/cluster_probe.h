#pragma once
// What the cluster controller does against one physical cluster (docs/clusters.md): turn a
// registration's endpoint and credentials Secret into a client configuration, and probe the
// cluster: /readyz, /version, the kube-system namespace's uid (the cluster's identity), and, when
// asked, its inventory: capacity and allocatable from Nodes, available = allocatable minus the
// requests of non-terminated Pods, and which of spec.syncedResources it serves.
// Pure functions over a kube::Client; thread-safe.

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "apis/tmc/v1alpha1/cluster_registration.h"
#include "kube/client.h"

namespace tmcd::engine {

namespace v1 = apis::v1alpha1;

// The client configuration for `endpoint` with the credentials in `secret` (a v1 Secret as JSON;
// null when the registration has no credentialsRef). Secret keys, base64 as in any Secret:
// `token`; or `kubeconfig` (its user part is used, the server and CA come from the endpoint unless
// the endpoint leaves the CA empty); or `tls.crt` + `tls.key`. Errors are kInvalid and name the key.
Result<kube::RestConfig> ResolveCredentials(const v1::ClusterEndpoint& endpoint, const nlohmann::json* secret);

struct ProbeResult {
  Status reach;   // ok, or why no HTTP answer came (connection, timeout, TLS)
  Status auth;    // ok, or Unauthorized / Forbidden
  Status health;  // ok, or /readyz not ok
  std::string version;
  std::string cluster_id;
  bool inventory = false;  // the fields below were read in this probe
  std::map<std::string, apis::Quantity> capacity;
  std::map<std::string, apis::Quantity> allocatable;
  std::map<std::string, apis::Quantity> available;
  std::string available_note;  // why available could not be computed from Pods, if so
  std::vector<v1::SyncedResourceStatus> synced;
  bool ok() const { return reach.ok() && auth.ok() && health.ok(); }
};

ProbeResult Probe(kube::Client& c, const v1::ClusterRegistrationSpec& spec, bool inventory);

}  // namespace tmcd::engine
