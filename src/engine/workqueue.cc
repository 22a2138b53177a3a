#include "engine/workqueue.h"

#include <algorithm>
#include <cmath>

namespace tmcd::engine {

using std::chrono::milliseconds;

namespace {

std::string_view LaneOf(const std::string& key) {
  const auto bar = key.find('|');
  return bar == std::string::npos ? std::string_view() : std::string_view(key).substr(0, bar);
}

}  // namespace

WorkQueue::WorkQueue(const Clock& clock, QueueOptions options)
    : clock_(clock), options_(options), tokens_(options.burst), bucket_last_(clock.Now()) {}

void WorkQueue::AddLocked(const std::string& key) {
  if (shutting_down_ || dirty_.count(key) != 0) return;
  dirty_.insert(key);
  ++adds_;
  if (processing_.count(key) != 0) return;  // re-queued by Done
  PushLocked(key);
  cv_.notify_one();
}

void WorkQueue::PushLocked(const std::string& key) {
  const std::string_view lane = LaneOf(key);
  auto it = lanes_.find(lane);
  if (it == lanes_.end()) {
    it = lanes_.emplace(std::string(lane), std::deque<std::string>()).first;
    turns_.push_back(it->first);  // a lane that was empty joins the end of the round
  }
  it->second.push_back(key);
  ++queued_;
}

std::string WorkQueue::PopLocked() {
  std::string lane = std::move(turns_.front());
  turns_.pop_front();
  auto it = lanes_.find(lane);
  std::string key = std::move(it->second.front());
  it->second.pop_front();
  --queued_;
  if (it->second.empty()) {
    lanes_.erase(it);
  } else {
    turns_.push_back(std::move(lane));  // its next key waits for every other lane's turn
  }
  return key;
}

void WorkQueue::NoteTraceLocked(const std::string& key) {
  const observability::SpanContext c = observability::CurrentSpanContext();
  if (!c.valid() || shutting_down_) return;
  QueuedTrace& t = traces_[key];
  if (!t.parent.valid()) {
    t.parent = c;  // the first change that queued the key: its trace goes on
  } else if (t.links.size() < kMaxTraceLinks && c.trace_id != t.parent.trace_id) {
    t.links.push_back(c);  // later ones: linked
  }
}

void WorkQueue::Add(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  AddLocked(key);
  NoteTraceLocked(key);
}

void WorkQueue::AddAfter(const std::string& key, milliseconds delay) {
  std::lock_guard<std::mutex> lock(mu_);
  if (shutting_down_) return;
  if (delay <= milliseconds(0)) return AddLocked(key);
  const TimePoint at = clock_.Now() + delay;
  auto it = delayed_at_.find(key);
  if (it != delayed_at_.end() && it->second <= at) return;  // an earlier wake-up is pending
  delayed_at_[key] = at;
  delayed_.emplace(at, key);
  cv_.notify_all();  // a sleeping Get may need to wake earlier
}

milliseconds WorkQueue::BucketDelayLocked(TimePoint now) {
  if (options_.qps <= 0) return milliseconds(0);
  const double elapsed = std::chrono::duration<double>(now - bucket_last_).count();
  tokens_ = std::min<double>(options_.burst, tokens_ + std::max(0.0, elapsed) * options_.qps);
  bucket_last_ = now;
  tokens_ -= 1;  // reserve (may go negative: later callers wait longer)
  if (tokens_ >= 0) return milliseconds(0);
  return milliseconds(static_cast<int64_t>(std::ceil(-tokens_ / options_.qps * 1000)));
}

milliseconds WorkQueue::AddRateLimited(const std::string& key) {
  milliseconds delay;
  {
    std::lock_guard<std::mutex> lock(mu_);
    const int n = failures_[key]++;
    ++retries_;
    // The first retries continue the failed attempt's trace (about 5 s of backoff); a key that keeps
    // failing then starts new traces rather than nesting one deeper forever.
    if (n < kTracedRetries) NoteTraceLocked(key);
    const double backoff = static_cast<double>(options_.base_delay.count()) * std::pow(2.0, std::min(n, 40));
    const auto per_key = milliseconds(static_cast<int64_t>(std::min(backoff, double(options_.max_delay.count()))));
    delay = std::max(per_key, BucketDelayLocked(clock_.Now()));
  }
  AddAfter(key, delay);
  return delay;
}

void WorkQueue::Forget(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  failures_.erase(key);
}

int WorkQueue::NumRequeues(const std::string& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = failures_.find(key);
  return it == failures_.end() ? 0 : it->second;
}

void WorkQueue::PromoteLocked(TimePoint now) {
  while (!delayed_.empty() && delayed_.top().first <= now) {
    auto [at, key] = delayed_.top();
    delayed_.pop();
    auto it = delayed_at_.find(key);
    if (it == delayed_at_.end() || it->second != at) continue;  // superseded by an earlier time
    delayed_at_.erase(it);
    AddLocked(key);
  }
}

std::optional<std::string> WorkQueue::Get() {
  return Get(nullptr);
}

std::optional<std::string> WorkQueue::Get(QueuedTrace* trace) {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    if (shutting_down_) return std::nullopt;
    PromoteLocked(clock_.Now());
    if (queued_ != 0) break;
    auto wait = options_.poll;
    if (!delayed_.empty()) {
      auto until = std::chrono::duration_cast<milliseconds>(delayed_.top().first - clock_.Now());
      wait = std::clamp(until, milliseconds(1), options_.poll);
    }
    cv_.wait_for(lock, wait);
  }
  std::string key = PopLocked();
  dirty_.erase(key);
  processing_[key] = clock_.Now();
  if (auto it = traces_.find(key); it != traces_.end()) {
    if (trace != nullptr) *trace = std::move(it->second);
    traces_.erase(it);
  }
  return key;
}

void WorkQueue::Done(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  processing_.erase(key);
  if (dirty_.count(key) != 0 && !shutting_down_) {
    PushLocked(key);
    cv_.notify_one();
  }
  cv_.notify_all();  // a draining ShutDown may be waiting
}

void WorkQueue::ShutDown() {
  std::lock_guard<std::mutex> lock(mu_);
  shutting_down_ = true;
  cv_.notify_all();
}

void WorkQueue::ShutDownWithDrain() {
  std::unique_lock<std::mutex> lock(mu_);
  shutting_down_ = true;
  cv_.notify_all();
  cv_.wait(lock, [&] { return processing_.empty(); });
}

bool WorkQueue::ShuttingDown() const {
  std::lock_guard<std::mutex> lock(mu_);
  return shutting_down_;
}

QueueStats WorkQueue::Stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  QueueStats s;
  s.depth = queued_;
  s.lanes = lanes_.size();
  s.processing = processing_.size();
  s.waiting = delayed_at_.size();
  s.adds = adds_;
  s.retries = retries_;
  const TimePoint now = clock_.Now();
  for (const auto& [key, since] : processing_)
    s.longest_running = std::max(s.longest_running, std::chrono::duration<double>(now - since));
  return s;
}

}  // namespace tmcd::engine
