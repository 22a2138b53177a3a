#include "sync/fanout.h"

#include <algorithm>
#include <atomic>
#include <exception>

namespace tmcd::sync {

struct FanOutPool::Job {
  const std::function<void(size_t)>* one;  // valid while done < n: Run waits for that
  size_t n;
  std::atomic<size_t> next{0};
  std::mutex mu;
  std::condition_variable cv;
  size_t done = 0;           // guarded by mu
  std::exception_ptr error;  // guarded by mu: the first exception of one(i), rethrown by Run
};

FanOutPool::FanOutPool(size_t max_threads, size_t width)
    : max_threads_(max_threads), width_(std::max<size_t>(width, 1)) {}

FanOutPool::~FanOutPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
}

size_t FanOutPool::Threads() const {
  std::lock_guard<std::mutex> lock(mu_);
  return threads_.size();
}

// Takes indices until none is left; one(i) of an index taken is always run, and counted.
void FanOutPool::Take(Job& job) {
  for (size_t i = job.next.fetch_add(1); i < job.n; i = job.next.fetch_add(1)) {
    std::exception_ptr error;
    try {
      (*job.one)(i);
    } catch (...) {  // carried to the caller, as std::async's future did: a pool thread must not die
      error = std::current_exception();
    }
    std::lock_guard<std::mutex> lock(job.mu);
    if (error && !job.error) job.error = error;
    if (++job.done == job.n) job.cv.notify_all();
  }
}

void FanOutPool::Run(size_t n, const std::function<void(size_t)>& one) {
  if (n == 0) return;
  auto job = std::make_shared<Job>();
  job->one = &one;
  job->n = n;
  const size_t helpers = std::min(n, width_) - 1;
  if (helpers > 0) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (size_t h = 0; h < helpers; ++h) queue_.push_back(job);
      const size_t wanted =
          std::min(max_threads_, threads_.size() + (queue_.size() > idle_ ? queue_.size() - idle_ : 0));
      while (threads_.size() < wanted) threads_.emplace_back([this] { Loop(); });
    }
    cv_.notify_all();
  }
  Take(*job);
  std::unique_lock<std::mutex> lock(job->mu);
  job->cv.wait(lock, [&] { return job->done == job->n; });
  // Helpers that had not started find no index left: they never touch `one` again.
  if (job->error) std::rethrow_exception(job->error);
}

void FanOutPool::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    ++idle_;
    cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    --idle_;
    if (stopping_) return;
    std::shared_ptr<Job> job = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    Take(*job);
    lock.lock();
  }
}

}  // namespace tmcd::sync
