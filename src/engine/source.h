#pragma once
// Feeds controllers from the store (the cache in kcp mode, the truth in embedded mode): every
// object of one resource in every workspace, once at start and then on every change, as
// (key, JSON) with "" for deletions. A watch that is closed (slow consumer) or expired relists:
// handlers are level-based, so seeing an object again is harmless.
// Thread-safe: the handler runs on the source's own thread.

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

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

class StoreSource {
 public:
  using Handler = std::function<void(const store::ObjectKey& key, const std::string& json)>;
  StoreSource(store::Store& store, std::string group, std::string resource, Handler handler);
  ~StoreSource();
  StoreSource(const StoreSource&) = delete;
  StoreSource& operator=(const StoreSource&) = delete;
  void Start();
  void Stop();

 private:
  void Run();
  // One list + watch cycle; returns when the watch ends or Stop is called.
  void Cycle();
  store::Store& store_;
  const std::string group_;
  const std::string resource_;
  Handler handler_;
  std::thread thread_;
  std::mutex mu_;
  std::shared_ptr<store::Watcher> watcher_;  // guarded by mu_
  bool stop_ = false;                        // guarded by mu_
};

}  // namespace tmcd::engine
