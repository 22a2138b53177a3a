#pragma once
// A work queue with client-go's semantics (docs/design/architecture.md §5): a key queued several times is
// processed once (dedupe); a key is never handed to two workers at once (a key added while being
// processed is queued again when Done); failures requeue with a per-key exponential backoff (5 ms
// doubling to 1000 s) combined with an overall token bucket (the larger delay wins); Forget clears a
// key's failures. ShutDown stops handing out work; ShutDownWithDrain also waits until every key
// being processed is Done.
// Fair between workspaces (docs/design/architecture.md §5 "Fairness"): queued keys wait in one lane
// per workspace (the text before a key's first '|', the convention of every controller's keys) and
// Get serves the lanes in turn, so one tenant's 10,000 queued keys delay another tenant's one key by
// at most one key per other busy lane, not by 10,000. Within a lane keys keep their order.
// Thread-safe. Time comes from a Clock so that tests can drive delays.

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <queue>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "observability/trace.h"

namespace tmcd::engine {

struct QueueOptions {
  std::chrono::milliseconds base_delay{5};
  std::chrono::milliseconds max_delay{1000 * 1000};
  double qps = 10;  // overall retry rate (client-go's default bucket: 10 qps, burst 100)
  int burst = 100;
  // Longest a blocked Get sleeps before looking at the clock again (delays under a FakeClock).
  std::chrono::milliseconds poll{100};
};

struct QueueStats {
  size_t depth = 0;                                  // queued, not being processed
  size_t lanes = 0;                                  // workspaces with keys queued
  size_t processing = 0;                             // handed out, not Done
  size_t waiting = 0;                                // delayed (AddAfter / AddRateLimited)
  uint64_t adds = 0;                                 // Add calls that queued something new
  uint64_t retries = 0;                              // AddRateLimited calls
  std::chrono::duration<double> longest_running{0};  // oldest key being processed
};

// The trace context a key was queued in (docs/design/tracing.md): Add and AddRateLimited note the
// calling thread's span (AddRateLimited for the first kTracedRetries retries only); the first becomes
// the parent of the key's next reconcile, later ones (of other traces, up to kMaxTraceLinks) its
// links. AddAfter (periodic work) notes nothing.
struct QueuedTrace {
  observability::SpanContext parent;
  std::vector<observability::SpanContext> links;
};
inline constexpr size_t kMaxTraceLinks = 8;
inline constexpr int kTracedRetries = 10;  // retries that stay in the failed attempt's trace

class WorkQueue {
 public:
  WorkQueue(const Clock& clock, QueueOptions options = {});

  void Add(const std::string& key);
  void AddAfter(const std::string& key, std::chrono::milliseconds delay);
  // After a failure: AddAfter(key, max(per-key backoff, token-bucket delay)); returns the delay.
  std::chrono::milliseconds AddRateLimited(const std::string& key);
  void Forget(const std::string& key);
  int NumRequeues(const std::string& key) const;

  // The next key, blocking; nullopt once shut down (and, for ShutDown, at once).
  std::optional<std::string> Get();
  // Also hands over the trace context the key was queued in (empty when none).
  std::optional<std::string> Get(QueuedTrace* trace);
  void Done(const std::string& key);

  void ShutDown();
  // Stops handing out keys and waits until every handed-out key is Done.
  void ShutDownWithDrain();
  bool ShuttingDown() const;
  QueueStats Stats() const;

 private:
  using TimePoint = Clock::TimePoint;
  void PromoteLocked(TimePoint now);
  void AddLocked(const std::string& key);
  void PushLocked(const std::string& key);  // into its workspace's lane
  std::string PopLocked();                  // from the lane whose turn it is
  void NoteTraceLocked(const std::string& key);
  std::chrono::milliseconds BucketDelayLocked(TimePoint now);

  const Clock& clock_;
  const QueueOptions options_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, std::deque<std::string>, std::less<>> lanes_;  // non-empty only; guarded by mu_
  std::deque<std::string> turns_;                // the lanes with keys, in the order they are served; guarded by mu_
  size_t queued_ = 0;                            // keys in all lanes; guarded by mu_
  std::set<std::string> dirty_;                  // queued or to be re-queued; guarded by mu_
  std::map<std::string, TimePoint> processing_;  // key → handed out at; guarded by mu_
  std::map<std::string, int> failures_;          // guarded by mu_
  using Delayed = std::pair<TimePoint, std::string>;
  std::priority_queue<Delayed, std::vector<Delayed>, std::greater<>> delayed_;  // guarded by mu_
  std::map<std::string, TimePoint> delayed_at_;  // earliest pending time per key; guarded by mu_
  double tokens_;                                // guarded by mu_
  TimePoint bucket_last_;                        // guarded by mu_
  bool shutting_down_ = false;                   // guarded by mu_
  uint64_t adds_ = 0;                            // guarded by mu_
  uint64_t retries_ = 0;                         // guarded by mu_
  std::map<std::string, QueuedTrace> traces_;    // queued keys' trace contexts; guarded by mu_
};

}  // namespace tmcd::engine
