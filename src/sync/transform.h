#pragma once
// Upstream object → the object applied downstream (docs/sync.md): server fields and kcp/kubectl
// annotations dropped, namespace mapped, tmcd's marks added, Service fields that are per-cluster
// removed (the per-kind rules of sync/interpreter.h strip the rest), and the references of a Pod
// template (ConfigMaps, Secrets, ServiceAccount, PVCs) found so that they travel with it.
// Pure functions; thread-safe.

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "apis/tmc/v1alpha1/sync_record.h"

namespace tmcd::sync {

using Json = nlohmann::json;

// Where a downstream object came from: the same reference a SyncRecord keeps.
using UpstreamId = apis::v1alpha1::UpstreamReference;
// The tmc.kcp.io/upstream annotation: {"name","namespace","uid","workspace"} as compact JSON.
std::string UpstreamAnnotation(const UpstreamId& id);
// Parses that annotation of a downstream object (group/version/resource are not part of it).
bool UpstreamFromAnnotation(const Json& downstream, UpstreamId& out);

// The object to server-side apply: apiVersion, kind, metadata {name, namespace: downstream_ns,
// labels + marks, annotations + upstream annotation}, every other top-level field but status.
Json Desired(const Json& upstream, const UpstreamId& id, const std::string& downstream_ns);

// The namespace object tmcd creates downstream for (workspace, ns).
Json NamespaceObject(const std::string& workspace, const std::string& ns);
// What a cluster's informer keeps of a copy: no managedFields, and no kcp.io/cluster annotation — a
// kcp workspace used as a cluster marks every object with its logical cluster, which would file the
// copy under "cluster|ns/name" and make every lookup by ns/name miss (every copy then looked gone).
void TrimForCache(Json& downstream);

// An object a Pod template refers to by name in its own namespace.
struct Reference {
  std::string resource;  // configmaps, secrets, serviceaccounts or persistentvolumeclaims (core group)
  std::string name;
  bool operator<(const Reference& o) const { return resource != o.resource ? resource < o.resource : name < o.name; }
  bool operator==(const Reference&) const = default;
};
// References of a PodTemplateSpec's spec: volumes (configMap, secret, persistentVolumeClaim,
// projected sources), env valueFrom and envFrom of containers and init containers,
// imagePullSecrets, and serviceAccountName (not "default", which every namespace has). Sorted, unique.
std::vector<Reference> PodTemplateReferences(const Json& pod_template);

// Whether a Service selects the Pods of a PodTemplateSpec: a non-empty spec.selector whose every
// pair is among the template's labels (a Service without a selector has manual endpoints: not ours).
bool ServiceSelects(const Json& service, const Json& pod_template);

// Stable hash of what would be applied (the desired object and its dependencies).
std::string DesiredHash(const Json& desired, const std::vector<Json>& dependencies);

}  // namespace tmcd::sync
