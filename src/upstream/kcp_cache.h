#pragma once
// kcp mode's cache (docs/design/architecture.md §1): objects seen through the APIExport's virtual workspace,
// kept in the store under their logical cluster (the kcp.io/cluster annotation) with kcp's uid and
// resourceVersion, so that the local API, the controllers and a restart all see the same state.
// Writes are idempotent: an event whose resourceVersion is not newer than the cached copy changes
// nothing, so replaying events after a crash neither duplicates nor regresses anything. Also keeps
// the informers' resume points (internal objects under workspace "tmcd.internal", a name no kcp
// logical cluster can have).
// Thread-safe (state lives in the store).

#include <cstddef>
#include <set>
#include <string>
#include <vector>

#include "upstream/upstream.h"

namespace tmcd::upstream {

struct Gvr {
  std::string group;
  std::string version;
  std::string resource;
  std::string String() const { return group.empty() ? resource : resource + "." + group; }
  bool operator==(const Gvr&) const = default;
};

// Where an informer may resume: its last handled resourceVersion and, for the apibindings
// informer, the logical clusters that were bound.
struct ResumePoint {
  std::string resource_version;
  std::set<std::string> clusters;
};

inline constexpr std::string_view kInternalWorkspace = "tmcd.internal";

class KcpCache {
 public:
  explicit KcpCache(store::Store& store) : store_(store) {}

  // Caches `obj` (from an informer event) unless the cached copy is as new. A changed uid (the
  // object was deleted and re-created while tmcd did not watch) is a delete and a create.
  Status Put(const Gvr& r, const Json& obj);
  // Put for many objects (a first list): the writes go to the store in batches that share a commit
  // and its WAL sync. Returns the first error; the other objects are cached regardless.
  Status PutMany(const Gvr& r, const std::vector<const Json*>& objs);
  // Objects per PutMany store commit: one group commit holds the store's writer lock for its batch.
  static constexpr size_t kBatch = 256;
  // Removes the cached copy unless it is newer than `last` (a re-creation already cached).
  Status Remove(const Gvr& r, const Json& last);
  // Every cached object of `cluster` (its binding is gone). Returns how many were removed.
  Result<size_t> Purge(const std::string& cluster, const std::vector<Gvr>& resources);
  // Cached objects of `r` in `clusters`, as kcp served them (to prime a resumed informer).
  Result<std::vector<Json>> Cached(const Gvr& r, const std::set<std::string>& clusters) const;
  // Cached objects of `r` in `cluster` that `keep` does not contain (by name and namespace) are removed.
  Result<size_t> RemoveMissing(const std::string& cluster, const Gvr& r, const std::set<std::string>& keep);

  Result<ResumePoint> LoadResume(const std::string& endpoint, const Gvr& r) const;
  Status SaveResume(const std::string& endpoint, const Gvr& r, const ResumePoint& p);

  // What is stored for an object: managedFields dropped (large, and nothing in tmcd reads them).
  static Json Slim(Json obj);

 private:
  static store::ObjectKey KeyOf(const Gvr& r, const Json& obj);
  // What caching `in` takes now: nothing (the cached copy is as new), the write in `m`, or — its uid
  // changed — the delete in `m` and then another plan.
  enum class Step { kNone, kWrite, kReplace };
  Result<Step> Plan(const Gvr& r, const Json& in, store::Store::Mutation& m) const;
  static store::ObjectKey ResumeKey(const std::string& endpoint, const Gvr& r);
  store::Store& store_;
};

}  // namespace tmcd::upstream
