// Controller and Manager: failures back off and are counted, success forgets, requeue_after
// schedules periodic work, controllers start only once the upstream is ready, held workers wait.
#include "engine/controller.h"

#include <doctest/doctest.h>

#include <atomic>
#include <map>
#include <thread>

namespace tmcd::engine {
namespace {

using namespace std::chrono_literals;

template <class F>
bool Eventually(F f) {
  for (int i = 0; i < 400; ++i) {
    if (f()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return false;
}

// Reconciles per key, counted from the workers' threads.
struct Calls {
  std::mutex mu;
  std::map<std::string, int> n;  // guarded by mu
  int Add(const std::string& key) {
    std::lock_guard<std::mutex> lock(mu);
    return ++n[key];
  }
};

TEST_CASE("a failing key is retried with backoff until it succeeds, then forgotten") {
  RealClock clock;
  Calls counted;
  std::mutex& mu = counted.mu;
  std::map<std::string, int>& calls = counted.n;
  Controller c(
      "test", clock,
      [&](const std::string& key) -> Result<ReconcileResult> {
        if (counted.Add(key) < 3) return Status(Reason::kServiceUnavailable, "not yet");
        return ReconcileResult{};
      },
      2);
  prometheus::Registry registry;
  c.RegisterMetrics(registry);
  c.Start();
  c.queue().Add("x");
  CHECK(Eventually([&] {
    std::lock_guard<std::mutex> lock(mu);
    return calls["x"] == 3;
  }));
  std::this_thread::sleep_for(50ms);
  CHECK(c.queue().NumRequeues("x") == 0);  // forgotten after the success
  c.UpdateMetrics();
  c.Stop();
  std::lock_guard<std::mutex> lock(mu);
  CHECK(calls["x"] == 3);  // no further calls
  bool saw_retries = false;
  for (const auto& fam : registry.Collect()) {
    if (fam.name == "tmcd_workqueue_retries_total") saw_retries = fam.metric.at(0).counter.value == 2;
  }
  CHECK(saw_retries);
}

TEST_CASE("the queue's gauges: depth, workspaces waiting their turn, keys delayed") {
  RealClock clock;
  Controller c(
      "gauges", clock, [](const std::string&) -> Result<ReconcileResult> { return ReconcileResult{}; }, 1);
  prometheus::Registry registry;
  c.RegisterMetrics(registry);
  c.queue().Add("blue|a");
  c.queue().Add("blue|b");
  c.queue().Add("red|a");
  c.queue().AddAfter("red|b", std::chrono::hours(1));
  c.UpdateMetrics();  // not started: nothing is taken off the queue
  std::map<std::string, double> gauges;
  for (const auto& fam : registry.Collect()) {
    if (fam.type == prometheus::MetricType::Gauge) gauges[fam.name] = fam.metric.at(0).gauge.value;
  }
  CHECK(gauges["tmcd_workqueue_depth"] == 3);
  CHECK(gauges["tmcd_workqueue_lanes"] == 2);
  CHECK(gauges["tmcd_workqueue_delayed"] == 1);
}

TEST_CASE("requeue_after schedules the key again; a throwing reconcile is an error, not a crash") {
  RealClock clock;
  std::atomic<int> periodic{0};
  std::atomic<int> thrown{0};
  Controller c(
      "periodic", clock,
      [&](const std::string& key) -> Result<ReconcileResult> {
        if (key == "boom") {
          ++thrown;
          throw std::runtime_error("bug");
        }
        ++periodic;
        return ReconcileResult{20ms};
      },
      1);
  c.Start();
  c.queue().Add("tick");
  c.queue().Add("boom");
  CHECK(Eventually([&] { return periodic.load() >= 3 && thrown.load() >= 2; }));
  c.Stop();
}

TEST_CASE("the manager starts controllers once the upstream is ready and stops them") {
  RealClock clock;
  prometheus::Registry registry;
  std::atomic<bool> ready{false};
  std::atomic<int> calls{0};
  Manager m(registry, [&] { return ready ? std::string() : std::string("syncing"); });
  auto& c = m.Add(std::make_unique<Controller>(
      "m", clock,
      [&](const std::string&) -> Result<ReconcileResult> {
        ++calls;
        return ReconcileResult{};
      },
      1));
  std::atomic<bool> started{false};
  m.OnStarted([&] { started = true; });
  m.Start();
  c.queue().Add("k");
  std::this_thread::sleep_for(300ms);
  CHECK_FALSE(m.Running());
  CHECK(calls.load() == 0);
  ready = true;
  CHECK(Eventually([&] { return calls.load() == 1; }));
  // The manager marks itself running after its controllers' workers start, so a reconcile may come
  // first (ThreadSanitizer's slower threads showed it).
  CHECK(Eventually([&] { return started.load() && m.Running(); }));
  m.Stop();
  CHECK_FALSE(m.Running());
}

TEST_CASE("a scrape reads the queues as they are, not as the manager's last one-second refresh left them") {
  RealClock clock;
  prometheus::Registry registry;
  Manager m(registry, [] { return std::string(); });
  auto& c = m.Add(std::make_unique<Controller>(
      "scraped", clock, [](const std::string&) -> Result<ReconcileResult> { return ReconcileResult{}; }, 1));
  c.HoldUntil([] { return false; }, std::chrono::hours(1));  // keys stay queued
  m.Start();
  CHECK(Eventually([&] { return m.Running(); }));
  std::this_thread::sleep_for(50ms);  // the loop's first refresh has run; its next is ~1 s away
  for (const char* k : {"a", "b", "c"}) c.queue().Add(k);
  m.UpdateMetrics();  // what the /metrics handler calls before reading the registry
  std::map<std::string, double> read;
  for (const auto& fam : registry.Collect()) {
    if (fam.name == "tmcd_workqueue_depth") read["depth"] = fam.metric.at(0).gauge.value;
    if (fam.name == "tmcd_workqueue_adds_total") read["adds"] = fam.metric.at(0).counter.value;
  }
  CHECK(read["depth"] == 3);
  CHECK(read["adds"] == 3);
  m.Stop();
}

TEST_CASE("held workers take no key until the hold's condition holds; repeats of a key merge meanwhile") {
  RealClock clock;
  std::atomic<bool> open{false};
  Calls counted;
  std::mutex& mu = counted.mu;
  std::map<std::string, int>& calls = counted.n;
  Controller c(
      "held", clock,
      [&](const std::string& key) -> Result<ReconcileResult> {
        counted.Add(key);
        return ReconcileResult{};
      },
      2);
  c.HoldUntil([&] { return open.load(); }, 10s);
  c.Start();
  for (int i = 0; i < 3; ++i) {
    c.queue().Add("a");
    c.queue().Add("b");
  }
  std::this_thread::sleep_for(200ms);
  {
    std::lock_guard<std::mutex> lock(mu);
    CHECK(calls.empty());
  }
  open = true;
  CHECK(Eventually([&] {
    std::lock_guard<std::mutex> lock(mu);
    return calls["a"] == 1 && calls["b"] == 1;
  }));
  std::this_thread::sleep_for(50ms);
  std::lock_guard<std::mutex> lock(mu);
  CHECK(calls["a"] == 1);  // one reconcile for the three adds
  c.Stop();
}

TEST_CASE("a hold that never opens ends after its limit; a controller stopped while held stops") {
  RealClock clock;
  std::atomic<int> calls{0};
  auto reconcile = [&](const std::string&) -> Result<ReconcileResult> {
    ++calls;
    return ReconcileResult{};
  };
  Controller c("late", clock, reconcile, 1);
  c.HoldUntil([] { return false; }, 150ms);
  c.Start();
  c.queue().Add("k");
  std::this_thread::sleep_for(50ms);
  CHECK(calls.load() == 0);
  CHECK(Eventually([&] { return calls.load() == 1; }));
  c.Stop();

  Controller stopped("stopped", clock, reconcile, 2);
  stopped.HoldUntil([] { return false; }, 1h);
  stopped.Start();
  stopped.queue().Add("k");
  const auto t0 = std::chrono::steady_clock::now();
  stopped.Stop();  // returns without waiting out the hour
  CHECK(std::chrono::steady_clock::now() - t0 < 5s);
  CHECK(calls.load() == 1);
}

}  // namespace
}  // namespace tmcd::engine
