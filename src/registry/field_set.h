#pragma once
// Field sets for server-side apply, in Kubernetes' FieldsV1 form: a tree whose keys are path elements
// ("f:<field>", "k:<key fields as JSON>" for an item of a keyed list, "v:<value as JSON>" for an item
// of a set, "." for the node itself) and whose leaves are {}. Lists are atomic unless the built-in
// type declares them keyed (containers by name, container ports by containerPort+protocol, ...) or a
// set (finalizers): the same facts as strategic merge patch (src/registry/strategic_patch.cc).
// Design: docs/design/kubectl-parity.md#server-side-apply. Pure; thread-safe.

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tmcd::registry {

using FieldPath = std::vector<std::string>;  // path elements, e.g. {"f:spec", "f:replicas"}

// The fields `obj` sets, for kind `kind` (server-owned metadata, apiVersion, kind and status excluded;
// with `status_only`, the status alone: what the status subresource writes).
nlohmann::json ExtractFields(const nlohmann::json& obj, std::string_view kind, bool status_only = false);

// Every leaf of a set (a path ending at a {} or at a "." entry, which names its parent node).
std::vector<FieldPath> Leaves(const nlohmann::json& set);
bool Contains(const nlohmann::json& set, const FieldPath& path);
void RemovePath(nlohmann::json& set, const FieldPath& path);  // prunes parents left empty
void AddPath(nlohmann::json& set, const FieldPath& path);

// The value `path` names in `obj` (nullopt when absent). A path ending in "." names its parent.
std::optional<nlohmann::json> ValueAt(const nlohmann::json& obj, const FieldPath& path);
// Removes the value `path` names from `obj` (a list item when it ends in ".").
void RemoveValue(nlohmann::json& obj, const FieldPath& path);

// `config` merged into `live` as apply does: objects recursively, keyed lists by key, sets as unions,
// atomic lists and scalars replaced.
nlohmann::json MergeApplied(nlohmann::json live, const nlohmann::json& config, std::string_view kind);

// ".spec.template.spec.containers[name=\"app\"].image": how kube names a field in a conflict.
std::string FieldPathString(const FieldPath& path);

}  // namespace tmcd::registry
