// The shared store informer (docs/design/architecture.md §5): one list and one watch for every
// subscription, each event's key decoded once, handlers of a resource called in registration order,
// deletions as "", other resources never delivered. Real RocksDB.
#include "engine/source.h"

#include <doctest/doctest.h>

#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include "temp_store.h"

namespace tmcd::engine {
namespace {

store::ObjectKey Key(const std::string& group, const std::string& resource, const std::string& name) {
  store::ObjectKey k;
  k.workspace = "root";
  k.group = group;
  k.resource = resource;
  k.namespace_ = "shop";
  k.name = name;
  return k;
}

struct Seen {
  std::mutex mu;
  std::vector<std::string> events;  // "<tag>:<name>:<json or ->"
  void Add(const std::string& tag, const store::ObjectKey& k, const std::string& json) {
    std::lock_guard<std::mutex> lock(mu);
    events.push_back(tag + ":" + k.name + ":" + (json.empty() ? "-" : json));
  }
  size_t Size() {
    std::lock_guard<std::mutex> lock(mu);
    return events.size();
  }
};

bool WaitFor(const std::function<bool()>& f) {
  for (int i = 0; i < 500; ++i) {
    if (f()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

TEST_CASE("one informer feeds every subscription; each event decoded once") {
  store::testing::TempDir dir;
  auto s = store::testing::OpenAt(dir.path());
  REQUIRE(s);
  REQUIRE(s->Create(Key("apps", "deployments", "web"), R"({"a":1})").ok());  // before the start: listed
  REQUIRE(s->Create(Key("", "configmaps", "conf"), R"({"c":1})").ok());
  Seen seen;
  StoreInformer inf(*s);
  inf.Subscribe("apps", "deployments", [&](const store::ObjectKey& k, const std::string& j) { seen.Add("d1", k, j); });
  inf.Subscribe("apps", "deployments", [&](const store::ObjectKey& k, const std::string& j) { seen.Add("d2", k, j); });
  inf.Subscribe("", "services", [&](const store::ObjectKey& k, const std::string& j) { seen.Add("svc", k, j); });
  inf.Start();
  REQUIRE(WaitFor([&] { return seen.Size() == 2; }));
  REQUIRE(s->Create(Key("", "services", "web"), R"({"s":1})").ok());
  REQUIRE(s->Create(Key("", "secrets", "token"), R"({"x":1})").ok());  // nobody subscribes
  REQUIRE(s->Delete(Key("apps", "deployments", "web"), 0).ok());
  REQUIRE(WaitFor([&] { return seen.Size() == 5; }));
  REQUIRE(WaitFor([&] { return inf.Decoded() == 5; }));  // 2 listed + 3 events, not 5 × 3 subscriptions
  inf.Stop();
  std::lock_guard<std::mutex> lock(seen.mu);
  CHECK(seen.events ==
        std::vector<std::string>{"d1:web:{\"a\":1}", "d2:web:{\"a\":1}", "svc:web:{\"s\":1}", "d1:web:-", "d2:web:-"});
}

}  // namespace
}  // namespace tmcd::engine
