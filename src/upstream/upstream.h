#pragma once
// The source of truth as the engine and the syncer see it (docs/design/architecture.md §1): objects by
// (workspace, group, version, resource, namespace, name). Two implementations:
//  - EmbeddedUpstream: the local store is the truth; writes go through the local API's semantics.
//  - KcpUpstream: tenant workspaces bound to tmcd's APIExport, cached in the store under their
//    logical cluster; writes go to kcp through the export's virtual workspace.
// In both modes reads come from the store and changes are watched there (store::Store::Watch on
// ResourcePrefix(workspace, group, resource)), so controllers are written once.
// Thread-safe: every method may be called from any thread after Start().

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/status.h"
#include "registry/objects.h"
#include "store/store.h"

namespace tmcd::upstream {

using Json = nlohmann::json;

struct ObjectRef {
  std::string workspace;  // embedded: the workspace name; kcp: the logical cluster name
  std::string group;      // "" = core
  std::string version;
  std::string resource;
  std::string namespace_;  // "" for cluster-scoped objects
  std::string name;
  store::ObjectKey Key() const { return {workspace, group, resource, namespace_, name}; }
  std::string String() const;
};

// Changes `obj` in place; returns false when nothing needs writing (the write is skipped).
using MutateFn = std::function<Result<bool>(Json& obj)>;

class Upstream {
 public:
  explicit Upstream(store::Store& store) : store_(store) {}
  virtual ~Upstream() = default;
  Upstream(const Upstream&) = delete;
  Upstream& operator=(const Upstream&) = delete;

  virtual std::string_view Kind() const = 0;  // "embedded" or "kcp"
  // Starts syncing in the background; errors here are configuration errors (fatal at startup).
  // Connection trouble is not an error: it shows in NotReadyReason() and is retried.
  virtual Status Start() = 0;
  virtual void Stop() = 0;
  // "" once the cache holds the upstream state (the initial sync is done), else why not.
  virtual std::string NotReadyReason() const = 0;
  // Whether the local API may write the TMC and workload objects (embedded mode only).
  virtual bool AcceptsLocalWrites() const = 0;

  // Reads from the store: the object as its source serves it (kcp mode: kcp's resourceVersion and
  // uid; embedded: the store's).
  Result<Json> Get(const ObjectRef& ref) const;
  Result<std::vector<Json>> List(const std::string& workspace, const std::string& group, const std::string& resource,
                                 const std::string& ns) const;

  // Read-modify-write at the source with optimistic concurrency: re-reads and retries on
  // Conflict (5 tries). `status` writes the /status subresource. Returns the written object
  // (or the current one when `mutate` returned false).
  virtual Result<Json> Mutate(const ObjectRef& ref, bool status, const MutateFn& mutate) = 0;

 protected:
  // The store's JSON as served to controllers; `source_versions` keeps the resourceVersion and uid
  // in the JSON (kcp's) instead of the store's.
  static Json Materialize(const store::StoredObject& o, bool source_versions);
  virtual bool SourceVersions() const = 0;
  store::Store& store_;
};

// Embedded mode: writes go through the registry layer (registry::ObjectService), with the local API's
// semantics (validation, generation, status subresource), as field manager "tmcd".
class EmbeddedUpstream : public Upstream {
 public:
  EmbeddedUpstream(store::Store& store, registry::ObjectService& objects) : Upstream(store), objects_(objects) {}
  std::string_view Kind() const override { return "embedded"; }
  Status Start() override { return Status::Ok(); }
  void Stop() override {}
  std::string NotReadyReason() const override { return ""; }
  bool AcceptsLocalWrites() const override { return true; }
  Result<Json> Mutate(const ObjectRef& ref, bool status, const MutateFn& mutate) override;

 private:
  bool SourceVersions() const override { return false; }
  Result<Json> Write(const ObjectRef& ref, const Json& desired, bool status);
  registry::ObjectService& objects_;
};

}  // namespace tmcd::upstream
