// The syncer's reconcile, driven key by key (no controller threads), on a temp RocksDB store through
// the real registry (embedded upstream) against the two real kube-apiservers of test/peers/up.sh:
// marks before the first copy, records, copies with their dependency, an idempotent second pass,
// drift reverted, one unreachable cluster failing alone, a dropped cluster's copy removed, and
// deletion that waits for every copy before the finalizer goes.
#include <doctest/doctest.h>

#include <atomic>
#include <thread>

#include "create_object.h"
#include "engine/controller.h"
#include "live_helpers.h"
#include "registry/objects.h"
#include "sync/naming.h"
#include "sync/syncer.h"
#include "temp_store.h"

namespace tmcd::sync {
namespace {

using namespace std::chrono_literals;
using Json = nlohmann::json;
namespace v1 = apis::v1alpha1;

constexpr const char* kWs = "root";

kube::RestConfig ClusterConfig(int n) {
  if (n == 1) return kube::live::VerifiedConfig();
  auto c = kube::LoadKubeconfig(kube::live::PeerDir() + "/cluster-2/kubeconfig");
  REQUIRE(c.ok());
  return *c;
}

struct Fixture {
  store::testing::TempDir dir;
  std::unique_ptr<store::Store> s = store::testing::OpenAt(dir.path());
  RealClock clock;
  registry::ObjectService objects{*s, clock};
  upstream::EmbeddedUpstream up{*s, objects};
  prometheus::Registry metrics;
  engine::Manager manager{metrics, [] { return std::string(); }};
  std::atomic<bool> west_ready{true};
  std::unique_ptr<Syncer> syncer;
  std::unique_ptr<kube::Client> east = kube::live::NewClient(ClusterConfig(1));
  std::unique_ptr<kube::Client> west = kube::live::NewClient(ClusterConfig(2));
  const std::string ns = "sync-" + std::to_string(::time(nullptr) % 100000);
  const std::string key = WorkloadKey{kWs, "apps", "deployments", ns, "web"}.String();
  const upstream::ObjectRef ref{kWs, "apps", "v1", "deployments", ns, "web"};

  Fixture() {
    syncer = std::make_unique<Syncer>(
        up, *s, clock, metrics, [this](const std::string&, const std::string& cluster) -> std::optional<Connection> {
          if (cluster == "west" && !west_ready) return std::nullopt;
          return Connection{ClusterConfig(cluster == "east" ? 1 : 2), cluster};
        });
    syncer->Register(manager);  // not started: the test calls Reconcile itself
  }
  ~Fixture() { syncer.reset(); }  // its cluster informers feed the manager's queue

  Json Create(const std::string& group, const std::string& version, const std::string& resource,
              const std::string& in_ns, const Json& body) {
    return registry::testing::CreateObject(objects, kWs, group, version, resource, in_ns, body);
  }
  void Cluster(const std::string& name) {
    Create("tmc.kcp.io", "v1alpha1", "clusterregistrations", "",
           {{"apiVersion", "tmc.kcp.io/v1alpha1"},
            {"kind", "ClusterRegistration"},
            {"metadata", {{"name", name}}},
            {"spec", {{"location", "lab"}, {"endpoint", {{"server", "https://" + name + ".example:6443"}}}}}});
    auto w = up.MutateStatus<v1::ClusterRegistration>(
        {kWs, "tmc.kcp.io", "v1alpha1", "clusterregistrations", "", name}, [](v1::ClusterRegistration& c) {
          c.status.synced_resources = {{"apps", "deployments", {"v1"}, "Accepted"},
                                       {"", "configmaps", {"v1"}, "Accepted"}};
          return Result<bool>(true);
        });
    REQUIRE(w.ok());
  }
  void Decide(const std::vector<std::string>& clusters) {
    auto w = up.MutateStatus<v1::WorkloadPlacement>(
        {kWs, "tmc.kcp.io", "v1alpha1", "workloadplacements", ns, "web"}, [&](v1::WorkloadPlacement& p) {
          p.status.decisions.clear();
          for (const auto& c : clusters) p.status.decisions.push_back({.cluster_name = c, .location = "lab"});
          return Result<bool>(true);
        });
    REQUIRE(w.ok());
  }
  Json Upstream() {
    auto o = up.Get(ref);
    return o.ok() ? *o : Json();
  }
  std::optional<Json> Copy(kube::Client& c, const std::string& resource = "deployments",
                           const std::string& name = "web") {
    const kube::ResourceRef r{resource == "deployments" ? "apps" : "", "v1", resource, DownstreamNamespace(kWs, ns),
                              ""};
    auto o = c.Get(r, name);
    if (o.ok()) return *o;
    return std::nullopt;
  }
  double Applies() {
    double n = 0;
    for (const auto& f : metrics.Collect()) {
      if (f.name != "tmcd_sync_applies_total") continue;
      for (const auto& m : f.metric) n += m.counter.value;
    }
    return n;
  }
  std::vector<v1::SyncRecord> Records() {
    auto r = up.ListTyped<v1::SyncRecord>(kWs, ns);
    REQUIRE(r.ok());
    return *r;
  }
  // Reconciles until `done` holds (informer caches catch up in the background), at most ~15 s.
  template <class F>
  bool ReconcileUntil(F done) {
    for (int i = 0; i < 60; ++i) {
      (void)syncer->Reconcile(key);
      if (done()) return true;
      std::this_thread::sleep_for(250ms);
    }
    return false;
  }
};

std::string Image(const Json& deploy) {
  return deploy["spec"]["template"]["spec"]["containers"][0].value("image", "");
}

TEST_CASE("syncer: a Deployment and its ConfigMap reach two real clusters and leave them again") {
  Fixture f;
  f.Create("", "v1", "namespaces", "", {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", f.ns}}}});
  f.Cluster("east");
  f.Cluster("west");
  f.Create("", "v1", "configmaps", f.ns,
           {{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", "conf"}}}, {"data", {{"k", "v"}}}});
  Json pod = {{"containers", Json::array({{{"name", "c"},
                                           {"image", "nginx:1"},
                                           {"envFrom", Json::array({{{"configMapRef", {{"name", "conf"}}}}})}}})}};
  Json deploy = {{"apiVersion", "apps/v1"}, {"kind", "Deployment"}};
  deploy["metadata"] = {{"name", "web"}, {"labels", {{"app", "web"}}}};
  deploy["spec"]["replicas"] = 2;
  deploy["spec"]["selector"]["matchLabels"] = {{"app", "web"}};
  deploy["spec"]["template"]["metadata"]["labels"] = {{"app", "web"}};
  deploy["spec"]["template"]["spec"] = pod;
  f.Create("apps", "v1", "deployments", f.ns, deploy);
  f.Create("tmc.kcp.io", "v1alpha1", "workloadplacements", f.ns,
           {{"apiVersion", "tmc.kcp.io/v1alpha1"},
            {"kind", "WorkloadPlacement"},
            {"metadata", {{"name", "web"}}},
            {"spec",
             {{"workloadSelector",
               {{"resources", Json::array({{{"group", "apps"}, {"resource", "deployments"}}})},
                {"labelSelector", {{"matchLabels", {{"app", "web"}}}}}}}}}});
  f.Decide({"east", "west"});

  // First pass: marks upstream, a record per cluster, the copies with their ConfigMap.
  auto first = f.syncer->Reconcile(f.key);
  REQUIRE_MESSAGE(first.ok(), first.status().ToString());
  Json up = f.Upstream();
  CHECK(up["metadata"]["finalizers"] == Json::array({std::string(kFinalizer)}));
  CHECK(up["metadata"]["labels"].contains(StateLabel(kWs, "east")));
  CHECK(up["metadata"]["labels"].contains(StateLabel(kWs, "west")));
  auto records = f.Records();
  REQUIRE(records.size() == 2);
  for (const auto& r : records) CHECK(r.status.phase == "Applied");
  for (auto* c : {f.east.get(), f.west.get()}) {
    auto copy = f.Copy(*c);
    REQUIRE(copy.has_value());
    CHECK((*copy)["spec"]["replicas"] == 2);
    CHECK(f.Copy(*c, "configmaps", "conf").has_value());
  }

  // Nothing changed: once the clusters' informers have seen the copies, a pass applies nothing.
  double applies = f.Applies();
  CHECK(f.ReconcileUntil([&] {
    const double now = f.Applies();
    const bool idle = now == applies;
    applies = now;
    return idle;
  }));
  REQUIRE(f.syncer->Reconcile(f.key).ok());
  REQUIRE(f.syncer->Reconcile(f.key).ok());
  CHECK(f.Applies() == applies);

  // Drift on a cluster is reverted.
  auto drifted = f.east->Patch({"apps", "v1", "deployments", DownstreamNamespace(kWs, f.ns), ""}, "web",
                               kube::PatchType::kMerge, Json{{"spec", {{"replicas", 5}}}});
  REQUIRE_MESSAGE(drifted.ok(), drifted.status().ToString());
  CHECK(f.ReconcileUntil([&] { return (*f.Copy(*f.east))["spec"]["replicas"] == 2; }));

  // West is not Ready: its copy fails alone, east gets the new image.
  f.west_ready = false;
  auto changed = f.up.Mutate(f.ref, false, [](Json& o) -> Result<bool> {
    o["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:2";
    return true;
  });
  REQUIRE(changed.ok());
  auto partial = f.syncer->Reconcile(f.key);
  REQUIRE_FALSE(partial.ok());
  CAPTURE(partial.status().message());
  CHECK(partial.status().message().find("1 of 2 copies failed") != std::string::npos);
  CHECK(partial.status().message().find("cluster west") != std::string::npos);
  CHECK(Image(*f.Copy(*f.east)) == "nginx:2");
  CHECK(Image(*f.Copy(*f.west)) == "nginx:1");
  for (const auto& r : f.Records()) {
    if (r.spec.cluster_name == "west") CHECK_FALSE(r.status.last_error.empty());
  }

  // West is back and the placement drops it: its copy is removed, east keeps its own.
  f.west_ready = true;
  f.Decide({"east"});
  CHECK(f.ReconcileUntil([&] { return !f.Copy(*f.west).has_value() && f.Records().size() == 1; }));
  CHECK_FALSE(f.Copy(*f.west, "configmaps", "conf").has_value());
  CHECK_FALSE(f.Upstream()["metadata"]["labels"].contains(StateLabel(kWs, "west")));
  CHECK(f.Copy(*f.east).has_value());

  // Deleted upstream: the finalizer holds the object until east's copy is gone.
  registry::Request req;
  req.workspace = kWs;
  req.namespace_ = f.ns;
  req.name = "web";
  auto gone = f.objects.Delete(req, *f.objects.catalog().Find(kWs, "apps", "v1", "deployments"), Json::object());
  REQUIRE_MESSAGE(gone.ok(), gone.status().ToString());
  CHECK(f.Upstream()["metadata"].contains("deletionTimestamp"));
  CHECK(f.ReconcileUntil([&] { return f.Upstream().is_null(); }));
  CHECK_FALSE(f.Copy(*f.east).has_value());
  CHECK(f.Records().empty());
}

}  // namespace
}  // namespace tmcd::sync
