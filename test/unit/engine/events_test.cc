// The event recorder (engine/events.h) writing through the embedded upstream into a real RocksDB store:
// repeats are counted on one Event, other messages make other Events, cluster-scoped objects report in
// "default", the per-object spam filter caps a flapping object, an expired Event is created anew, a
// write the API refuses is dropped and counted, condition transitions become Normal/Warning events.
#include "engine/events.h"

#include <doctest/doctest.h>

#include <chrono>

#include "registry/objects.h"
#include "temp_store.h"

namespace tmcd::engine {
namespace {

using namespace std::chrono_literals;
using Json = nlohmann::json;

struct Fixture {
  store::testing::TempDir dir;
  std::unique_ptr<store::Store> s = store::testing::OpenAt(dir.path());
  FakeClock clock{std::chrono::system_clock::time_point(std::chrono::seconds(1795773600))};
  registry::ObjectService objects{*s, clock};
  upstream::EmbeddedUpstream up{*s, objects};
  prometheus::Registry registry;

  std::vector<Json> Events(const std::string& ns) {
    auto list = up.List("root", "", "events", ns);
    REQUIRE(list.ok());
    return *list;
  }
  double Metric(const std::string& name, const std::string& label, const std::string& value) {
    for (const auto& f : registry.Collect()) {
      if (f.name != name) continue;
      for (const auto& m : f.metric) {
        for (const auto& l : m.label) {
          if (l.name == label && l.value == value) return m.counter.value;
        }
      }
    }
    return -1;
  }
};

const InvolvedObject kWeb{"root", "apps/v1", "Deployment", "shop", "web", "uid-1", "7"};

TEST_CASE("repeats are counted on one Event; another message is another Event") {
  Fixture f;
  REQUIRE(f.s != nullptr);
  EventRecorder rec(f.up, f.clock, f.registry, {.host = "vm-1"});
  rec.Start();
  rec.Record(kWeb, EventType::kWarning, "SyncFailed", "cluster east: connection refused");
  rec.Flush();
  f.clock.Advance(30s);
  rec.Record(kWeb, EventType::kWarning, "SyncFailed", "cluster east: connection refused");
  rec.Record(kWeb, EventType::kWarning, "SyncFailed", "cluster east: connection refused");
  rec.Record(kWeb, EventType::kNormal, "Synced", "applied to cluster east");
  rec.Flush();
  auto events = f.Events("shop");
  REQUIRE(events.size() == 2);
  const Json& failed = events[0]["reason"] == "SyncFailed" ? events[0] : events[1];
  const Json& synced = events[0]["reason"] == "SyncFailed" ? events[1] : events[0];
  CHECK(failed["count"] == 3);
  CHECK(failed["type"] == "Warning");
  CHECK(failed["firstTimestamp"] == "2026-11-27T10:00:00Z");
  CHECK(failed["lastTimestamp"] == "2026-11-27T10:00:30Z");
  CHECK(failed["involvedObject"] == Json{{"apiVersion", "apps/v1"},
                                         {"kind", "Deployment"},
                                         {"name", "web"},
                                         {"namespace", "shop"},
                                         {"uid", "uid-1"},
                                         {"resourceVersion", "7"}});
  CHECK(failed["source"] == Json{{"component", "tmcd"}, {"host", "vm-1"}});
  CHECK(failed["reportingComponent"] == "tmcd");
  CHECK(failed["metadata"]["name"].get<std::string>().rfind("web.", 0) == 0);
  CHECK(synced["count"] == 1);
  CHECK(synced["type"] == "Normal");
  CHECK(f.Metric("tmcd_events_written_total", "operation", "create") == 2);
  CHECK(f.Metric("tmcd_events_written_total", "operation", "update") == 2);
  CHECK(f.Metric("tmcd_events_recorded_total", "type", "Warning") == 3);

  SUBCASE("an Event deleted meanwhile (its TTL) is created anew, counting from 1") {
    for (const auto& e : events) {
      REQUIRE(f.s->Delete({"root", "", "events", "shop", e["metadata"]["name"]}, 0).ok());
    }
    f.clock.Advance(1s);
    rec.Record(kWeb, EventType::kNormal, "Synced", "applied to cluster east");
    rec.Flush();
    auto again = f.Events("shop");
    REQUIRE(again.size() == 1);
    CHECK(again[0]["count"] == 1);
  }
}

TEST_CASE("cluster-scoped objects report in default; long messages are cut to 1 KiB") {
  Fixture f;
  REQUIRE(f.s != nullptr);
  EventRecorder rec(f.up, f.clock, f.registry);
  rec.Start();
  rec.Record({"root", "tmc.kcp.io/v1alpha1", "ClusterRegistration", "", "east", "u", ""}, EventType::kNormal,
             "ClusterReady", std::string(5000, 'x'));
  rec.Flush();
  auto events = f.Events("default");
  REQUIRE(events.size() == 1);
  CHECK_FALSE(events[0]["involvedObject"].contains("namespace"));
  CHECK(events[0]["message"].get<std::string>().size() == 1024);
}

TEST_CASE("the spam filter caps one object's events; others are not held up") {
  Fixture f;
  REQUIRE(f.s != nullptr);
  EventRecorder rec(f.up, f.clock, f.registry, {.burst = 3, .refill = 60s});
  rec.Start();
  for (int i = 0; i < 5; ++i) rec.Record(kWeb, EventType::kNormal, "Flap", "round " + std::to_string(i));
  InvolvedObject api = kWeb;
  api.name = "api";
  rec.Record(api, EventType::kNormal, "Flap", "once");
  rec.Flush();
  CHECK(f.Events("shop").size() == 4);  // 3 of web, 1 of api
  CHECK(f.Metric("tmcd_events_dropped_total", "reason", "rate_limited") == 2);
  f.clock.Advance(61s);  // one token back
  rec.Record(kWeb, EventType::kNormal, "Flap", "round 5");
  rec.Record(kWeb, EventType::kNormal, "Flap", "round 6");
  rec.Flush();
  CHECK(f.Events("shop").size() == 5);
  CHECK(f.Metric("tmcd_events_dropped_total", "reason", "rate_limited") == 3);
}

TEST_CASE("a write the API refuses is dropped and counted, without a retry") {
  Fixture f;
  REQUIRE(f.s != nullptr);
  EventRecorder rec(f.up, f.clock, f.registry, {.retry_delay = 10s});
  rec.Start();
  InvolvedObject bad = kWeb;
  bad.name = "Not_A_Name";  // the Event's name is built from it: 422
  const auto start = std::chrono::steady_clock::now();
  rec.Record(bad, EventType::kWarning, "X", "y");
  rec.Flush();
  CHECK(std::chrono::steady_clock::now() - start < 5s);  // no retry wait for a 422
  CHECK(f.Events("shop").empty());
  CHECK(f.Metric("tmcd_events_dropped_total", "reason", "write_failed") == 1);
}

TEST_CASE("condition transitions: turning good is Normal with the given reason, bad is Warning with its own") {
  Fixture f;
  REQUIRE(f.s != nullptr);
  EventRecorder rec(f.up, f.clock, f.registry);
  rec.Start();
  auto cond = [](const std::string& status, const std::string& reason) {
    return std::vector<apis::Condition>{apis::MakeCondition("Ready", status, reason, reason + " message", 1)};
  };
  CHECK(rec.RecordTransition(kWeb, {}, cond("True", "Healthy"), "Ready", "True", "ClusterReady"));
  CHECK_FALSE(rec.RecordTransition(kWeb, cond("True", "Healthy"), cond("True", "Healthy"), "Ready", "True", "R"));
  CHECK_FALSE(rec.RecordTransition(kWeb, cond("True", "Healthy"), {}, "Ready", "True", "R"));
  CHECK(rec.RecordTransition(kWeb, cond("True", "Healthy"), cond("False", "Unreachable"), "Ready", "True", "R"));
  CHECK(rec.RecordTransition(kWeb, cond("False", "Unreachable"), cond("False", "ClusterIDChanged"), "Ready", "True",
                             "R"));
  rec.Flush();
  auto events = f.Events("shop");
  REQUIRE(events.size() == 3);
  std::multiset<std::string> got;
  for (const auto& e : events) got.insert(e["type"].get<std::string>() + "/" + e["reason"].get<std::string>());
  CHECK(got == std::multiset<std::string>{"Normal/ClusterReady", "Warning/ClusterIDChanged", "Warning/Unreachable"});
}

TEST_CASE("Stop drops what is still queued and counts it; Record after Stop is a no-op") {
  Fixture f;
  REQUIRE(f.s != nullptr);
  EventRecorder rec(f.up, f.clock, f.registry);  // never started: everything stays queued
  rec.Record(kWeb, EventType::kNormal, "A", "a");
  rec.Record(kWeb, EventType::kNormal, "B", "b");
  rec.Stop();
  rec.Record(kWeb, EventType::kNormal, "C", "c");
  rec.Flush();
  CHECK(f.Metric("tmcd_events_dropped_total", "reason", "stopped") == 2);
  CHECK(f.Events("shop").empty());
}

}  // namespace
}  // namespace tmcd::engine
