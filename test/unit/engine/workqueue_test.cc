// The work queue's client-go semantics, with a fake clock for every delay.
#include "engine/workqueue.h"

#include <doctest/doctest.h>

#include <atomic>
#include <future>
#include <thread>

namespace tmcd::engine {
namespace {

using namespace std::chrono_literals;

FakeClock NewClock() {
  return FakeClock(Clock::TimePoint(std::chrono::seconds(1795773600)));
}

QueueOptions Fast() {
  QueueOptions o;
  o.poll = 5ms;
  return o;
}

TEST_CASE("a key queued many times is handed out once") {
  auto clock = NewClock();
  WorkQueue q(clock, Fast());
  q.Add("a");
  q.Add("a");
  q.Add("b");
  q.Add("a");
  CHECK(q.Stats().depth == 2);
  CHECK(q.Get() == "a");
  CHECK(q.Get() == "b");
  CHECK(q.Stats().depth == 0);
  CHECK(q.Stats().processing == 2);
  CHECK(q.Stats().adds == 2);
}

TEST_CASE("a key being processed is never handed to a second worker; Done re-queues it") {
  auto clock = NewClock();
  WorkQueue q(clock, Fast());
  q.Add("a");
  REQUIRE(q.Get() == "a");
  q.Add("a");  // changed while being processed
  CHECK(q.Stats().depth == 0);
  auto second = std::async(std::launch::async, [&] { return q.Get(); });
  CHECK(second.wait_for(50ms) == std::future_status::timeout);
  q.Done("a");
  CHECK(second.get() == "a");
  q.Done("a");
  CHECK(q.Stats().processing == 0);
}

TEST_CASE("workspaces take turns: one tenant's backlog never starves another's key; no workspace is a lane") {
  auto clock = NewClock();
  WorkQueue q(clock, Fast());
  for (int i = 0; i < 1000; ++i) q.Add("big|deployments.apps|ns/w" + std::to_string(i));
  q.Add("small|deployments.apps|ns/one");
  q.Add("other|configmaps|ns/x");
  q.Add("other|configmaps|ns/y");
  CHECK(q.Stats().depth == 1003);
  CHECK(q.Stats().lanes == 3);
  // Lanes are served in the order they became non-empty, one key per turn.
  CHECK(q.Get() == "big|deployments.apps|ns/w0");
  CHECK(q.Get() == "small|deployments.apps|ns/one");  // second, not 1,001st
  CHECK(q.Get() == "other|configmaps|ns/x");
  CHECK(q.Get() == "big|deployments.apps|ns/w1");  // within a lane the order is kept
  CHECK(q.Get() == "other|configmaps|ns/y");
  CHECK(q.Stats().lanes == 1);
  // A key re-queued by Done goes to the end of its own lane; a lane that empties and refills joins
  // the end of the round.
  q.Add("small|deployments.apps|ns/one");
  q.Done("small|deployments.apps|ns/one");
  CHECK(q.Get() == "big|deployments.apps|ns/w2");
  CHECK(q.Get() == "small|deployments.apps|ns/one");
  CHECK(q.Get() == "big|deployments.apps|ns/w3");
  CHECK(q.Get() == "big|deployments.apps|ns/w4");
  CHECK(q.Stats().depth == 995);
  // Keys without a workspace share one lane of their own, in order.
  WorkQueue plain(clock, Fast());
  for (const char* k : {"b", "a", "ws|k", "c"}) plain.Add(k);
  for (const char* k : {"b", "ws|k", "a", "c"}) CHECK(plain.Get() == k);
}

TEST_CASE("per-key exponential backoff from 5 ms, capped at 1000 s; Forget resets it") {
  auto clock = NewClock();
  QueueOptions o = Fast();
  o.qps = 0;  // the bucket is tested below
  WorkQueue q(clock, o);
  CHECK(q.AddRateLimited("a") == 5ms);
  CHECK(q.AddRateLimited("a") == 10ms);
  CHECK(q.AddRateLimited("a") == 20ms);
  CHECK(q.AddRateLimited("b") == 5ms);  // per key
  CHECK(q.NumRequeues("a") == 3);
  for (int i = 0; i < 30; ++i) q.AddRateLimited("a");
  CHECK(q.AddRateLimited("a") == 1000s);
  q.Forget("a");
  CHECK(q.NumRequeues("a") == 0);
  CHECK(q.AddRateLimited("a") == 5ms);
  CHECK(q.Stats().retries == 36);
}

TEST_CASE("the overall token bucket delays retries beyond its burst") {
  auto clock = NewClock();
  QueueOptions o = Fast();
  o.qps = 2;
  o.burst = 3;
  WorkQueue q(clock, o);
  CHECK(q.AddRateLimited("k1") == 5ms);
  CHECK(q.AddRateLimited("k2") == 5ms);
  CHECK(q.AddRateLimited("k3") == 5ms);
  CHECK(q.AddRateLimited("k4") == 500ms);  // burst spent: one token per 500 ms
  CHECK(q.AddRateLimited("k5") == 1000ms);
  clock.Advance(10s);  // the bucket refills (to its burst, not beyond)
  CHECK(q.AddRateLimited("k6") == 5ms);
}

TEST_CASE("delayed keys come out when the clock reaches them, the earliest request winning") {
  auto clock = NewClock();
  WorkQueue q(clock, Fast());
  q.AddAfter("late", 10s);
  q.AddAfter("late", 30s);  // later than pending: ignored
  q.AddAfter("soon", 2s);
  CHECK(q.Stats().waiting == 2);
  auto got = std::async(std::launch::async, [&] { return q.Get(); });
  CHECK(got.wait_for(50ms) == std::future_status::timeout);
  clock.Advance(2s);
  CHECK(got.get() == "soon");
  auto next = std::async(std::launch::async, [&] { return q.Get(); });
  clock.Advance(7s);
  CHECK(next.wait_for(50ms) == std::future_status::timeout);
  clock.Advance(1s);
  CHECK(next.get() == "late");
  q.AddAfter("now", 0ms);
  CHECK(q.Get() == "now");
}

TEST_CASE("ShutDown releases blocked workers; ShutDownWithDrain waits for Done") {
  auto clock = NewClock();
  WorkQueue q(clock, Fast());
  auto blocked = std::async(std::launch::async, [&] { return q.Get(); });
  std::this_thread::sleep_for(20ms);
  q.Add("a");
  REQUIRE(blocked.get() == "a");
  std::atomic<bool> drained{false};
  auto drain = std::async(std::launch::async, [&] {
    q.ShutDownWithDrain();
    drained = true;
  });
  std::this_thread::sleep_for(50ms);
  CHECK_FALSE(drained.load());  // "a" is still being processed
  CHECK(q.ShuttingDown());
  q.Add("b");  // refused while shutting down
  q.Done("a");
  drain.get();
  CHECK(drained.load());
  CHECK_FALSE(q.Get().has_value());
  CHECK(q.Stats().depth == 0);
}

TEST_CASE("longest running processor is measured on the queue's clock") {
  auto clock = NewClock();
  WorkQueue q(clock, Fast());
  q.Add("slow");
  REQUIRE(q.Get() == "slow");
  clock.Advance(42s);
  CHECK(q.Stats().longest_running.count() == doctest::Approx(42.0));
}

}  // namespace
}  // namespace tmcd::engine
