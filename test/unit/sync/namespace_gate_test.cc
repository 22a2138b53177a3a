// NamespaceGate: copies share a namespace, removals have it alone, and a waiting removal is not
// starved by copies that keep coming (docs/sync.md, "Namespaces and shared dependencies").
#include "sync/namespace_gate.h"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace tmcd::sync {
namespace {

using namespace std::chrono_literals;

// Waits (up to 5 s) until `done` holds; false when it never did.
template <typename F>
bool Eventually(F done) {
  const auto until = std::chrono::steady_clock::now() + 5s;
  while (!done()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

TEST_CASE("copies enter together; a removal waits for them and holds back the ones that come after") {
  NamespaceGate gate;
  std::optional<NamespaceGate::Entry> a = gate.Shared("tmc-x");
  std::optional<NamespaceGate::Entry> b = gate.Shared("tmc-x");  // two copies at once
  std::mutex mu;
  std::vector<std::string> order;
  std::atomic<bool> removing{false};
  std::thread remover([&] {
    const NamespaceGate::Entry e = gate.Exclusive("tmc-x");
    removing = true;
    std::this_thread::sleep_for(20ms);  // a copy that entered now would be recorded first
    std::lock_guard<std::mutex> lock(mu);
    order.emplace_back("remove");
  });
  std::this_thread::sleep_for(50ms);
  CHECK_FALSE(removing.load());  // copies are still inside
  std::thread late([&] {
    const NamespaceGate::Entry e = gate.Shared("tmc-x");  // arrives while the removal waits
    std::lock_guard<std::mutex> lock(mu);
    order.emplace_back("late copy");
  });
  std::this_thread::sleep_for(50ms);
  {
    std::lock_guard<std::mutex> lock(mu);
    CHECK(order.empty());  // the late copy waits behind the removal
  }
  {
    const NamespaceGate::Entry other = gate.Exclusive("tmc-y");  // another namespace: not held up
    CHECK(gate.Tracked() == 2);
  }
  a.reset();
  CHECK_FALSE(removing.load());  // one copy is still inside
  b.reset();
  CHECK(Eventually([&] { return removing.load(); }));
  remover.join();
  late.join();
  CHECK(order == std::vector<std::string>{"remove", "late copy"});
  CHECK(gate.Tracked() == 0);  // nothing kept for namespaces no longer entered
}

TEST_CASE("removals of one namespace take turns; a moved entry is left once") {
  NamespaceGate gate;
  std::atomic<int> inside{0};
  std::atomic<int> most{0};
  std::vector<std::thread> removers;
  removers.reserve(4);
  for (int i = 0; i < 4; ++i) {
    removers.emplace_back([&] {
      const NamespaceGate::Entry e = gate.Exclusive("tmc-x");
      most = std::max(most.load(), ++inside);
      std::this_thread::sleep_for(5ms);
      --inside;
    });
  }
  for (auto& t : removers) t.join();
  CHECK(most.load() == 1);
  {
    NamespaceGate::Entry first = gate.Shared("tmc-x");
    const NamespaceGate::Entry moved(std::move(first));
    CHECK(gate.Tracked() == 1);
  }
  CHECK(gate.Tracked() == 0);
  const NamespaceGate::Entry again = gate.Exclusive("tmc-x");  // granted: the moved entry has left
  CHECK(gate.Tracked() == 1);
}

}  // namespace
}  // namespace tmcd::sync
