// The basic placement algorithm: filters, stickiness, round-robin and the Scheduled condition.
#include "engine/placement_schedule.h"

#include <doctest/doctest.h>

#include "apis/tmc/v1alpha1/register.h"
#include "schedule_helpers.h"

namespace tmcd::engine {
namespace {

using testing::Chosen;
using testing::VerdictOf;

v1::ClusterRegistration Cluster(const std::string& name, const std::string& location, bool ready = true) {
  v1::ClusterRegistration c;
  c.metadata.name = name;
  c.spec.location = location;
  apis::Condition cond;
  cond.type = std::string(v1::kConditionReady);
  cond.status = ready ? "True" : "False";
  cond.reason = ready ? "Healthy" : "Unreachable";
  c.status.conditions.push_back(cond);
  c.status.synced_resources.push_back({"apps", "deployments", {"v1"}, "Accepted"});
  return c;
}

v1::WorkloadPlacement Placement(std::optional<int32_t> n = std::nullopt) {
  auto p = v1::DecodeStored<v1::WorkloadPlacement>(
      R"({"apiVersion":"tmc.kcp.io/v1alpha1","kind":"WorkloadPlacement","metadata":{"name":"web","namespace":"shop"},
          "spec":{"workloadSelector":{"labelSelector":{"matchLabels":{"app":"web"}}}}})");
  REQUIRE(p.ok());
  p->spec.number_of_clusters = n;
  return *p;
}

TEST_CASE("every feasible cluster is chosen by default; infeasible ones say why") {
  auto c = std::vector{Cluster("a", "east"), Cluster("b", "west", false), Cluster("c", "west")};
  c[2].spec.unschedulable = true;
  auto r = Schedule(Placement(), "root/shop/web", c);
  CHECK(Chosen(r) == std::vector<std::string>{"a"});
  CHECK(r.wanted == 1);
  CHECK(r.condition_status == "True");
  CHECK(VerdictOf(r, "b").rejected == std::vector<std::string>{"NotReady (Unreachable)"});
  CHECK(VerdictOf(r, "c").rejected == std::vector<std::string>{"unschedulable (cordoned)"});
  CHECK(r.condition_message.find("b NotReady (Unreachable)") != std::string::npos);
}

TEST_CASE("cluster selector: locations, labels, names, exclusions") {
  auto c = std::vector{Cluster("a", "east"), Cluster("b", "west"), Cluster("c", "west"), Cluster("d", "west")};
  c[1].metadata.labels["env"] = "prod";
  c[2].metadata.labels["env"] = "prod";
  c[3].metadata.labels["env"] = "prod";
  auto p = Placement();
  p.spec.cluster_selector.locations = {"west"};
  p.spec.cluster_selector.label_selector = apis::LabelSelector{{{"env", "prod"}}, {}};
  p.spec.cluster_selector.exclude_clusters = {"c"};
  auto r = Schedule(p, "root/shop/web", c);
  CHECK(Chosen(r) == std::vector<std::string>{"b", "d"});
  CHECK(VerdictOf(r, "a").rejected.size() == 2);  // location and labels
  CHECK(VerdictOf(r, "c").rejected == std::vector<std::string>{"excluded by clusterSelector.excludeClusters"});
  p.spec.cluster_selector.cluster_names = {"d"};
  CHECK(Chosen(Schedule(p, "root/shop/web", c)) == std::vector<std::string>{"d"});
}

TEST_CASE("NoSchedule and NoExecute taints need a toleration; PreferNoSchedule does not") {
  auto c = std::vector{Cluster("a", "x"), Cluster("b", "x"), Cluster("c", "x")};
  c[0].spec.taints = {{"maintenance", "true", "NoSchedule"}};
  c[1].spec.taints = {{"gpu", "", "NoExecute"}};
  c[2].spec.taints = {{"spot", "yes", "PreferNoSchedule"}};
  auto p = Placement();
  auto r = Schedule(p, "id", c);
  CHECK(Chosen(r) == std::vector<std::string>{"c"});
  CHECK(VerdictOf(r, "a").rejected == std::vector<std::string>{"tainted maintenance=true:NoSchedule"});
  p.spec.tolerations = {{"maintenance", "Equal", "true", "NoSchedule"}, {"gpu", "Exists", "", ""}};
  CHECK(Chosen(Schedule(p, "id", c)).size() == 3);
  p.spec.tolerations = {{"maintenance", "Equal", "false", ""}};  // wrong value
  CHECK(Chosen(Schedule(p, "id", c)) == std::vector<std::string>{"c"});
  p.spec.tolerations = {{"", "Exists", "", ""}};  // tolerates everything
  CHECK(Chosen(Schedule(p, "id", c)).size() == 3);
}

TEST_CASE("cordon and NoSchedule keep new placements away; what runs there stays; NoExecute evicts") {
  auto c = std::vector{Cluster("a", "x"), Cluster("b", "x"), Cluster("c", "x")};
  auto p = Placement(2);
  p.status.decisions = {v1::ClusterDecision{"a", "x", std::nullopt, 0, ""},
                        v1::ClusterDecision{"b", "x", std::nullopt, 0, ""}};
  c[0].spec.unschedulable = true;
  c[1].spec.taints = {{"maintenance", "true", "NoSchedule"}};
  auto r = Schedule(p, "root/shop/web", c);
  CHECK(Chosen(r) == std::vector<std::string>{"a", "b"});
  CHECK(VerdictOf(r, "a").sticky);
  CHECK(VerdictOf(r, "a").new_only);
  CHECK(VerdictOf(r, "a").rejected == std::vector<std::string>{"unschedulable (cordoned)"});
  CHECK(VerdictOf(r, "b").new_only);
  CHECK(r.condition_status == "True");
  CHECK(r.condition_message == "2 wanted, 3 feasible, chosen: a, b");
  // A placement that did not use them before cannot get them.
  auto fresh = Placement(2);
  r = Schedule(fresh, "root/shop/web", c);
  CHECK(Chosen(r) == std::vector<std::string>{"c"});
  CHECK(r.condition_reason == "InsufficientClusters");
  CHECK(r.condition_message.find("a unschedulable (cordoned)") != std::string::npos);
  // Default numberOfClusters (every feasible cluster) keeps the cordoned one it already had.
  auto all = Placement();
  all.status.decisions = {v1::ClusterDecision{"a", "x", std::nullopt, 0, ""}};
  CHECK(Chosen(Schedule(all, "root/shop/web", c)) == std::vector<std::string>{"a", "c"});
  // NoExecute evicts, as does a cordoned cluster becoming NotReady.
  c[1].spec.taints = {{"maintenance", "true", "NoExecute"}};
  c[0].status.conditions[0].status = "False";
  r = Schedule(p, "root/shop/web", c);
  CHECK(Chosen(r) == std::vector<std::string>{"c"});
  CHECK(!VerdictOf(r, "a").new_only);
  CHECK(!VerdictOf(r, "b").new_only);
  CHECK(VerdictOf(r, "b").rejected == std::vector<std::string>{"tainted maintenance=true:NoExecute"});
}

TEST_CASE("a cluster that does not serve the workload type is rejected") {
  auto c = std::vector{Cluster("a", "x"), Cluster("b", "x")};
  c[1].status.synced_resources.front().state = "Incompatible";
  auto r = Schedule(Placement(), "id", c);
  CHECK(Chosen(r) == std::vector<std::string>{"a"});
  CHECK(VerdictOf(r, "b").rejected == std::vector<std::string>{"deployments.apps not supported"});
}

TEST_CASE("numberOfClusters: round-robin spreads placements, earlier choices stay") {
  std::vector<v1::ClusterRegistration> c;
  for (const char* n : {"a", "b", "c", "d"}) c.push_back(Cluster(n, "x"));
  std::map<std::string, int> uses;
  for (int i = 0; i < 40; ++i) {
    auto r = Schedule(Placement(1), "root/shop/p" + std::to_string(i), c);
    REQUIRE(r.decisions.size() == 1);
    ++uses[r.decisions[0].cluster_name];
    // Deterministic: the same placement gets the same answer.
    CHECK(Chosen(Schedule(Placement(1), "root/shop/p" + std::to_string(i), c)) == Chosen(r));
  }
  CHECK(uses.size() == 4);  // every cluster gets some placements

  auto p = Placement(2);
  p.status.decisions = {v1::ClusterDecision{"c", "x", std::nullopt, 0, ""}};
  auto r = Schedule(p, "root/shop/web", c);
  CHECK(r.decisions.size() == 2);
  CHECK(VerdictOf(r, "c").sticky);
  // The sticky cluster goes when it stops being feasible; another takes its place.
  c[2].status.conditions[0].status = "False";
  r = Schedule(p, "root/shop/web", c);
  CHECK(r.decisions.size() == 2);
  CHECK(!VerdictOf(r, "c").chosen);
  // Shrinking keeps one of the earlier choices.
  p.status.decisions = {v1::ClusterDecision{"a", "x", std::nullopt, 0, ""},
                        v1::ClusterDecision{"b", "x", std::nullopt, 0, ""}};
  p.spec.number_of_clusters = 1;
  CHECK(Chosen(Schedule(p, "root/shop/web", c)) == std::vector<std::string>{"a"});
}

TEST_CASE("the Scheduled condition says why too few clusters were found") {
  auto c = std::vector{Cluster("a", "x"), Cluster("b", "x", false)};
  auto r = Schedule(Placement(2), "id", c);
  CHECK(r.condition_status == "False");
  CHECK(r.condition_reason == "InsufficientClusters");
  CHECK(r.condition_message == "2 wanted, 1 feasible, chosen: a; rejected: b NotReady (Unreachable)");
  CHECK(Schedule(Placement(), "id", std::vector<v1::ClusterRegistration>{}).condition_reason == "NoClusters");
  c[0].spec.unschedulable = true;
  CHECK(Schedule(Placement(), "id", c).condition_reason == "NoFeasibleClusters");
}

TEST_CASE("a spec asking for advanced placement keeps the previous decisions and says why") {
  auto c = std::vector{Cluster("a", "x"), Cluster("b", "x"), Cluster("c", "x")};
  auto p = Placement(1);
  p.status.decisions = {v1::ClusterDecision{"b", "x", std::nullopt, 0, ""}};
  for (const char* s : {"Spread", "RoundRobin"}) {  // both are the basic round-robin spread
    p.spec.strategy = s;
    CHECK(Schedule(p, "id", c).condition_reason == "Scheduled");
  }
  p.spec.strategy = "Binpack";
  p.spec.scoring = {v1::ScoringPlugin{"Capacity", 3}};
  c[1].status.conditions[0].status = "False";  // even a decision the basic algorithm would drop stays
  auto r = Schedule(p, "id", c);
  CHECK(Chosen(r) == std::vector<std::string>{"b"});
  CHECK(VerdictOf(r, "b").chosen);
  CHECK_FALSE(VerdictOf(r, "a").chosen);
  CHECK(r.condition_status == "False");
  CHECK(r.condition_reason == "Unsupported");
  CHECK(r.condition_message ==
        "spec.strategy Binpack (needs the feature gate TMCAdvancedPlacement, which is off), spec.scoring (needs the "
        "feature gate TMCAdvancedPlacement, which is off): previous decisions kept");
  p.status.decisions.clear();  // a new placement: nothing is decided
  CHECK(Schedule(p, "id", c).decisions.empty());
}

TEST_CASE("workload selection by resource and labels") {
  auto p = Placement();
  CHECK(SelectsWorkload(p, "apps", "deployments", {{"app", "web"}, {"tier", "1"}}));
  CHECK(!SelectsWorkload(p, "apps", "deployments", {{"app", "db"}}));
  CHECK(!SelectsWorkload(p, "", "services", {{"app", "web"}}));
  p.spec.workload_selector.label_selector = apis::LabelSelector{};
  CHECK(SelectsWorkload(p, "apps", "deployments", {}));  // empty selector selects all
}

}  // namespace
}  // namespace tmcd::engine
