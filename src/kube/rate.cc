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

std::optional<std::string> CircuitBreaker::Admit(SteadyTime now) {
  std::lock_guard<std::mutex> lock(mu_);
  if (backoff_ == Millis(0)) return std::nullopt;
  if (trial_) return why_ + "; a trial request is in flight";
  const auto left = std::max<int64_t>(0, std::chrono::duration_cast<Millis>(until_ - now).count());
  return why_ + "; next trial in " + std::to_string(left) + " ms";
}

bool CircuitBreaker::TakeTrial(SteadyTime now) {
  std::lock_guard<std::mutex> lock(mu_);
  if (backoff_ == Millis(0) || trial_ || now < until_) return false;
  trial_ = true;
  return true;
}

SteadyTime CircuitBreaker::NextTrial() const {
  std::lock_guard<std::mutex> lock(mu_);
  return until_;
}

bool CircuitBreaker::Succeeded() {
  std::lock_guard<std::mutex> lock(mu_);
  const bool was_open = backoff_ != Millis(0);
  backoff_ = Millis(0);
  trial_ = false;
  return was_open;
}

void CircuitBreaker::Failed(SteadyTime now, const std::string& why) {
  std::lock_guard<std::mutex> lock(mu_);
  backoff_ = backoff_ == Millis(0) ? o_.initial : std::min(o_.cap, backoff_ * 2);
  until_ = now + backoff_;
  trial_ = false;
  why_ = why;
}

bool CircuitBreaker::Open() const {
  std::lock_guard<std::mutex> lock(mu_);
  return backoff_ != Millis(0);
}

}  // namespace tmcd::kube
