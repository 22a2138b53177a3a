#pragma once
// apiextensions.k8s.io/v1 CustomResourceDefinitions in the local API (docs/custom-resources.md): what a
// CRD must say for tmcd to serve it, the status tmcd gives it, and the resource it serves. Pure
// functions; thread-safe.

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/status.h"
#include "registry/resources.h"

namespace tmcd::registry {

inline constexpr std::string_view kCrdGroup = "apiextensions.k8s.io";
inline constexpr std::string_view kCrdResource = "customresourcedefinitions";
// Held by every CRD until its custom resources are gone (as kube-apiserver's cleanup finalizer).
inline constexpr std::string_view kCrdCleanupFinalizer = "customresourcecleanup.apiextensions.k8s.io";

bool IsCrd(const ResourceInfo& r);

// Defaults (names.singular, names.listKind, conversion) and checks a CRD about to be stored; on an
// update `current` is the stored one. `others` are the workspace's other CRDs (names must not clash).
// Errors are 422 Invalid with one cause per field, as kube-apiserver's.
Status PrepareCrd(nlohmann::json& crd, const nlohmann::json* current, const std::vector<nlohmann::json>& others);

// The server-owned status: acceptedNames, the NamesAccepted/Established (and, while deleting,
// Terminating) conditions, storedVersions. `now` stamps conditions that change.
void SetCrdStatus(nlohmann::json& crd, const nlohmann::json* current, const std::string& now);

// The resource a stored CRD serves (its one served version).
ResourceInfo CustomResource(const nlohmann::json& crd);

}  // namespace tmcd::registry
