#pragma once
// One watch subscription: a bounded queue of events for keys under a prefix. Writers never block on
// a watcher: when its queue is full (by count or by bytes) it is closed as "too slow" and its
// consumer re-watches from the last revision it saw. Events are shared, never copied per watcher: a
// 1 MB update seen by 1,000 watchers is held once (docs/reliability.md). Thread-safe (one mutex;
// Push from writers, Next from the consumer).

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "common/status.h"
#include "store/codec.h"

namespace tmcd::store {

using EventPtr = std::shared_ptr<const Event>;

// What an event costs while it waits in queues: its key and object bytes plus the struct.
size_t EventBytes(const Event& e);

class Watcher {
 public:
  Watcher(std::string prefix, size_t queue_limit, size_t queue_bytes_limit = SIZE_MAX)
      : prefix_(std::move(prefix)), limit_(queue_limit), bytes_limit_(queue_bytes_limit) {}

  // The next event, or nullopt after `timeout` with nothing to deliver. A closed watcher returns its
  // close Status (kGone with "too slow", or kServiceUnavailable when the store stops) once drained.
  Result<std::optional<EventPtr>> Next(std::chrono::milliseconds timeout);
  void Close(Status why);
  // Called (under the watcher's lock, so keep it short and lock-free of the store) whenever an event
  // is queued or the watcher closes: lets an event loop poll Next(0) instead of blocking a thread.
  // After SetNotify(nullptr) returns, the previous callback is never called again.
  void SetNotify(std::function<void()> notify);
  bool closed() const;
  const std::string& prefix() const { return prefix_; }

  // Store side. While replaying, live events are held back so that replayed history and live events
  // reach the consumer in revision order.
  void Push(const EventPtr& e);
  void BeginReplay();
  void PushReplayed(EventPtr e);
  void EndReplay();
  size_t queued_bytes() const;

 private:
  void AppendLocked(EventPtr e);
  void NotifyLocked() const {
    if (notify_) notify_();
  }

  const std::string prefix_;
  const size_t limit_;
  const size_t bytes_limit_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<EventPtr> queue_;    // guarded by mu_
  size_t bytes_ = 0;              // EventBytes of queue_; guarded by mu_
  std::deque<EventPtr> pending_;  // live events that arrived during replay; guarded by mu_
  bool replaying_ = false;        // guarded by mu_
  std::optional<Status> closed_;  // guarded by mu_
  std::function<void()> notify_;  // guarded by mu_
};

}  // namespace tmcd::store
