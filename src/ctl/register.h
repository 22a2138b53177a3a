#pragma once
// `tmcctl cluster register|deregister` (docs/tmcctl.md "Registering a cluster"): the least-privilege
// identity tmcd uses on a cluster, its token in a Secret beside tmcd, the ClusterRegistration; and
// the reverse. Each returns the process exit code.

#include <string>
#include <vector>

#include "ctl/session.h"
#include "kube/client.h"

namespace tmcd::ctl {

struct RegisterFlags {
  std::string cluster_kubeconfig;  // admin access to the cluster being registered
  std::string cluster_context;
  std::string endpoint;  // the server tmcd should use; default: the kubeconfig's
  std::string ca_file;   // the CA tmcd should trust; default: the kubeconfig's
  bool insecure_skip_tls_verify = false;
  std::string location = "default";
  std::string zone;
  std::string provider;
  std::string labels;                        // k=v[,k=v] on the ClusterRegistration
  std::vector<std::string> extra_resources;  // resource.group the identity may also manage (custom resources)
  std::string credentials_namespace = "tmc";
  int token_ttl_hours = 8760;
  bool wait = false;
  int wait_timeout_seconds = 120;
  bool dry_run = false;
};

// What the identity on a member cluster may do: probes, inventory, discovery, and every built-in kind the
// syncer manages (plus `extra`). Exposed for the reference docs and their test.
Json SyncerClusterRole(const std::vector<std::string>& extra);
// The objects made on the member cluster for registration `name` of workspace `workspace`.
std::vector<Json> MemberObjects(const std::string& name, const std::string& workspace,
                                const std::vector<std::string>& extra);

// The identity's name on the member: one per (workspace, registration), so two workspaces that register
// the same physical cluster under the same name get separate identities.
std::string MemberName(const std::string& name, const std::string& workspace);
// The collection of a manifest's kind (the kinds above: lower-case kind + "s").
kube::ResourceRef RefOf(const Json& obj);
// Server-side apply of `obj` by tmcctl; "created", "configured" or "unchanged".
Result<std::string> Upsert(kube::Client& c, const kube::ResourceRef& r, const Json& obj);
Result<std::unique_ptr<kube::Client>> MemberClient(const std::string& kubeconfig, const std::string& context);

int ClusterRegister(Session& s, const std::string& name, const RegisterFlags& f);

struct DeregisterFlags {
  std::string cluster_kubeconfig;  // also remove tmcd's identity from the cluster
  std::string cluster_context;
  bool drain = true;
  int timeout_seconds = 300;
};
int ClusterDeregister(Session& s, const std::string& name, const DeregisterFlags& f);

}  // namespace tmcd::ctl
