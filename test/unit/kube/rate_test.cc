#include "kube/rate.h"

#include <doctest/doctest.h>

namespace tmcd::kube {
namespace {

using std::chrono::milliseconds;

TEST_CASE("the token bucket allows a burst, then paces at qps") {
  TokenBucket b(5, 10);  // client-go's defaults
  const SteadyTime t0{};
  for (int i = 0; i < 10; ++i) CHECK(b.Reserve(t0).count() == 0);
  CHECK(b.Reserve(t0) == milliseconds(200));  // the 11th waits one token at 5/s
  CHECK(b.Reserve(t0) == milliseconds(400));
  // Two seconds later 10 tokens have accrued; two were owed.
  const SteadyTime t2 = t0 + std::chrono::seconds(2);
  for (int i = 0; i < 8; ++i) CHECK(b.Reserve(t2).count() == 0);
  CHECK(b.Reserve(t2) == milliseconds(200));
  TokenBucket unlimited(0, 1);
  for (int i = 0; i < 100; ++i) CHECK(unlimited.Reserve(t0).count() == 0);
}

TEST_CASE("backoff doubles from 800 ms to 30 s within its jitter, and resets after quiet") {
  Backoff b;
  SteadyTime t{};
  const long long base[] = {800, 1600, 3200, 6400, 12800, 25600, 30000, 30000};
  for (long long want : base) {
    const auto d = b.Next(t).count();
    CHECK(d >= want);
    CHECK(d <= 2 * want);
    t += milliseconds(10);
  }
  t += std::chrono::minutes(3);  // healthy for longer than reset_after
  const auto d = b.Next(t).count();
  CHECK(d >= 800);
  CHECK(d <= 1600);
  Backoff no_jitter(Backoff::Options{milliseconds(10), 3.0, milliseconds(100), 0.0, milliseconds(1000)});
  CHECK(no_jitter.Next(t) == milliseconds(10));
  CHECK(no_jitter.Next(t) == milliseconds(30));
  CHECK(no_jitter.Next(t) == milliseconds(90));
  CHECK(no_jitter.Next(t) == milliseconds(100));
  no_jitter.Reset();
  CHECK(no_jitter.Next(t) == milliseconds(10));
}

TEST_CASE("the circuit breaker fails fast after a transport failure; one trial at a time, taken, not admitted") {
  CircuitBreaker b;
  const SteadyTime t0{};
  CHECK_FALSE(b.Admit(t0));  // closed: everything goes
  CHECK_FALSE(b.Admit(t0));
  CHECK_FALSE(b.TakeTrial(t0));  // nothing to try while closed
  b.Failed(t0, "transport: timeout");
  CHECK(b.Open());
  auto why = b.Admit(t0 + milliseconds(10));
  REQUIRE(why);
  CHECK(why->find("transport: timeout") == 0);
  CHECK(why->find("next trial in 990 ms") != std::string::npos);
  CHECK(b.NextTrial() == t0 + milliseconds(1000));
  CHECK_FALSE(b.TakeTrial(t0 + milliseconds(999)));
  // After the backoff callers still fail fast: the trial is taken by the prober, one at a time.
  CHECK(b.Admit(t0 + milliseconds(1000)));
  CHECK(b.TakeTrial(t0 + milliseconds(1000)));
  CHECK_FALSE(b.TakeTrial(t0 + milliseconds(1001)));
  auto during = b.Admit(t0 + milliseconds(1001));
  REQUIRE(during);
  CHECK(during->find("a trial request is in flight") != std::string::npos);
  // The trial fails: the backoff doubles (2 s), up to its cap (30 s by default).
  b.Failed(t0 + milliseconds(1100), "transport: timeout");
  CHECK_FALSE(b.TakeTrial(t0 + milliseconds(3000)));
  CHECK(b.TakeTrial(t0 + milliseconds(3100)));
  SteadyTime t = t0 + milliseconds(3100);
  for (int i = 0; i < 10; ++i) b.Failed(t, "transport: timeout");
  CHECK_FALSE(b.TakeTrial(t + milliseconds(29999)));
  CHECK(b.TakeTrial(t + milliseconds(30000)));
  // Any answer closes it (and says it was open, once).
  CHECK(b.Succeeded());
  CHECK_FALSE(b.Succeeded());
  CHECK_FALSE(b.Open());
  CHECK_FALSE(b.Admit(t));
  b.Failed(t, "transport: refused");
  b.Reset();
  CHECK_FALSE(b.Admit(t));
  CircuitBreaker capped(CircuitBreaker::Options{milliseconds(1000), milliseconds(5000)});
  for (int i = 0; i < 10; ++i) capped.Failed(t0, "transport: timeout");
  CHECK(capped.NextTrial() == t0 + milliseconds(5000));
}

}  // namespace
}  // namespace tmcd::kube
