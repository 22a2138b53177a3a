#pragma once
// Client-side pacing: a token bucket (client-go's QPS/burst; defaults 5/10) and the reflector's
// exponential backoff (800 ms doubling to 30 s, full jitter, reset after 2 min without failure).
// And a circuit breaker for one server. All take the current time as an argument so tests drive them
// with a fake clock. TokenBucket and CircuitBreaker are thread-safe; Backoff is thread-compatible.

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <random>
#include <string>

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

// After a transport failure (no HTTP answer: refused, reset, TLS or read timeout) requests fail at once
// for a backoff (1 s doubling to the cap) instead of each waiting for its own timeout. When the backoff
// ends a trial may be taken (TakeTrial: one at a time) — by the client's own prober, not by a caller's
// request, so no worker ever waits on a server that may still hang. Any answer closes the breaker.
// This is what keeps one dead cluster from holding every sync worker for a timeout each (docs/sync.md,
// "An unreachable cluster").
class CircuitBreaker {
 public:
  struct Options {
    Millis initial{1000};
    Millis cap{30000};
  };
  explicit CircuitBreaker(Options o) : o_(o) {}
  CircuitBreaker() : CircuitBreaker(Options{}) {}
  // Empty when a request may go now (the breaker is closed); otherwise why not (the last failure and
  // when the next trial is due).
  std::optional<std::string> Admit(SteadyTime now);
  // True when the breaker is open, its backoff is over and no trial is running: the caller makes the
  // trial request and reports it with Succeeded or Failed.
  bool TakeTrial(SteadyTime now);
  // When the next trial is due (meaningful while open).
  SteadyTime NextTrial() const;
  // True when this closed an open breaker (the requests failed meanwhile may be retried now).
  bool Succeeded();
  void Failed(SteadyTime now, const std::string& why);
  void Reset() { Succeeded(); }
  bool Open() const;

 private:
  const Options o_;
  mutable std::mutex mu_;
  Millis backoff_{0};   // guarded by mu_; 0 = closed
  SteadyTime until_{};  // guarded by mu_; failing fast until then
  bool trial_ = false;  // guarded by mu_; a trial request is in flight
  std::string why_;     // guarded by mu_
};

}  // namespace tmcd::kube
