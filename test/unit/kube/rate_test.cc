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

}  // namespace
}  // namespace tmcd::kube
