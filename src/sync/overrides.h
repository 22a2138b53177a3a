#pragma once
// Per-cluster overrides of a placement (advanced placement; docs/placement.md#overrides): after the copy
// of a workload is made for a cluster (namespace mapped, marks set, per-cluster fields stripped, the
// Divided share set), every spec.overrides entry whose clusterSelector matches that cluster is applied,
// in order:
//   image        every container image of the Pod template (containers, initContainers,
//                ephemeralContainers) gets the registry (RewriteRegistry);
//   replicas     the kind's replicas path (replacing a Divided share), unless an HPA scales the copy;
//   labels,      the copy's own metadata: keys set, then keys removed;
//   annotations
//   containers   env set by name (in place, or appended) and removed, args replaced and appended, in the
//                containers of that name (containers and initContainers) or, unnamed, in every container;
//   jsonPatch    RFC 6902 operations on the downstream object (common/json_patch.h).
// Kinds without a replicas or Pod template path are left as they are by the fields that need one.
// An override may not change what makes the copy tmcd's: apiVersion, kind, metadata.name,
// metadata.namespace and tmcd's marks; such a patch, or one that does not apply, fails the copy with
// reason OverrideFailed (it is a configuration error: the copy is not applied half-overridden).
// Thread-safe: no state.

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "apis/tmc/v1alpha1/workload_placement.h"
#include "common/status.h"
#include "sync/interpreter.h"

namespace tmcd::sync {

namespace v1 = apis::v1alpha1;

// The image with its registry replaced by `registry`. A reference's registry is its first path
// component when that contains a '.' or a ':' or is "localhost"; without one (Docker Hub) the rest
// is kept as written: "nginx:1.25" → "<registry>/nginx:1.25", "quay.io/org/app@sha256:…" →
// "<registry>/org/app@sha256:…".
std::string RewriteRegistry(const std::string& image, const std::string& registry);

// One override applied to `desired` (a copy of a workload of `rules`' kind); on error `desired` is
// left as it was. `autoscaled`: an HPA scales the copy, whose replica count tmcd leaves to the cluster.
Status ApplyOverride(const KindRules& rules, const v1::Override& o, nlohmann::json& desired, bool autoscaled = false);
// For the SyncRecord: "overrides[1]: replicas 3, container app, jsonPatch, 2 operations".
std::string DescribeOverride(size_t index, const v1::Override& o);

}  // namespace tmcd::sync
