// FanOutPool: the threads that run a workload's copies beside the sync worker's own.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace tmcd::sync {

inline constexpr size_t kCopyFanOut = 8;  // copies of one workload synced at the same time

// Runs the independent parts of one reconcile (the copies of a workload, one per cluster) side by side
// on kept threads. Before it, every copy beyond the first started a thread of its own (std::async): a
// restart at 100 clusters x 10,000 workloads created ~15,000 threads (docs/sync.md, "Architecture").
//
// Run(n, one) calls one(0) .. one(n-1), at most `width` at a time: the calling thread takes indices
// itself and asks up to width-1 pool threads to take the rest, so a busy pool never stalls a caller
// (it then runs its indices alone) and nothing waits on the pool while holding a pool thread.
// Threads start when needed, up to `max_threads`, and stop with the pool. Thread-safe.
class FanOutPool {
 public:
  FanOutPool(size_t max_threads, size_t width);
  ~FanOutPool();
  FanOutPool(const FanOutPool&) = delete;
  FanOutPool& operator=(const FanOutPool&) = delete;

  // Returns once every one(i) has returned; then rethrows the first exception one of them threw (every
  // index still runs). `one` runs on pool threads: log fields and spans it needs are the caller's to
  // carry over.
  void Run(size_t n, const std::function<void(size_t)>& one);

  size_t Threads() const;  // started so far

 private:
  struct Job;
  void Loop();
  static void Take(Job& job);

  const size_t max_threads_;
  const size_t width_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<Job>> queue_;  // guarded by mu_: one entry per helper asked for
  std::vector<std::thread> threads_;        // guarded by mu_
  size_t idle_ = 0;                         // guarded by mu_
  bool stopping_ = false;                   // guarded by mu_
};

}  // namespace tmcd::sync
