#pragma once
// The resources the local API serves (docs/design/architecture.md §4): the TMC types, fully validated, and the
// workload types embedded mode holds as generic objects (metadata validated, body kept as sent).
// Immutable table; thread-safe.

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "apis/tmc/v1alpha1/register.h"
#include "common/status.h"
#include "registry/field_set.h"

namespace tmcd::registry {

// A printer column: the TMC kinds' (apis/tmc/v1alpha1/register.h) or a CRD's additionalPrinterColumns.
struct Column {
  std::string name;
  std::string type;  // string | integer | number | boolean | date
  std::string json_path;
  std::string description;
  int priority = 0;
};

struct ResourceInfo {
  std::string group;  // "" = core
  std::string version;
  std::string resource;  // plural
  std::string singular;
  std::string kind;
  bool namespaced = true;
  bool has_status = false;          // /status subresource; main-resource writes keep the stored status
  bool read_only = false;           // served, but not writable through the API (SyncRecord)
  bool local_only = false;          // tmcd's own (RBAC): writable in kcp mode too, never synced or cached
  bool create_only = false;         // a review (SelfSubjectAccessReview): POST answers, nothing is stored
  bool path_segment_names = false;  // names may hold ':' (RBAC), not only DNS subdomains
  bool scale = false;               // /scale subresource: spec.replicas, status.replicas, spec.selector
  std::vector<std::string> short_names;
  std::vector<std::string> categories;
  std::vector<Column> columns;
  // Field selector labels beyond metadata.name (and metadata.namespace): dotted paths into the object,
  // as kube-apiserver offers them per kind (Events: involvedObject.*, reason, type, source).
  std::vector<std::string> field_labels;
  // Typed resources: strict decode + defaults + validation of a whole object; returns the canonical
  // JSON to store. Empty for generic resources.
  std::function<Result<nlohmann::json>(const nlohmann::json&)> normalize;
  // Generic resources with rules of their own (RBAC): checks the object about to be stored; on an
  // update `current` is the stored object. The message becomes "<Kind> "<name>" is invalid: ...".
  std::function<Status(const nlohmann::json& obj, const nlohmann::json* current)> validate;

  // Custom resources (docs/custom-resources.md): the CustomResourceDefinition that defines them, its
  // served version's structural schema, and where its scale subresource reads and writes.
  std::string crd;  // "" for the built-in kinds
  std::shared_ptr<const nlohmann::json> schema;
  bool terminating = false;  // the CRD is being deleted: no new objects
  std::string spec_replicas_path = ".spec.replicas";
  std::string status_replicas_path = ".status.replicas";
  std::string label_selector_path;  // "": spec.selector, a LabelSelector (the built-in kinds)

  std::string GroupVersion() const { return group.empty() ? version : group + "/" + version; }
  std::string QualifiedResource() const { return group.empty() ? resource : resource + "." + group; }
};

// How server-side apply reads the resource's fields: its kind's built-in merge keys, or its schema.
inline ObjectType FieldTypeOf(const ResourceInfo& r) {
  return {r.kind, r.schema.get()};
}

const std::vector<ResourceInfo>& ServedResources();
const ResourceInfo* FindResource(std::string_view group, std::string_view version, std::string_view resource);

// WorkloadPlacement fields the placement engine does not act on (with `advanced`: feature gate
// TMCAdvancedPlacement on) are refused rather than ignored: 422 with a Forbidden cause per field
// (docs/placement.md#fields-that-need-the-gate). Values `current` (the stored object) already had are
// let through, so that older objects stay editable and their status writable.
Status RefuseUnimplementedPlacementFields(const nlohmann::json& obj, const nlohmann::json* current, bool advanced);
// A ClusterRegistration's NoExecute taints get spec.taints[].timeAdded when they have none: the time
// the stored object (`current`) gave the same taint, else `now` (RFC 3339). Tolerations' seconds
// count from it (docs/placement.md#failover), across restarts, as Kubernetes' taint manager does.
void StampTaintTimes(nlohmann::json& obj, const nlohmann::json* current, const std::string& now);

}  // namespace tmcd::registry
