#pragma once
// Client-side pacing: a token bucket (client-go's QPS/burst; defaults 5/10) and the reflector's
// exponential backoff (800 ms doubling to 30 s, full jitter, reset after 2 min without failure).
// Both take the current time as an argument so tests drive them with a fake clock.
// TokenBucket is thread-safe; Backoff is thread-compatible (one per loop).

#include <chrono>
#include <cstdint>
#include <mutex>
#include <random>

namespace tmcd::kube {

using SteadyTime = std::chrono::steady_clock::time_point;
using Millis = std::chrono::milliseconds;

class TokenBucket {
 public:
  TokenBucket(double qps, int burst);
  // Takes a token, possibly from the future: returns how long the caller must wait before sending.
  std::chrono::nanoseconds Reserve(SteadyTime now);

 private:
  const double qps_;
  const double burst_;
  std::mutex mu_;
  double tokens_;         // guarded by mu_; may go negative (reservations)
  SteadyTime last_{};     // guarded by mu_
  bool started_ = false;  // guarded by mu_
};

class Backoff {
 public:
  struct Options {
    Millis initial{800};
    double factor = 2.0;
    Millis cap{30000};
    double jitter = 1.0;  // the wait is in [d, d * (1 + jitter)]
    Millis reset_after{120000};
  };
  explicit Backoff(Options o, uint64_t seed = 1);
  Backoff() : Backoff(Options{}) {}
  // The wait before the next attempt after a failure at `now`.
  Millis Next(SteadyTime now);
  void Reset() { current_ = Millis(0); }

 private:
  Options o_;
  Millis current_{0};
  SteadyTime last_failure_{};
  std::mt19937_64 rng_;
};

}  // namespace tmcd::kube
