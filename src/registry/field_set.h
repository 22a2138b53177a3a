#pragma once
// Field sets for server-side apply, in Kubernetes' FieldsV1 form: a tree whose keys are path elements
// ("f:<field>", "k:<key fields as JSON>" for an item of a keyed list, "v:<value as JSON>" for an item
// of a set, "." for the node itself) and whose leaves are {}. Lists are atomic unless the built-in
// type declares them keyed (containers by name, container ports by containerPort+protocol, ...) or a
// set (finalizers): the same facts as strategic merge patch (src/registry/strategic_patch.cc); a
// custom resource's schema declares its own (ObjectType).
// Design: docs/design/kubectl-parity.md#server-side-apply. Pure; thread-safe.

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tmcd::registry {

using FieldPath = std::vector<std::string>;  // path elements, e.g. {"f:spec", "f:replicas"}

// The type an object's fields are read with: a built-in kind (strategic merge patch's table of merge
// keys), or a custom resource's structural schema, whose lists are atomic unless declared
// x-kubernetes-list-type: set, or map keyed by x-kubernetes-list-map-keys (its metadata is ObjectMeta).
struct ObjectType {
  std::string_view kind;                   // e.g. "Deployment"; the custom resource's kind with a schema
  const nlohmann::json* schema = nullptr;  // a custom resource's openAPIV3Schema (not owned)
  ObjectType(std::string_view k, const nlohmann::json* s = nullptr) : kind(k), schema(s) {}  // NOLINT
  ObjectType(const char* k) : kind(k) {}                                                     // NOLINT
};

// The fields `obj` sets, for its type (server-owned metadata, apiVersion, kind and status excluded;
// with `status_only`, the status alone: what the status subresource writes).
nlohmann::json ExtractFields(const nlohmann::json& obj, ObjectType type, bool status_only = false);

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
nlohmann::json MergeApplied(nlohmann::json live, const nlohmann::json& config, ObjectType type);

// ".spec.template.spec.containers[name=\"app\"].image": how kube names a field in a conflict.
std::string FieldPathString(const FieldPath& path);

}  // namespace tmcd::registry
