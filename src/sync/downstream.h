#pragma once
// One physical cluster as the syncer sees it: its own client (built from the cluster controller's
// resolved connection; rebuilt when that changes), a label-filtered informer per kind tmcd syncs
// there (started with the first copy of that kind; every namespace; tmc.kcp.io/managed-by=tmcd),
// and the namespaces it has made sure of. Downstream changes call `on_change` with the upstream
// identity from the object's tmc.kcp.io/upstream annotation and the informer's group/version/
// resource, so that drift and status changes requeue the workload.
// Thread-safe: every method may be called from any thread; `on_change` runs on the informer thread.

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "kube/client.h"
#include "kube/informer.h"
#include "sync/namespace_gate.h"
#include "sync/transform.h"

namespace tmcd::sync {

class Downstream {
 public:
  Downstream(std::unique_ptr<kube::Client> client, std::string fingerprint,
             const std::function<void(const UpstreamId&)>& on_change);
  ~Downstream();
  Downstream(const Downstream&) = delete;
  Downstream& operator=(const Downstream&) = delete;

  kube::Client& client() { return *client_; }
  const std::string& fingerprint() const { return fingerprint_; }
  // The managed object ns/name of `r` (namespace ignored) as last seen by its informer, which is
  // started by the first call for that resource; until that informer has listed (up to 5 s), read
  // from the cluster (GET).
  std::optional<Json> Cached(const kube::ResourceRef& r, const std::string& ns, const std::string& name);
  // Whether the informer of `r` saw ns/name go (deleted, or tmcd's label taken off) and nothing has
  // applied it since: the copy is missing because someone removed it, not because the informer lags.
  // Marks older than ten minutes are dropped whenever their number reaches a multiple of 1,024.
  bool Removed(const kube::ResourceRef& r, const std::string& ns, const std::string& name);
  // Whether this process applied ns/name of `r` within the last 30 s: a copy missing from the informer,
  // or older there than the apply made it, is then the informer lagging behind tmcd's own write
  // (the events of that write requeue the workload before the informer has seen it), not drift.
  bool AppliedRecently(const kube::ResourceRef& r, const std::string& ns, const std::string& name);

  // Creates the downstream namespace for (workspace, ns) with its locator, or checks the locator of
  // an existing one: a namespace that belongs to something else is a collision (Conflict, message
  // starting "NamespaceCollision: ") and is never written to.
  Status EnsureNamespace(const std::string& workspace, const std::string& ns);
  // Deletes the namespace if it is tmcd's (labels and locator match); NotFound is success. Called
  // within gate().Exclusive of that namespace.
  Status DeleteNamespace(const std::string& workspace, const std::string& ns);
  // Copies enter a downstream namespace shared; pruning and namespace deletion enter it exclusive.
  NamespaceGate& gate() { return gate_; }

  // Server-side apply with fieldManager tmcd, force. An answer that says the object's namespace is
  // missing or being deleted makes the next EnsureNamespace of it look at the cluster again.
  Result<Json> Apply(const kube::ResourceRef& r, const Json& obj);

 private:
  static constexpr std::chrono::seconds kAppliedMemo{30};
  // "group/version/resource|ns/name", the key of removed_ and applied_.
  static std::string CopyKey(const std::string& gvr, const std::string& ns, const std::string& name);
  static std::string CopyKey(const kube::ResourceRef& r, const std::string& ns, const std::string& name);
  void NoteRemoved(const std::string& key, bool removed);
  // Makes (not starts) the informer of "group/version/resource" `k`; with mu_ held.
  kube::Informer* MakeInformer(const std::string& k, const kube::ResourceRef& r);

  std::unique_ptr<kube::Client> client_;
  const std::string fingerprint_;
  const std::function<void(const UpstreamId&)> on_change_;
  std::mutex mu_;
  // "group/version/resource|ns/name" → when its informer saw it go; guarded by mu_, pruned as it grows.
  std::map<std::string, std::chrono::steady_clock::time_point> removed_;
  // CopyKey → when this process last applied it; guarded by mu_, pruned as it grows.
  std::map<std::string, std::chrono::steady_clock::time_point> applied_;
  std::map<std::string, std::unique_ptr<kube::Informer>> informers_;  // "group/version/resource"; guarded
  std::set<std::string> namespaces_;  // downstream namespaces known to be ours; guarded by mu_
  NamespaceGate gate_;
};

// A v1 resource reference (core or apps) on a plain Kubernetes cluster.
kube::ResourceRef Ref(const std::string& group, const std::string& resource, const std::string& ns);
kube::ResourceRef Ref(const std::string& group, const std::string& version, const std::string& resource,
                      const std::string& ns);

}  // namespace tmcd::sync
