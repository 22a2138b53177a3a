#include "store/watcher.h"

namespace tmcd::store {

size_t EventBytes(const Event& e) {
  return sizeof(Event) + e.key.size() + e.object.json.size();
}

Result<std::optional<EventPtr>> Watcher::Next(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  // A zero timeout must not reach the condition variable: even an expired wait is a futex call.
  if (timeout.count() > 0) cv_.wait_for(lock, timeout, [&] { return !queue_.empty() || closed_.has_value(); });
  if (!queue_.empty()) {
    EventPtr e = std::move(queue_.front());
    queue_.pop_front();
    bytes_ -= EventBytes(*e);
    return std::optional<EventPtr>(std::move(e));
  }
  if (closed_) return *closed_;
  return std::optional<EventPtr>();
}

size_t Watcher::queued_bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return bytes_;
}

void Watcher::Close(Status why) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!closed_) closed_ = std::move(why);
    NotifyLocked();
  }
  cv_.notify_all();
}

bool Watcher::closed() const {
  std::lock_guard<std::mutex> lock(mu_);
  return closed_.has_value();
}

void Watcher::SetNotify(std::function<void()> notify) {
  std::lock_guard<std::mutex> lock(mu_);
  notify_ = std::move(notify);
}

void Watcher::AppendLocked(EventPtr e) {
  if (closed_) return;
  NotifyLocked();
  const size_t bytes = EventBytes(*e);
  if (queue_.size() >= limit_ || bytes_ + bytes > bytes_limit_) {
    const bool by_count = queue_.size() >= limit_;
    queue_.clear();
    bytes_ = 0;
    closed_ = Status(Reason::kGone,
                     "watch closed: the consumer fell more than " +
                         (by_count ? std::to_string(limit_) + " events" : std::to_string(bytes_limit_) + " bytes") +
                         " behind; re-watch from the last seen resourceVersion");
    return;
  }
  bytes_ += bytes;
  queue_.push_back(std::move(e));
}

void Watcher::Push(const EventPtr& e) {
  if (e->key.compare(0, prefix_.size(), prefix_) != 0) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (replaying_) {
      if (pending_.size() >= limit_) {
        pending_.clear();
        closed_ = Status(Reason::kGone, "watch closed: too many events while replaying history");
      } else if (!closed_) {
        pending_.push_back(e);
      }
      return;
    }
    AppendLocked(e);
  }
  cv_.notify_all();
}

void Watcher::BeginReplay() {
  std::lock_guard<std::mutex> lock(mu_);
  replaying_ = true;
}

void Watcher::PushReplayed(EventPtr e) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    AppendLocked(std::move(e));
  }
  cv_.notify_all();
}

void Watcher::EndReplay() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    replaying_ = false;
    while (!pending_.empty()) {
      AppendLocked(std::move(pending_.front()));
      pending_.pop_front();
    }
  }
  cv_.notify_all();
}

}  // namespace tmcd::store
