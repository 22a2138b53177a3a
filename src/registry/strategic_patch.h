#pragma once
// Strategic merge patch (application/strategic-merge-patch+json) with kube-apiserver's semantics for
// the built-in kinds the local API serves: lists merge by their patch merge key where the Kubernetes
// types declare `patchStrategy:"merge"`, other lists are replaced; `$patch: replace|delete|merge`,
// `$setElementOrder/<list>`, `$retainKeys` and `$deleteFromPrimitiveList/<list>` directives.
// Design: docs/design/kubectl-parity.md#strategic-merge-patch. Pure functions; thread-safe.

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace tmcd::registry {

// True when `kind` is a built-in kind whose patch metadata tmcd knows (custom resources and the TMC
// types are not: kube-apiserver answers 415 for them, and so does tmcd).
bool HasStrategicPatchSchema(std::string_view kind);

// The patch metadata of one field of a built-in type: the type of its value (or of its list items, ""
// when untyped), whether it is a list that merges, and its merge key. Server-side apply derives its
// list types from the same facts (src/registry/field_set.cc).
struct PatchFieldInfo {
  std::string_view type;
  bool merge_list = false;
  std::string_view merge_key;
};
PatchFieldInfo LookupPatchField(std::string_view type, const std::string& field);

// Applies `patch` (a JSON object) to `original`. Malformed directives are 400 BadRequest, lists of
// lists and merge-key/setElementOrder mismatches are 422 Invalid, as kube-apiserver answers. Keys
// that look like directives but are none are dropped with a warning (`unknown field "a.$b"`).
Result<nlohmann::json> StrategicMergePatch(const nlohmann::json& original, const nlohmann::json& patch,
                                           std::string_view kind, std::vector<std::string>* warnings = nullptr);

}  // namespace tmcd::registry
