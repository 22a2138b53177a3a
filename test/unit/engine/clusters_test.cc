// The cluster controller's reconcile logic against a hand-written FAULT-INJECTING apiserver
// (net::HttpServer with scripted answers: a /readyz that fails on demand, a kube-system uid that
// changes), with a real RocksDB store and a fake clock for the heartbeat. The same paths against
// real apiservers are in test/e2e/test_clusters.py.
#include "engine/clusters.h"

#include <doctest/doctest.h>

#include <atomic>
#include <mutex>
#include <optional>

#include "temp_store.h"
#include "test_server.h"
#include "upstream/upstream.h"

namespace tmcd::engine {
namespace {

using namespace std::chrono_literals;
using Json = nlohmann::json;

struct ScriptedApiserver {
  std::atomic<int> readyz_code{200};
  std::mutex mu;
  std::string uid = "uid-1";  // guarded by mu
  std::unique_ptr<net::testing::TestServer> server;

  ScriptedApiserver() {
    server = std::make_unique<net::testing::TestServer>([this](const net::HttpRequest& r) { return Answer(r); });
  }
  net::HttpResponse Answer(const net::HttpRequest& r) {
    net::HttpResponse res;
    Json body;
    if (r.path == "/readyz") {
      res.status = readyz_code.load();
      res.SetContent(res.status == 200 ? "ok" : "[-]etcd failed", "text/plain");
      return res;
    }
    if (r.path == "/version") {
      body = {{"gitVersion", "v1.99.0"}};
    } else if (r.path == "/api/v1/namespaces/kube-system") {
      std::lock_guard<std::mutex> lock(mu);
      body = {{"metadata", {{"name", "kube-system"}, {"uid", uid}}}};
    } else if (r.path == "/api/v1/nodes") {
      body = {{"items", Json::array({{{"status",
                                       {{"capacity", {{"cpu", "4"}, {"memory", "8Gi"}, {"pods", "110"}}},
                                        {"allocatable", {{"cpu", "3500m"}, {"memory", "7Gi"}, {"pods", "110"}}}}}}})},
              {"metadata", Json::object()}};
    } else if (r.path == "/api/v1/pods") {
      body = {{"items",
               Json::array(
                   {{{"spec", {{"containers", Json::array({{{"resources", {{"requests", {{"cpu", "500m"}}}}}}})}}}}})},
              {"metadata", Json::object()}};
    } else if (r.path == "/api/v1") {
      body = {{"resources", Json::array({{{"name", "configmaps"}, {"kind", "ConfigMap"}, {"namespaced", true}}})}};
    } else if (r.path == "/apis/apps") {
      body = {{"preferredVersion", {{"version", "v1"}}}};
    } else if (r.path == "/apis/apps/v1") {
      body = {{"resources", Json::array()}};  // no deployments: ResourcesSupported=False
    } else {
      res.status = 404;
      body = {{"kind", "Status"}, {"code", 404}, {"reason", "NotFound"}, {"message", "no " + r.path}};
    }
    res.SetContent(body.dump(), "application/json");
    return res;
  }
};

Json Condition(const Json& obj, const std::string& type) {
  for (const auto& c : obj["status"]["conditions"]) {
    if (c["type"] == type) return c;
  }
  return Json();
}

TEST_CASE("cluster reconcile: Ready, inventory, heartbeat-bounded writes, threshold, identity change") {
  store::testing::TempDir dir;
  auto s = store::testing::OpenAt(dir.path());
  FakeClock clock(Clock::TimePoint(std::chrono::seconds(1795773600)));
  ScriptedApiserver api;
  const upstream::ObjectRef ref{"root", "tmc.kcp.io", "v1alpha1", "clusterregistrations", "", "edge"};
  Json reg = {{"apiVersion", "tmc.kcp.io/v1alpha1"},
              {"kind", "ClusterRegistration"},
              {"metadata", {{"name", "edge"}, {"generation", 1}}},
              {"spec",
               {{"location", "lab"},
                {"endpoint", {{"server", api.server->Url()}, {"insecureSkipTLSVerify", true}}},
                {"syncedResources",
                 Json::array({{{"resource", "configmaps"}}, {{"group", "apps"}, {"resource", "deployments"}}})},
                {"healthCheck", {{"periodSeconds", 10}, {"failureThreshold", 2}, {"timeoutSeconds", 2}}}}}};
  REQUIRE(s->Create(ref.Key(), reg.dump()).ok());
  registry::ObjectService objects(*s, clock);
  const uint64_t base = s->CurrentRevision();
  auto writes = [&] { return static_cast<int>(s->CurrentRevision() - base); };  // through the registry
  upstream::EmbeddedUpstream up(*s, objects);
  prometheus::Registry registry;
  ClusterController ctl(up, *s, clock, registry);
  auto get = [&] { return *up.Get(ref); };
  auto gauge = [&](const std::string& name) -> std::optional<double> {  // the edge cluster's series
    for (const auto& fam : registry.Collect()) {
      if (fam.name != name) continue;
      for (const auto& m : fam.metric) return m.gauge.value;
    }
    return std::nullopt;
  };
  CHECK_FALSE(gauge("tmcd_cluster_heartbeat_age_seconds"));  // no probe yet: no age to report

  auto r = ctl.Reconcile("root|edge");
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  CHECK(r->requeue_after == 10s);
  Json obj = get();
  CHECK(Condition(obj, "Ready")["status"] == "True");
  CHECK(Condition(obj, "Ready")["observedGeneration"] == 1);
  CHECK(Condition(obj, "TLSVerified")["status"] == "False");  // a standing warning while verification is off
  CHECK(Condition(obj, "TLSVerified")["reason"] == "InsecureSkipTLSVerify");
  CHECK(obj["status"]["kubernetesVersion"] == "v1.99.0");
  CHECK(obj["status"]["clusterID"] == "uid-1");
  CHECK(obj["status"]["capacity"]["cpu"] == "4");
  CHECK(obj["status"]["available"]["cpu"] == "3");  // 3500m allocatable - 500m requested
  CHECK(obj["status"]["available"]["pods"] == "109");
  CHECK(Condition(obj, "ResourcesSupported")["reason"] == "ResourcesMissing");
  CHECK(Condition(obj, "ResourcesSupported")["message"] == "not served: deployments.apps");
  CHECK(obj["metadata"]["finalizers"] == Json::array({"tmc.kcp.io/cluster-cleanup"}));
  CHECK(writes() == 2);  // the status, and the cleanup finalizer
  CHECK(gauge("tmcd_cluster_heartbeat_age_seconds") == 0.0);
  CHECK(gauge("tmcd_cluster_last_heartbeat_timestamp_seconds") == 1795773600.0);

  // Nothing changed and the heartbeat is not due: no write. Due after 60 s: one write.
  clock.Advance(10s);
  REQUIRE(ctl.Reconcile("root|edge").ok());
  CHECK(writes() == 2);
  const std::string beat = obj["status"]["lastHeartbeatTime"];
  clock.Advance(55s);
  REQUIRE(ctl.Reconcile("root|edge").ok());
  CHECK(writes() == 3);
  CHECK(get()["status"]["lastHeartbeatTime"] != beat);
  const std::string ready_since = Condition(get(), "Ready")["lastTransitionTime"];

  // A spec change is inventoried at the next probe, not after the 60 s inventory period.
  auto edited = up.Mutate(ref, false, [](Json& o) -> Result<bool> {
    o["spec"]["syncedResources"] = Json::array({{{"resource", "configmaps"}}});
    return true;
  });
  REQUIRE_MESSAGE(edited.ok(), edited.status().ToString());
  CHECK((*edited)["metadata"]["generation"] == 2);
  clock.Advance(10s);
  REQUIRE(ctl.Reconcile("root|edge").ok());
  CHECK(Condition(get(), "ResourcesSupported")["status"] == "True");
  CHECK(Condition(get(), "ResourcesSupported")["observedGeneration"] == 2);

  // An unhealthy apiserver: Ready stays True for one failure, turns False at failureThreshold (2).
  api.readyz_code = 500;
  clock.Advance(10s);
  REQUIRE(ctl.Reconcile("root|edge").ok());
  CHECK(Condition(get(), "Ready")["status"] == "True");
  CHECK(Condition(get(), "Reachable")["status"] == "True");  // it answered
  clock.Advance(10s);
  REQUIRE(ctl.Reconcile("root|edge").ok());
  Json failed = Condition(get(), "Ready");
  CHECK(failed["status"] == "False");
  CHECK(failed["reason"] == "APIServerNotReady");
  CHECK(failed["lastTransitionTime"] != ready_since);
  const int writes_when_failed = writes();
  clock.Advance(10s);
  REQUIRE(ctl.Reconcile("root|edge").ok());
  CHECK(writes() == writes_when_failed);                       // still failing, same condition: no rewrite
  CHECK(gauge("tmcd_cluster_heartbeat_age_seconds") == 30.0);  // three failed probes, 10 s apart

  // Healthy again, then the endpoint reaches another cluster.
  api.readyz_code = 200;
  clock.Advance(10s);
  REQUIRE(ctl.Reconcile("root|edge").ok());
  CHECK(Condition(get(), "Ready")["status"] == "True");
  {
    std::lock_guard<std::mutex> lock(api.mu);
    api.uid = "uid-2";
  }
  clock.Advance(10s);
  REQUIRE(ctl.Reconcile("root|edge").ok());
  CHECK(Condition(get(), "Ready")["reason"] == "ClusterIDChanged");
  CHECK(get()["status"]["clusterID"] == "uid-1");

  // Being deleted: the finalizer stays while the syncer still counts copies on the cluster.
  size_t copies = 2;
  ctl.SetCopyCounter([&](const std::string& ws, const std::string& name) {
    CHECK(ws == "root");
    CHECK(name == "edge");
    return copies;
  });
  {
    Json deleting = get();
    deleting["metadata"]["deletionTimestamp"] = "2026-11-27T10:00:00Z";
    REQUIRE(s->Update(ref.Key(), deleting.dump(), 0).ok());
  }
  clock.Advance(10s);
  auto held = ctl.Reconcile("root|edge");
  REQUIRE(held.ok());
  CHECK(held->requeue_after == 1s);  // looks again soon while copies are removed
  CHECK(get()["metadata"]["finalizers"] == Json::array({"tmc.kcp.io/cluster-cleanup"}));
  copies = 0;
  auto released = ctl.Reconcile("root|edge");
  REQUIRE(released.ok());
  CHECK(released->requeue_after == 0s);
  // The registry deletes an object whose last finalizer is removed while it is being deleted.
  CHECK(up.Get(ref).status().reason() == Reason::kNotFound);

  // A deleted registration is forgotten without error.
  CHECK(ctl.Reconcile("root|edge").ok());
  CHECK(ctl.Reconcile("not-a-key").ok());
}

TEST_CASE("a controller held on the first probes starts once every registration has been probed") {
  store::testing::TempDir dir;
  auto s = store::testing::OpenAt(dir.path());
  RealClock clock;
  ScriptedApiserver api;
  auto reg = [](const std::string& name, const std::string& server) {
    return Json{{"apiVersion", "tmc.kcp.io/v1alpha1"},
                {"kind", "ClusterRegistration"},
                {"metadata", {{"name", name}, {"generation", 1}}},
                {"spec",
                 {{"location", "lab"},
                  {"endpoint", {{"server", server}, {"insecureSkipTLSVerify", true}}},
                  {"healthCheck", {{"periodSeconds", 60}, {"timeoutSeconds", 2}}}}}};
  };
  const upstream::ObjectRef up_ref{"root", "tmc.kcp.io", "v1alpha1", "clusterregistrations", "", "up"};
  const upstream::ObjectRef down_ref{"root", "tmc.kcp.io", "v1alpha1", "clusterregistrations", "", "down"};
  REQUIRE(s->Create(up_ref.Key(), reg("up", api.server->Url()).dump()).ok());
  REQUIRE(s->Create(down_ref.Key(), reg("down", "https://127.0.0.1:1").dump()).ok());  // refused: probed all the same
  registry::ObjectService objects(*s, clock);
  upstream::EmbeddedUpstream up(*s, objects);
  prometheus::Registry registry;
  ClusterController ctl(up, *s, clock, registry);
  CHECK(ctl.FirstProbesDone());  // nothing handed to it yet
  Manager m(registry, [] { return std::string(); });
  ctl.Register(m);
  std::mutex mu;
  std::vector<std::string> seen_at_start;  // what the held controller's first reconcile found probed
  auto& held = m.Add(std::make_unique<Controller>(
      "held", clock,
      [&](const std::string&) -> Result<ReconcileResult> {
        std::lock_guard<std::mutex> lock(mu);
        if (!seen_at_start.empty()) return ReconcileResult{};
        for (const auto& ref : {up_ref, down_ref}) {
          auto got = up.Get(ref);
          const bool probed = got.ok() && !Condition(*got, "Reachable").is_null();
          seen_at_start.push_back(ref.name + (probed ? " probed" : " not probed"));
        }
        return ReconcileResult{};
      },
      1));
  held.HoldUntil([&] { return m.SourcesListed() && ctl.FirstProbesDone(); }, 30s);
  held.queue().Add("k");
  m.Start();
  for (int i = 0; i < 1000; ++i) {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (!seen_at_start.empty()) break;
    }
    std::this_thread::sleep_for(10ms);
  }
  m.Stop();
  std::lock_guard<std::mutex> lock(mu);
  CHECK(seen_at_start == std::vector<std::string>{"up probed", "down probed"});
  CHECK(ctl.FirstProbesDone());
}

}  // namespace
}  // namespace tmcd::engine
