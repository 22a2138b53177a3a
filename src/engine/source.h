#pragma once
// Feeds controllers from the store (the cache in kcp mode, the truth in embedded mode): every
// object of one resource in every workspace, once at start and then on every change, as
// (key, JSON) with "" for deletions. A watch that is closed (slow consumer) or expired relists:
// handlers are level-based, so seeing an object again is harmless.
// A StoreSource is a subscription; the Manager runs one StoreInformer per store for all of them
// (docs/design/controllers.md "Shared store informer"): one list and one watch, each event's key
// decoded once and handed to the handlers of its (group, resource) in registration order.
// Thread-safe: handlers run on the informer's own thread.

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "store/store.h"

namespace tmcd::engine {

// For sources that should queue an object on new generations, creations and deletions, but not on
// status-only writes (a controller's own status updates would otherwise requeue it every time).
// Thread-safe.
class GenerationFilter {
 public:
  // True when `key` should be queued for this event (`json` "" = deleted).
  bool Changed(const std::string& key, const std::string& json);

 private:
  std::mutex mu_;
  std::map<std::string, int64_t> seen_;  // key → generation last passed; guarded by mu_
};

using SourceHandler = std::function<void(const store::ObjectKey& key, const std::string& json)>;

// One subscription: every object of (group, resource); ("*", "*") gets every resource no other
// subscription names (custom resources, whose kinds are known only at run time).
struct StoreSource {
  StoreSource(store::Store& s, std::string g, std::string r, SourceHandler h)
      : store(s), group(std::move(g)), resource(std::move(r)), handler(std::move(h)) {}
  store::Store& store;
  std::string group;
  std::string resource;
  SourceHandler handler;
};

class StoreInformer {
 public:
  explicit StoreInformer(store::Store& store) : store_(store) {}
  ~StoreInformer();
  StoreInformer(const StoreInformer&) = delete;
  StoreInformer& operator=(const StoreInformer&) = delete;
  // Before Start only.
  void Subscribe(const std::string& group, const std::string& resource, SourceHandler handler);
  void Start();
  void Stop();
  // Store events (and listed objects) whose key was decoded: one per commit, however many subscribe.
  uint64_t Decoded() const { return decoded_.load(); }
  // True once the first list of the store has been through the handlers.
  bool Listed() const { return listed_.load(); }

 private:
  void Run();
  // One list + watch cycle; returns when the watch ends or Stop is called.
  void Cycle();
  void Dispatch(const std::string& raw_key, const std::string& json);
  store::Store& store_;
  std::map<std::string, std::vector<SourceHandler>> handlers_;  // "group/resource"; fixed after Start
  std::thread thread_;
  std::mutex mu_;
  std::shared_ptr<store::Watcher> watcher_;  // guarded by mu_
  bool stop_ = false;                        // guarded by mu_
  std::atomic<uint64_t> decoded_{0};
  std::atomic<bool> listed_{false};
};

}  // namespace tmcd::engine
