#include "kube/rate.h"

#include <algorithm>

namespace tmcd::kube {

TokenBucket::TokenBucket(double qps, int burst)
    : qps_(qps), burst_(std::max(1, burst)), tokens_(static_cast<double>(std::max(1, burst))) {}

std::chrono::nanoseconds TokenBucket::Reserve(SteadyTime now) {
  if (qps_ <= 0) return std::chrono::nanoseconds(0);  // unlimited
  std::lock_guard<std::mutex> lock(mu_);
  if (started_ && now > last_) {
    tokens_ = std::min(burst_, tokens_ + std::chrono::duration<double>(now - last_).count() * qps_);
  }
  if (!started_ || now > last_) last_ = now;
  started_ = true;
  tokens_ -= 1;
  if (tokens_ >= 0) return std::chrono::nanoseconds(0);
  return std::chrono::nanoseconds(static_cast<int64_t>(-tokens_ / qps_ * 1e9));
}

Backoff::Backoff(Options o, uint64_t seed) : o_(o), rng_(seed) {}

Millis Backoff::Next(SteadyTime now) {
  if (current_.count() > 0 && now - last_failure_ > o_.reset_after) current_ = Millis(0);
  last_failure_ = now;
  current_ = current_.count() == 0
                 ? o_.initial
                 : std::min(o_.cap, Millis(static_cast<int64_t>(static_cast<double>(current_.count()) * o_.factor)));
  std::uniform_real_distribution<double> dist(0.0, o_.jitter);
  return Millis(static_cast<int64_t>(static_cast<double>(current_.count()) * (1.0 + dist(rng_))));
}

}  // namespace tmcd::kube
