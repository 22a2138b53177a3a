#pragma once
// Reflector + informer (client-go's algorithm, ../shared/reference/k8s-kcp-protocol.md §1.6): list
// (paged) then watch from the list's resourceVersion with bookmarks and a random 5–10 min timeout;
// every event advances the resourceVersion; a clean end re-watches; 410 Expired/Gone relists from
// scratch; other failures back off (800 ms doubling to 30 s, jittered) and re-watch. A relist
// reconciles the cache: new objects are adds, changed ones updates, vanished ones deletes (the
// cached last state, as client-go's DeletedFinalStateUnknown). Keys are "ns/name" or "name", with
// "<cluster>|" in front for kcp objects (kcp's cluster-aware keys).
// Thread-safe: handlers run on the informer's own thread, one at a time; the cache may be read from
// any thread.

#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "kube/client.h"

namespace tmcd::kube {

struct EventHandlers {
  std::function<void(const Json& obj)> on_add;
  std::function<void(const Json& old_obj, const Json& new_obj)> on_update;
  std::function<void(const Json& last_known)> on_delete;
  // When set, the objects a list adds come here in one call instead of to on_add one by one (a bulk
  // write: kcp mode's cache stores a first list with one store commit per batch, not per object).
  // The watch's additions still go to on_add, which such a handler must set too.
  std::function<void(const std::vector<Json>& objs)> on_add_many;
};

class Informer {
 public:
  struct Options {
    std::string label_selector;
    std::string field_selector;
    size_t page_size = 500;
    std::chrono::seconds min_watch_timeout{300};
    std::chrono::seconds max_watch_timeout{600};
    Backoff::Options backoff;
    uint64_t seed = 1;
    // A 404 on list means "no objects" (a kcp virtual workspace serves an exported resource only
    // while some workspace binds it): the cache empties, the informer counts as synced, and it
    // lists again after not_found_retry or a Poke() instead of watching.
    bool not_found_means_empty = false;
    std::chrono::milliseconds not_found_retry{2000};
    // Applied to every object before it is cached or handed to handlers (client-go's
    // SetTransform), e.g. to drop managedFields.
    std::function<void(Json&)> transform;
    // Called on the informer's thread after each relist (every list but the first) with what made
    // it necessary: the watch's 410 Expired/Gone, or OK when a resource not served is looked for again.
    std::function<void(const Status& cause)> on_relist;
  };
  Informer(Client& client, ResourceRef ref, Options options);
  Informer(Client& client, ResourceRef ref) : Informer(client, std::move(ref), Options{}) {}
  ~Informer();
  Informer(const Informer&) = delete;
  Informer& operator=(const Informer&) = delete;

  void AddHandlers(EventHandlers h);  // before Start
  // Secondary indexes (client-go's Indexers): `f` maps an object to its index values. Before Start.
  // The index "namespace" always exists.
  using IndexFunc = std::function<std::vector<std::string>(const Json&)>;
  void AddIndex(const std::string& name, IndexFunc f);
  std::vector<Json> ByIndex(const std::string& name, const std::string& value) const;
  // Restart without a full re-download (before Start): the cache starts as `objects`, the informer
  // counts as synced, and the first request is a watch from `resource_version`. Should that be too
  // old (410), the relist reconciles `objects` against the server like any relist: vanished objects
  // reach on_delete, changed ones on_update. No handler runs for the primed objects themselves.
  void Resume(std::vector<Json> objects, std::string resource_version);
  void Start();
  void Stop();
  // Ends a backoff wait now (e.g. a new binding makes a resource appear).
  void Poke();

  // True once the first list has been applied to the cache.
  bool HasSynced() const;
  bool WaitForSync(std::chrono::milliseconds timeout) const;
  std::optional<Json> Get(const std::string& key) const;
  std::vector<Json> List() const;
  std::string LastSyncResourceVersion() const;
  // The resourceVersion up to which every event has been through all handlers (bookmarks
  // included): what a consumer that persists handler results may resume from.
  std::string HandledResourceVersion() const;
  size_t Relists() const;  // lists after the first (410s and failed watches that needed one)
  Status LastError() const;

  static std::string KeyOf(const Json& obj);

 private:
  void Run();
  Status ListAndReplace(bool from_scratch);
  // Watches until the stream ends; `events` counts delivered events.
  Status WatchOnce(size_t& events);
  void Apply(const WatchEvent& ev);
  bool SleepUnlessStopped(std::chrono::milliseconds d);
  void SetError(const Status& s);
  // The cache keeps objects as compact JSON text (a parsed document costs ~20x its text) and the
  // index values each object was filed under.
  struct Entry {
    std::string json;
    std::string resource_version;
    std::vector<std::pair<std::string, std::string>> indexed;  // (index name, value)
  };
  Entry MakeEntry(const Json& obj) const;
  void IndexLocked(const std::string& key, const Entry* old_entry, const Entry* new_entry);

  Client& client_;
  const ResourceRef ref_;
  const Options options_;
  std::vector<EventHandlers> handlers_;
  std::thread thread_;
  WatchCancel cancel_;
  std::mt19937_64 rng_;  // informer thread only
  Backoff backoff_;      // informer thread only

  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::map<std::string, Entry> cache_;                                           // guarded by mu_
  std::map<std::string, IndexFunc> index_funcs_;                                 // set before Start
  std::map<std::string, std::map<std::string, std::set<std::string>>> indexes_;  // guarded by mu_
  std::string last_rv_;                                                          // guarded by mu_
  std::string handled_rv_;                                                       // guarded by mu_
  bool resumed_ = false;                                                         // set before Start
  bool synced_ = false;                                                          // guarded by mu_
  bool stop_ = false;                                                            // guarded by mu_
  bool poked_ = false;                                                           // guarded by mu_
  size_t relists_ = 0;                                                           // guarded by mu_
  Status last_error_;                                                            // guarded by mu_
};

}  // namespace tmcd::kube
