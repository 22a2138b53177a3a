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
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "apis/tmc/v1alpha1/register.h"
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
  // The same for a change of both the object (metadata, spec) and its status: one write where the
  // source allows it (embedded: one store commit), else the object and then its status, each sent
  // only when its part changed (kcp: two requests, as any Kubernetes client makes).
  virtual Result<Json> MutateWithStatus(const ObjectRef& ref, const MutateFn& mutate);
  // Creates `obj` at the source (ref.name is the object's name), and merge-patches an object there:
  // the event recorder's writes (engine/events.h), which need no read first.
  virtual Result<Json> Create(const ObjectRef& ref, const Json& obj) = 0;
  virtual Result<Json> MergePatch(const ObjectRef& ref, const Json& patch) = 0;

  // Typed access to the TMC kinds for the reconcilers, which then never handle JSON themselves.
  // Reads decode the stored text straight into the struct (no JSON tree in between).
  template <class T>
  Result<T> GetTyped(const ObjectRef& ref) const {
    TMCD_ASSIGN_OR_RETURN(store::StoredObject o, store_.Get(ref.Key()));
    return Typed<T>(o);
  }
  // Every object of T's kind in `workspace` (and `ns`, "" = all) that decodes, in name order.
  template <class T>
  Result<std::vector<T>> ListTyped(const std::string& workspace, const std::string& ns) const {
    const auto& k = apis::v1alpha1::KindOf<T>();
    const std::string g(apis::v1alpha1::kGroup), r(k.plural);
    const std::string prefix =
        ns.empty() ? store::ResourcePrefix(workspace, g, r) : store::NamespacePrefix(workspace, g, r, ns);
    TMCD_ASSIGN_OR_RETURN(store::ListResult list, store_.List(prefix, 0, ""));
    std::vector<T> out;
    out.reserve(list.items.size());
    for (const auto& [key, o] : list.items) {
      if (auto obj = Typed<T>(o); obj.ok()) out.push_back(std::move(obj).value());
    }
    return out;
  }
  // The same list through `cache`, which keeps each decoded object with its store revision: only
  // objects written since the previous call are decoded again (a placement reconcile reads every
  // cluster of its workspace; decoding them all was most of its cost at 1,000 clusters).
  template <class T>
  class ListCache {
    friend class Upstream;
    std::mutex mu_;
    // list prefix → store key → (mod_revision, decoded)
    std::map<std::string, std::map<std::string, std::pair<uint64_t, std::shared_ptr<const T>>>> items_;
  };
  template <class T>
  Result<std::vector<std::shared_ptr<const T>>> ListTyped(const std::string& workspace, const std::string& ns,
                                                          ListCache<T>& cache) const {
    const auto& k = apis::v1alpha1::KindOf<T>();
    const std::string g(apis::v1alpha1::kGroup), r(k.plural);
    const std::string prefix =
        ns.empty() ? store::ResourcePrefix(workspace, g, r) : store::NamespacePrefix(workspace, g, r, ns);
    TMCD_ASSIGN_OR_RETURN(store::ListResult list, store_.List(prefix, 0, ""));
    std::lock_guard<std::mutex> lock(cache.mu_);
    auto& old = cache.items_[prefix];
    std::map<std::string, std::pair<uint64_t, std::shared_ptr<const T>>> now;
    std::vector<std::shared_ptr<const T>> out;
    out.reserve(list.items.size());
    for (const auto& [key, o] : list.items) {
      auto it = old.find(key);
      std::shared_ptr<const T> obj;
      if (it != old.end() && it->second.first == o.mod_revision) {
        obj = it->second.second;
      } else if (auto decoded = Typed<T>(o); decoded.ok()) {
        obj = std::make_shared<const T>(std::move(decoded).value());
      } else {
        continue;
      }
      out.push_back(obj);
      now.emplace(key, std::make_pair(o.mod_revision, std::move(obj)));
    }
    old = std::move(now);
    return out;
  }
  // Read-modify-write of the status with conflict retries: `mutate` changes obj.status (and returns
  // false when nothing needs writing). Returns the object as mutated.
  template <class T>
  Result<T> MutateStatus(const ObjectRef& ref, const std::function<Result<bool>(T& obj)>& mutate) {
    T out;
    auto written = Mutate(ref, true, [&](Json& current) -> Result<bool> {
      // The one place a TMC object goes from JSON to its struct and back: kcp's client hands JSON over.
      TMCD_ASSIGN_OR_RETURN(out, apis::v1alpha1::DecodeStored<T>(current.dump()));
      TMCD_ASSIGN_OR_RETURN(bool changed, mutate(out));
      if (changed) current["status"] = Json::parse(apis::EncodeJson(out.status));
      return changed;
    });
    TMCD_TRY(written.status());
    return out;
  }

 protected:
  // The store's JSON as served to controllers; `source_versions` keeps the resourceVersion and uid
  // in the JSON (kcp's) instead of the store's.
  static Json Materialize(const store::StoredObject& o, bool source_versions);
  virtual bool SourceVersions() const = 0;
  template <class T>
  Result<T> Typed(const store::StoredObject& o) const {
    TMCD_ASSIGN_OR_RETURN(T obj, apis::v1alpha1::DecodeStored<T>(o.json));
    if (!SourceVersions()) {
      obj.metadata.resource_version = std::to_string(o.mod_revision);
      obj.metadata.uid = store::UidString(o.uid);
    }
    return obj;
  }
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
  Result<Json> MutateWithStatus(const ObjectRef& ref, const MutateFn& mutate) override;
  Result<Json> Create(const ObjectRef& ref, const Json& obj) override;
  Result<Json> MergePatch(const ObjectRef& ref, const Json& patch) override;

 private:
  enum class Part { kObject, kStatus, kBoth };
  bool SourceVersions() const override { return false; }
  Result<Json> MutatePart(const ObjectRef& ref, Part part, const MutateFn& mutate);
  Result<Json> Write(const ObjectRef& ref, const Json& desired, Part part);
  // The request and the workspace's resource for a write of `ref` (NotFound when not served).
  Result<registry::ResourcePtr> Prepare(const ObjectRef& ref, registry::Request& req) const;
  registry::ObjectService& objects_;
};

}  // namespace tmcd::upstream
