// The placement controller on a real RocksDB store through the real registry (embedded upstream): decisions,
// conditions and counts in one status write, decisions that move only when the chosen set must, no write
// when nothing changed, and placements that see only their own workspace's clusters.
#include "engine/placement.h"

#include <doctest/doctest.h>

#include <thread>

#include "apis/meta/condition.h"
#include "create_object.h"
#include "registry/objects.h"
#include "temp_store.h"

namespace tmcd::engine {
namespace {

using Json = nlohmann::json;
using store::testing::OpenAt;
using store::testing::TempDir;

struct Fixture {
  TempDir dir;
  std::unique_ptr<store::Store> s = OpenAt(dir.path());
  FakeClock clock{Clock::TimePoint(std::chrono::seconds(1795773600))};
  registry::ObjectService objects{*s, clock};
  upstream::EmbeddedUpstream up{*s, objects};
  prometheus::Registry metrics;
  PlacementController ctl{up, *s, clock, metrics, {{"apps", "deployments"}}};

  void Create(const std::string& ws, const std::string& group, const std::string& version, const std::string& resource,
              const std::string& ns, const Json& body) {
    registry::testing::CreateObject(objects, ws, group, version, resource, ns, body);
  }
  void Cluster(const std::string& ws, const std::string& name, bool ready) {
    Create(ws, "tmc.kcp.io", "v1alpha1", "clusterregistrations", "",
           {{"apiVersion", "tmc.kcp.io/v1alpha1"},
            {"kind", "ClusterRegistration"},
            {"metadata", {{"name", name}}},
            {"spec", {{"location", "lab"}, {"endpoint", {{"server", "https://" + name + ".example:6443"}}}}}});
    SetReady(ws, name, ready);
  }
  void SetReady(const std::string& ws, const std::string& name, bool ready) {
    auto w = up.MutateStatus<v1::ClusterRegistration>(
        {ws, "tmc.kcp.io", "v1alpha1", "clusterregistrations", "", name}, [&](v1::ClusterRegistration& c) {
          c.status.synced_resources = {{"apps", "deployments", {"v1"}, "Accepted"}};
          apis::SetCondition(c.status.conditions,
                             apis::MakeCondition("Ready", ready ? "True" : "False", ready ? "Probed" : "Unreachable",
                                                 "set by the test", c.metadata.generation),
                             apis::Time::FromTimePoint(clock.Now()));
          return Result<bool>(true);
        });
    REQUIRE_MESSAGE(w.ok(), w.status().ToString());
  }
  v1::WorkloadPlacement Placement(const std::string& ws) {
    auto p = up.GetTyped<v1::WorkloadPlacement>({ws, "tmc.kcp.io", "v1alpha1", "workloadplacements", "shop", "web"});
    REQUIRE(p.ok());
    return *p;
  }
};

Json PlacementBody() {
  return {{"apiVersion", "tmc.kcp.io/v1alpha1"},
          {"kind", "WorkloadPlacement"},
          {"metadata", {{"name", "web"}}},
          {"spec",
           {{"numberOfClusters", 1},
            {"workloadSelector",
             {{"resources", Json::array({{{"group", "apps"}, {"resource", "deployments"}}})},
              {"labelSelector", {{"matchLabels", {{"app", "web"}}}}}}}}}};
}

Json Deployment(const std::string& name, const std::string& app) {
  return {{"apiVersion", "apps/v1"},
          {"kind", "Deployment"},
          {"metadata", {{"name", name}, {"labels", {{"app", app}}}}},
          {"spec", {{"replicas", 1}}}};
}

TEST_CASE("placement reconcile: decisions, counts and conditions; moves only when it must; workspaces apart") {
  Fixture f;
  f.Cluster("root", "east", true);
  f.Cluster("root", "west", true);
  f.Create("root", "tmc.kcp.io", "v1alpha1", "workloadplacements", "shop", PlacementBody());
  f.Create("root", "apps", "v1", "deployments", "shop", Deployment("web", "web"));
  f.Create("root", "apps", "v1", "deployments", "shop", Deployment("db", "db"));  // not selected
  const std::string key = PlacementController::KeyFor("root", "shop", "web");

  REQUIRE(f.ctl.Reconcile(key).ok());
  auto p = f.Placement("root");
  REQUIRE(p.status.decisions.size() == 1);
  const std::string chosen = p.status.decisions[0].cluster_name;
  CHECK(p.status.decision_generation == 1);
  CHECK(p.status.selected_workloads == 1);
  CHECK(p.status.observed_generation == 1);
  const auto* scheduled = apis::FindCondition(p.status.conditions, "Scheduled");
  REQUIRE(scheduled != nullptr);
  CHECK(scheduled->status == "True");

  // Nothing changed: no write at all.
  const uint64_t rev = f.s->CurrentRevision();
  REQUIRE(f.ctl.Reconcile(key).ok());
  CHECK(f.s->CurrentRevision() == rev);

  // The chosen cluster is lost: the decision moves to the other one, as a new decision generation.
  f.SetReady("root", chosen, false);
  REQUIRE(f.ctl.Reconcile(key).ok());
  p = f.Placement("root");
  REQUIRE(p.status.decisions.size() == 1);
  CHECK(p.status.decisions[0].cluster_name == (chosen == "east" ? "west" : "east"));
  CHECK(p.status.decision_generation == 2);
  // It comes back: the placement is sticky and stays where it is.
  f.SetReady("root", chosen, true);
  REQUIRE(f.ctl.Reconcile(key).ok());
  CHECK(f.Placement("root").status.decisions[0].cluster_name != chosen);

  // Another workspace's placement sees none of root's clusters.
  f.Create("root:b", "tmc.kcp.io", "v1alpha1", "workloadplacements", "shop", PlacementBody());
  REQUIRE(f.ctl.Reconcile(PlacementController::KeyFor("root:b", "shop", "web")).ok());
  p = f.Placement("root:b");
  CHECK(p.status.decisions.empty());
  scheduled = apis::FindCondition(p.status.conditions, "Scheduled");
  REQUIRE(scheduled != nullptr);
  CHECK(scheduled->status == "False");

  // A deleted placement is forgotten without error.
  CHECK(f.ctl.Reconcile(PlacementController::KeyFor("root", "shop", "gone")).ok());
}

Json Named(const std::string& name) {
  Json p = PlacementBody();
  p["metadata"]["name"] = name;
  return p;
}

TEST_CASE("advanced placement: Balance reads a load index kept by reconciles, which forgets deleted placements") {
  Fixture f;
  prometheus::Registry metrics;
  PlacementController adv{f.up, *f.s, f.clock, metrics, {{"apps", "deployments"}}, /*advanced=*/true};
  f.Cluster("root", "east", true);
  f.Cluster("root", "west", true);
  auto decided = [&](const std::string& name) {
    REQUIRE(adv.Reconcile(PlacementController::KeyFor("root", "shop", name)).ok());
    auto p =
        f.up.GetTyped<v1::WorkloadPlacement>({"root", "tmc.kcp.io", "v1alpha1", "workloadplacements", "shop", name});
    REQUIRE(p.ok());
    REQUIRE(p->status.decisions.size() == 1);
    return p->status.decisions[0].cluster_name;
  };
  f.Create("root", "tmc.kcp.io", "v1alpha1", "workloadplacements", "shop", Named("a"));
  const std::string first = decided("a");
  const std::string other = first == "east" ? "west" : "east";
  f.Create("root", "tmc.kcp.io", "v1alpha1", "workloadplacements", "shop", Named("b"));
  CHECK(decided("b") == other);  // Spread's Balance: the cluster a placement already chose is busier
  CHECK(decided("a") == first);  // its own decision does not count against itself

  registry::Request req;
  req.workspace = "root";
  req.namespace_ = "shop";
  req.name = "a";
  REQUIRE(f.objects
              .Delete(req, *f.objects.catalog().Find("root", "tmc.kcp.io", "v1alpha1", "workloadplacements"),
                      Json::object())
              .ok());
  CHECK(adv.Reconcile(PlacementController::KeyFor("root", "shop", "a")).ok());  // gone: forgotten
  f.Create("root", "tmc.kcp.io", "v1alpha1", "workloadplacements", "shop", Named("c"));
  CHECK(decided("c") == first);  // only b's load is left

  // A controller started later seeds its index from the stored decisions.
  prometheus::Registry metrics2;
  PlacementController later{f.up, *f.s, f.clock, metrics2, {{"apps", "deployments"}}, true};
  auto explain = later.Explain("root", "shop", "c");
  REQUIRE(explain.ok());
  for (const auto& c : (*explain)["clusters"]) {  // b's decision is seen (unseeded, both would score 100)
    CHECK(c["scores"]["Balance"]["score"] == (c["name"] == first ? 100 : 0));
  }
}

TEST_CASE("advanced placement: concurrent reconciles of one workspace do not move two placements for one cluster") {
  for (int round = 0; round < 10; ++round) {
    Fixture f;
    prometheus::Registry metrics;
    PlacementController adv{f.up, *f.s, f.clock, metrics, {{"apps", "deployments"}}, true};
    f.Cluster("root", "two", true);
    for (const char* name : {"a", "b"}) {
      f.Create("root", "tmc.kcp.io", "v1alpha1", "workloadplacements", "shop", Named(name));
      REQUIRE(adv.Reconcile(PlacementController::KeyFor("root", "shop", name)).ok());
    }
    f.Cluster("root", "one", true);  // Spread's Balance now wants one of them there, not both
    std::thread other([&] { CHECK(adv.Reconcile(PlacementController::KeyFor("root", "shop", "a")).ok()); });
    CHECK(adv.Reconcile(PlacementController::KeyFor("root", "shop", "b")).ok());
    other.join();
    std::set<std::string> where;
    int64_t generations = 0;
    for (const char* name : {"a", "b"}) {
      REQUIRE(adv.Reconcile(PlacementController::KeyFor("root", "shop", name)).ok());  // settled: no move
      auto p =
          f.up.GetTyped<v1::WorkloadPlacement>({"root", "tmc.kcp.io", "v1alpha1", "workloadplacements", "shop", name});
      REQUIRE(p.ok());
      where.insert(p->status.decisions.at(0).cluster_name);
      generations += p->status.decision_generation;
    }
    CHECK(where == std::set<std::string>{"one", "two"});
    CHECK(generations == 3);  // two first decisions, one move
  }
}

TEST_CASE("the local API stamps timeAdded on NoExecute taints, and keeps it on later writes") {
  Fixture f;
  Json body = {{"apiVersion", "tmc.kcp.io/v1alpha1"},
               {"kind", "ClusterRegistration"},
               {"metadata", {{"name", "east"}}},
               {"spec",
                {{"location", "lab"},
                 {"endpoint", {{"server", "https://east.example:6443"}}},
                 {"taints", Json::array({{{"key", "drain"}, {"effect", "NoExecute"}},
                                         {{"key", "soft"}, {"effect", "NoSchedule"}}})}}}};
  f.Create("root", "tmc.kcp.io", "v1alpha1", "clusterregistrations", "", body);
  const upstream::ObjectRef ref{"root", "tmc.kcp.io", "v1alpha1", "clusterregistrations", "", "east"};
  const std::string t0 = apis::Time::FromTimePoint(f.clock.Now()).ToString();
  f.clock.Advance(std::chrono::seconds(30));
  auto w = f.up.Mutate(ref, false, [](Json& c) -> Result<bool> {
    c["spec"]["taints"].push_back({{"key", "gone"}, {"effect", "NoExecute"}});
    return true;
  });
  REQUIRE_MESSAGE(w.ok(), w.status().ToString());
  auto c = f.up.GetTyped<v1::ClusterRegistration>(ref);
  REQUIRE(c.ok());
  REQUIRE(c->spec.taints.size() == 3);
  CHECK(c->spec.taints[0].time_added.ToString() == t0);  // kept from the create
  CHECK_FALSE(c->spec.taints[1].time_added.set);         // NoSchedule: no clock
  CHECK(c->spec.taints[2].time_added == apis::Time::FromTimePoint(f.clock.Now()));
}

TEST_CASE("failover: evictions in status, the Evicting condition, the workspace's budget and the grace period") {
  Fixture f;
  prometheus::Registry metrics;
  const FailoverOptions fo{std::chrono::seconds(120), 1, std::chrono::seconds(60)};
  PlacementController adv{f.up, *f.s, f.clock, metrics, {{"apps", "deployments"}}, true, 2, fo};
  f.Cluster("root", "east", true);
  f.Cluster("root", "west", true);
  f.Create("root", "apps", "v1", "deployments", "shop", Deployment("web", "web"));
  Json all = Named("all");
  all["spec"].erase("numberOfClusters");
  f.Create("root", "tmc.kcp.io", "v1alpha1", "workloadplacements", "shop", Named("one"));
  f.Create("root", "tmc.kcp.io", "v1alpha1", "workloadplacements", "shop", all);
  auto get = [&](const std::string& name) {
    auto p =
        f.up.GetTyped<v1::WorkloadPlacement>({"root", "tmc.kcp.io", "v1alpha1", "workloadplacements", "shop", name});
    REQUIRE(p.ok());
    return *p;
  };
  auto reconcile = [&](const std::string& name) {
    auto r = adv.Reconcile(PlacementController::KeyFor("root", "shop", name));
    REQUIRE_MESSAGE(r.ok(), r.status().ToString());
    return *r;
  };
  reconcile("one");
  reconcile("all");
  const std::string lost = get("one").status.decisions.at(0).cluster_name;
  const std::string other = lost == "east" ? "west" : "east";
  REQUIRE(get("all").status.decisions.size() == 2);
  const auto settled = get("one");  // the condition pointer must not outlive the object it points into
  const auto* evicting = apis::FindCondition(settled.status.conditions, "Evicting");
  REQUIRE(evicting != nullptr);
  CHECK(evicting->status == "False");

  // The cluster turns NotReady (no toleration: beyond it at once). "one" moves, make-before-break.
  f.SetReady("root", lost, false);
  const auto first = reconcile("one");
  auto one = get("one");
  REQUIRE(one.status.decisions.size() == 1);
  CHECK(one.status.decisions[0].cluster_name == other);
  REQUIRE(one.status.evictions.size() == 1);
  CHECK(one.status.evictions[0].cluster_name == lost);
  CHECK(one.status.evictions[0].reason == "ClusterNotReady");
  evicting = apis::FindCondition(one.status.conditions, "Evicting");
  REQUIRE(evicting != nullptr);
  CHECK(evicting->status == "True");
  CHECK(evicting->reason == "MovingCopies");
  CHECK(first.requeue_after == std::chrono::seconds(120));  // the grace period's end

  // "all" must leave it too, but the budget (1 move per minute) is spent: the cluster stays chosen.
  const auto waited = reconcile("all");
  auto both = get("all");
  CHECK(both.status.decisions.size() == 2);
  CHECK(both.status.evictions.empty());
  evicting = apis::FindCondition(both.status.conditions, "Evicting");
  REQUIRE(evicting != nullptr);
  CHECK(evicting->reason == "FailoverRateLimited");
  CHECK(waited.requeue_after == std::chrono::seconds(60));
  f.clock.Advance(std::chrono::seconds(60));
  reconcile("all");
  both = get("all");
  CHECK(both.status.decisions.size() == 1);
  CHECK(both.status.evictions.size() == 1);

  // No copy became Ready on the new cluster: the grace period ends the move, and the old copies go.
  f.clock.Advance(std::chrono::seconds(60));
  reconcile("one");
  one = get("one");
  CHECK(one.status.evictions.empty());
  evicting = apis::FindCondition(one.status.conditions, "Evicting");
  REQUIRE(evicting != nullptr);
  CHECK(evicting->status == "False");
}

}  // namespace
}  // namespace tmcd::engine
