// Controller and Manager: failures back off and are counted, success forgets, requeue_after
// schedules periodic work, controllers start only once the upstream is ready.
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

TEST_CASE("a failing key is retried with backoff until it succeeds, then forgotten") {
  RealClock clock;
  std::mutex mu;
  std::map<std::string, int> calls;
  Controller c(
      "test", clock,
      [&](const std::string& key) -> Result<ReconcileResult> {
        std::lock_guard<std::mutex> lock(mu);
        if (++calls[key] < 3) return Status(Reason::kServiceUnavailable, "not yet");
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

}  // namespace
}  // namespace tmcd::engine
