#pragma once
// Kubernetes object semantics over the store, independent of HTTP: server-owned metadata (uid,
// resourceVersion, creationTimestamp, generation), strict validation of TMC types, the status
// subresource, merge and JSON patches with optimistic retries, finalizers and deletionTimestamp,
// selectors and paging. Workspace isolation is structural: every key starts with the workspace.
// Thread-safe (state lives in the store).

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "apis/meta/selector.h"
#include "common/clock.h"
#include "registry/catalog.h"
#include "registry/managed_fields.h"
#include "registry/request.h"
#include "registry/resources.h"
#include "store/store.h"

namespace tmcd::registry {

using Json = nlohmann::json;

struct ListOptions {
  std::string label_selector;
  std::string field_selector;
  std::string resource_version;  // validated only (lists are always served from the latest state)
  size_t limit = 0;
  std::string continue_token;
  // Watch only (the streaming list of client-go's WatchList, KEP-3157): the current state as ADDED
  // events, then a BOOKMARK annotated k8s.io/initial-events-end, then changes.
  bool send_initial_events = false;
};

// Compiled list/watch filters.
struct Filters {
  apis::Selector labels;
  std::vector<std::pair<std::string, std::pair<bool, std::string>>> fields;  // field → (equal?, value)
  bool Matches(const Json& obj) const;
};

struct WatchStart {
  std::vector<Json> initial;        // synthetic ADDED objects (resourceVersion unset or "0", or sendInitialEvents)
  uint64_t from = 0;                // every event after this revision follows on the watcher
  bool initial_events_end = false;  // sendInitialEvents: a bookmark at `from` marks the end of `initial`
  std::shared_ptr<store::Watcher> watcher;
  Filters filters;
};

// A PATCH body checked against its Content-Type (merge, JSON or, for built-in kinds, strategic).
struct ParsedPatch {
  enum class Type { kMerge, kJson, kStrategic } type = Type::kMerge;
  Json patch;
  std::string kind;
  // `warnings` collects what kube-apiserver would send as Warning headers (may be null).
  Result<Json> ApplyTo(const Json& current, std::vector<std::string>* warnings) const;
};
Result<ParsedPatch> ParsePatch(std::string_view content_type, std::string_view body, std::string_view kind);

class ObjectService {
 public:
  ObjectService(store::Store& store, const Clock& clock) : store_(store), clock_(clock), catalog_(store) {}

  // What each workspace serves: the built-in kinds and its CRDs' custom resources.
  const Catalog& catalog() const { return catalog_; }
  // Advanced placement (feature gate TMCAdvancedPlacement): which WorkloadPlacement fields are served.
  void set_advanced_placement(bool on) { advanced_placement_ = on; }

  Result<Json> Get(const Request& p, const ResourceInfo& r);
  // The list as JSON text, built without re-serializing the items (the fast path for JSON clients).
  Result<std::string> ListText(const Request& p, const ResourceInfo& r, const ListOptions& o);
  Result<Json> List(const Request& p, const ResourceInfo& r, const ListOptions& o);
  Result<Json> Create(const Request& p, const ResourceInfo& r, Json body);
  Result<Json> Update(const Request& p, const ResourceInfo& r, Json body, bool status_only);
  // The object and its status in one write, tracked in managedFields as an update of the object and
  // one of its status subresource would be. For tmcd's own controllers (one store commit instead of
  // two); over HTTP the two are separate requests, as in Kubernetes.
  Result<Json> UpdateWithStatus(const Request& p, const ResourceInfo& r, Json body);
  Result<Json> Patch(const Request& p, const ResourceInfo& r, std::string_view content_type, std::string_view body,
                     bool status_only);
  Result<Json> Delete(const Request& p, const ResourceInfo& r, const Json& options);
  // Server-side apply (application/apply-patch+yaml): creates the object when it does not exist.
  Result<Json> Apply(const Request& p, const ResourceInfo& r, std::string_view body, bool status_only);
  // The scale subresource (autoscaling/v1 Scale) of resources with ResourceInfo::scale.
  Result<Json> GetScale(const Request& p, const ResourceInfo& r);
  Result<Json> UpdateScale(const Request& p, const ResourceInfo& r, const Json& scale);
  Result<Json> PatchScale(const Request& p, const ResourceInfo& r, std::string_view content_type,
                          std::string_view body);
  Result<WatchStart> Watch(const Request& p, const ResourceInfo& r, const ListOptions& o);
  // {"type": ADDED|MODIFIED|DELETED, "object": ...} for a store event, or null when filtered out.
  Json WatchEvent(const store::Event& e, const Filters& f) const;

  static Result<Filters> CompileFilters(const ResourceInfo& r, const ListOptions& o);
  // The object as a create would default and check it (the field refusals included); nothing is
  // read or written. For evaluating an object that is not stored (a placement's dry-run explain).
  Result<Json> CheckNew(const Request& p, const ResourceInfo& r, Json obj) const {
    return Prepare(p, r, std::move(obj));
  }

 private:
  store::ObjectKey Key(const Request& p, const ResourceInfo& r, const std::string& name) const;
  std::string Prefix(const Request& p, const ResourceInfo& r) const;
  Result<Json> Prepare(const Request& p, const ResourceInfo& r, Json obj, const Json* current = nullptr) const;
  // dryRun=All: the answer and the checks of the write the store would make, without the write.
  Result<Json> DryRun(const store::ObjectKey& key, Json obj, uint64_t expected, bool create) const;
  enum class Part { kObject, kStatus, kBoth };
  Result<Json> UpdatePart(const Request& p, const ResourceInfo& r, Json body, Part part);
  // `with_status`: desired's status is written too, and tracked as the status subresource's.
  Result<Json> CommitUpdate(const Request& p, const ResourceInfo& r, Json current, Json desired, uint64_t expected,
                            bool with_status = false);
  // One attempt of Delete on the object as read at `expected`: marks it when finalizers hold it.
  Result<Json> DeleteAt(const Request& p, const ResourceInfo& r, Json current, uint64_t expected);
  std::string Now() const;
  ManagerInfo Manager(const Request& p, const ResourceInfo& r) const;
  // CRDs and custom resources (objects_crd.cc): their part of Prepare, and what follows a commit (a CRD
  // write reloads the catalog; a CRD being deleted deletes its custom resources, then itself).
  Status PrepareCustom(const Request& p, const ResourceInfo& r, Json& obj, const Json* current) const;
  void Committed(const Request& p, const ResourceInfo& r);
  void CleanupCrd(const std::string& ws, const std::string& name);
  static bool DropUnknownFields(const Status& s, Json& obj, const std::string& prefix, const Request& p);

  store::Store& store_;
  const Clock& clock_;
  Catalog catalog_;
  bool advanced_placement_ = false;
};

// The stored JSON with the store's resourceVersion and uid put into metadata.
Json Decorate(const store::StoredObject& o);
// The same as text, spliced into the top-level metadata object without parsing the document.
std::string DecorateText(const store::StoredObject& o);

}  // namespace tmcd::registry
