#pragma once
// One watch subscription: a bounded queue of events for keys under a prefix. Writers never block on
// a watcher: when its queue is full it is closed as "too slow" and its consumer re-watches from the
// last revision it saw. Thread-safe (one mutex; Push from writers, Next from the consumer).

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>

#include "common/status.h"
#include "store/codec.h"

namespace tmcd::store {

class Watcher {
 public:
  Watcher(std::string prefix, size_t queue_limit) : prefix_(std::move(prefix)), limit_(queue_limit) {}

  // The next event, or nullopt after `timeout` with nothing to deliver. A closed watcher returns its
  // close Status (kGone with "too slow", or kServiceUnavailable when the store stops) once drained.
  Result<std::optional<Event>> Next(std::chrono::milliseconds timeout);
  void Close(Status why);
  // Called (under the watcher's lock, so keep it short and lock-free of the store) whenever an event
  // is queued or the watcher closes: lets an event loop poll Next(0) instead of blocking a thread.
  // After SetNotify(nullptr) returns, the previous callback is never called again.
  void SetNotify(std::function<void()> notify);
  bool closed() const;
  const std::string& prefix() const { return prefix_; }

  // Store side. While replaying, live events are held back so that replayed history and live events
  // reach the consumer in revision order.
  void Push(const Event& e);
  void BeginReplay();
  void PushReplayed(Event e);
  void EndReplay();

 private:
  void AppendLocked(Event e);
  void NotifyLocked() const {
    if (notify_) notify_();
  }

  const std::string prefix_;
  const size_t limit_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Event> queue_;       // guarded by mu_
  std::deque<Event> pending_;     // live events that arrived during replay; guarded by mu_
  bool replaying_ = false;        // guarded by mu_
  std::optional<Status> closed_;  // guarded by mu_
  std::function<void()> notify_;  // guarded by mu_
};

}  // namespace tmcd::store
