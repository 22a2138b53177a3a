// Capacity for advanced placement (engine/placement_capacity.h): pod requests, what fits where,
// reservations, and the filter's verdicts and InsufficientCapacity.
#include "engine/placement_capacity.h"

#include <doctest/doctest.h>

#include <random>

#include "engine/placement_schedule.h"
#include "schedule_helpers.h"

namespace tmcd::engine {
namespace {

using testing::Chosen;
using testing::VerdictOf;
using Json = nlohmann::json;
constexpr int64_t kGi = int64_t{1} << 30;

apis::Quantity Q(const std::string& s) {
  auto q = apis::Quantity::Parse(s);
  REQUIRE(q.ok());
  return *q;
}

// A Ready cluster with `cpu` allocatable, `cpu_free` of it available, and 64Gi of memory, 32Gi free.
v1::ClusterRegistration Cluster(const std::string& name, const std::string& cpu, const std::string& cpu_free) {
  auto c = testing::ReadyCluster(name, "eu");
  c.status.allocatable = {{"cpu", Q(cpu)}, {"memory", Q("64Gi")}};
  c.status.available = {{"cpu", Q(cpu_free)}, {"memory", Q("32Gi")}};
  return c;
}

Json Container(const std::string& cpu, const std::string& memory) {
  return {{"name", "c"}, {"resources", {{"requests", {{"cpu", cpu}, {"memory", memory}}}}}};
}

TEST_CASE("pod requests: containers add up, init containers count by their largest, overhead adds") {
  const Json spec = {{"containers", {Container("500m", "1Gi"), Container("250m", "512Mi")}},
                     {"initContainers", {Container("2", "128Mi")}},
                     {"overhead", {{"cpu", "100m"}}}};
  // cpu: max(750m, 2000m) + 100m; memory: max(1.5Gi, 128Mi).
  CHECK(PodRequests(spec) == Resources{{"cpu", 2100}, {"memory", int64_t{1536} * 1024 * 1024 * 1000}});
  CHECK(PodRequests(Json::object()).empty());
  // What is not a quantity, or negative, or not cpu/memory, requests nothing.
  const Json odd = {
      {"containers",
       {{{"resources", {{"requests", {{"cpu", "lots"}, {"memory", "-1Gi"}, {"gpu", "1"}}}}}}, {{"resources", "x"}}}}};
  CHECK(PodRequests(odd).empty());
  CHECK(Describe(PodRequests(spec)) == "cpu 2100m, memory 1536Mi");
}

TEST_CASE("free, shortfall and pods that fit") {
  const auto c = Cluster("a", "4", "1500m");
  const Resources free = Free(c, {{"cpu", 500}});
  CHECK(free == Resources{{"cpu", 1000}, {"memory", 32 * kGi * 1000}});
  CHECK(Shortfall(free, {{"cpu", 1200}}) == Resources{{"cpu", 200}});
  CHECK(Shortfall(free, {{"cpu", 1000}}).empty());
  CHECK(Shortfall(free, {{"gpu", 5}}).empty());  // not reported: no known limit
  CHECK(PodsThatFit(free, {{"cpu", 300}}) == 3);
  CHECK(PodsThatFit(free, {{"cpu", 300}, {"memory", 16 * kGi * 1000}}) == 2);
  CHECK(PodsThatFit(free, {}) == -1);
  CHECK(PodsThatFit(Free(c, {{"cpu", 9000}}), {{"cpu", 1}}) == 0);  // over-reserved: nothing fits
}

TEST_CASE("reservations: unsettled copies reserve their requests; Divided ones their share") {
  const std::map<std::string, WorkloadDemand> w = {{"apps/deployments/web", {3, {{"cpu", 200}}, true}},
                                                   {"apps/deployments/api", {2, {{"cpu", 500}}, true}},
                                                   {"apps/deployments/none", {5, {}, true}}};
  const auto d = Combine(w, false);
  CHECK(d.per_copy == Resources{{"cpu", 1600}});
  CHECK(d.largest_pod == Resources{{"cpu", 500}});
  CHECK(d.workloads == 2);
  CHECK(d.Need() == d.per_copy);
  CHECK(Combine(w, true).Need() == d.largest_pod);
  std::vector<v1::ClusterDecision> decisions(2);
  decisions[0].cluster_name = "a";
  decisions[0].weight = 1;
  decisions[1].cluster_name = "b";
  decisions[1].weight = 2;
  const v1::ReplicaScheduling rs;
  // Duplicated: every copy reserves all of it; a settled copy nothing.
  auto r = Reservations(w, decisions, rs, false, {"a|apps/deployments/api"});
  CHECK(r == std::map<std::string, Resources>{{"a", {{"cpu", 600}}}, {"b", {{"cpu", 1600}}}});
  // Divided 1:2: web 3 → a 1, b 2; api 2 → a 1 (largest remainder goes to a by name on a tie), b 1.
  r = Reservations(w, decisions, rs, true, {});
  CHECK(r.at("a").at("cpu") + r.at("b").at("cpu") == 1600);
  CHECK(r.at("b").at("cpu") >= 2 * 200);
  // A copy applied lately on a cluster no longer chosen still reserves all of it there (its Pods may run).
  r = Reservations(w, decisions, rs, true, {}, {"c|apps/deployments/web", "a|apps/deployments/api", "c|x/y/z"});
  CHECK(r.at("c") == Resources{{"cpu", 600}});
  CHECK(r.at("a").at("cpu") + r.at("b").at("cpu") == 1600);  // chosen clusters: their share, counted once
  CHECK(Reservations(
            w, decisions, rs, false,
            {"a|apps/deployments/api", "a|apps/deployments/web", "b|apps/deployments/api", "b|apps/deployments/web"})
            .empty());
}

TEST_CASE("the reservation book: others' reservations add up, and freeing one says so") {
  ReservationBook book;
  CHECK_FALSE(book.Set("ws", "ns/p1", {{"a", {{"cpu", 1000}}}}));
  CHECK_FALSE(book.Set("ws", "ns/p2", {{"a", {{"cpu", 500}}}, {"b", {{"cpu", 100}}}}));
  CHECK_FALSE(book.Set("other", "ns/p3", {{"a", {{"cpu", 7000}}}}));  // another workspace never counts
  CHECK(book.Others("ws", "ns/p1") == std::map<std::string, Resources>{{"a", {{"cpu", 500}}}, {"b", {{"cpu", 100}}}});
  CHECK(book.Others("ws", "ns/p9") == std::map<std::string, Resources>{{"a", {{"cpu", 1500}}}, {"b", {{"cpu", 100}}}});
  CHECK(book.Of("ws", "ns/p2").size() == 2);
  CHECK_FALSE(book.Set("ws", "ns/p1", {{"a", {{"cpu", 1200}}}}));  // grew
  CHECK(book.Set("ws", "ns/p1", {{"a", {{"cpu", 200}}}}));         // shrank
  CHECK(book.Set("ws", "ns/p2", {}));                              // went away
  CHECK(book.Others("ws", "ns/p1").empty());
}

ScheduleOptions Advanced(const PlacementDemand* d, std::map<std::string, Resources> reserved = {}) {
  ScheduleOptions o{true, {}};
  o.demand = d;
  o.reserved = std::move(reserved);
  return o;
}

TEST_CASE("schedule: a cluster that cannot hold the copy takes no new placement; none: InsufficientCapacity") {
  const std::vector<v1::ClusterRegistration> clusters = {Cluster("a", "4", "1"), Cluster("b", "4", "3")};
  auto p = testing::WebPlacement("Spread", 1);
  const auto demand = Combine({{"apps/deployments/web", {4, {{"cpu", 500}}, true}}}, false);  // 2 cpu a copy
  auto r = Schedule(p, "id", clusters, Advanced(&demand));
  CHECK(Chosen(r) == std::vector<std::string>{"b"});
  const auto& a = VerdictOf(r, "a");
  REQUIRE(a.rejected.size() == 1);
  CHECK(a.rejected[0] == "insufficient capacity: short of cpu 1 (needs cpu 2, free cpu 1, memory 32Gi)");
  CHECK(a.shortfall == Resources{{"cpu", 1000}});
  CHECK(a.fits == 0);
  CHECK(VerdictOf(r, "b").fits == 1);
  CHECK(r.condition_reason == "Scheduled");

  // Another placement reserved 1.5 cpu of b: nothing fits now, and the message says by how much.
  r = Schedule(p, "id", clusters, Advanced(&demand, {{"b", {{"cpu", 1500}}}}));
  CHECK(r.decisions.empty());
  CHECK(r.condition_status == "False");
  CHECK(r.condition_reason == "InsufficientCapacity");
  CHECK(r.condition_message.find("b insufficient capacity: short of cpu 500m") != std::string::npos);
  CHECK(r.condition_message.find("cpu 1500m reserved by other placements") != std::string::npos);

  // A cluster the placement already uses keeps it (as with cordon): capacity only stops new copies.
  p.status.decisions.push_back({"b", "eu", std::nullopt, 0, "Spread", std::nullopt});
  r = Schedule(p, "id", clusters, Advanced(&demand, {{"b", {{"cpu", 1500}}}}));
  CHECK(Chosen(r) == std::vector<std::string>{"b"});
  CHECK(r.condition_reason == "Scheduled");
}

TEST_CASE("schedule: short of clusters because of capacity is InsufficientCapacity, not InsufficientClusters") {
  const std::vector<v1::ClusterRegistration> clusters = {Cluster("a", "4", "1"), Cluster("b", "4", "3")};
  const auto demand = Combine({{"apps/deployments/web", {1, {{"cpu", 2000}}, true}}}, false);
  auto r = Schedule(testing::WebPlacement("LeastLoaded", 2), "id", clusters, Advanced(&demand));
  CHECK(Chosen(r) == std::vector<std::string>{"b"});
  CHECK(r.condition_reason == "InsufficientCapacity");
  // RoundRobin under the gate filters by capacity too once the demand is known.
  r = Schedule(testing::WebPlacement("RoundRobin", 2), "id", clusters, Advanced(&demand));
  CHECK(Chosen(r) == std::vector<std::string>{"b"});
  CHECK(r.condition_reason == "InsufficientCapacity");
}

TEST_CASE("schedule: Divided needs one largest pod per new cluster, and Dynamic weighs by pods that fit") {
  const std::vector<v1::ClusterRegistration> clusters = {Cluster("a", "4", "1"), Cluster("b", "8", "3"),
                                                         Cluster("c", "4", "200m")};
  auto p = testing::WebPlacement("Spread", std::nullopt);
  p.spec.replica_scheduling.type = "Divided";
  p.spec.replica_scheduling.weighting = "Dynamic";
  const auto demand = Combine({{"apps/deployments/web", {10, {{"cpu", 500}}, true}}}, true);
  const auto r = Schedule(p, "id", clusters, Advanced(&demand));
  CHECK(Chosen(r) == std::vector<std::string>{"a", "b"});  // c cannot hold one 500m pod
  CHECK(r.decisions[0].weight == 2);                       // 1 cpu / 500m
  CHECK(r.decisions[1].weight == 6);                       // 3 cpu / 500m
  CHECK(VerdictOf(r, "c").shortfall == Resources{{"cpu", 300}});
}

TEST_CASE("schedule: without a known demand a cluster with nothing free (after reservations) takes nothing new") {
  const std::vector<v1::ClusterRegistration> clusters = {Cluster("a", "4", "1"), Cluster("b", "4", "3")};
  auto r = Schedule(testing::WebPlacement("Spread", 2), "id", clusters, Advanced(nullptr, {{"a", {{"cpu", 1000}}}}));
  CHECK(Chosen(r) == std::vector<std::string>{"b"});
  CHECK(VerdictOf(r, "a").rejected == std::vector<std::string>{"no free cpu; cpu 1 reserved by other placements"});
  CHECK(r.condition_reason == "InsufficientCapacity");
}

TEST_CASE("property: placements decided back to back with reservations never overcommit a cluster") {
  std::mt19937 rng(20261201);
  const std::vector<std::string> strategies = {"Spread", "LeastLoaded", "Binpack", "RoundRobin", "LocationAware"};
  for (int round = 0; round < 300; ++round) {
    std::vector<v1::ClusterRegistration> clusters;
    const int n = 1 + static_cast<int>(rng() % 6);
    for (int i = 0; i < n; ++i) {
      const int cores = static_cast<int>(rng() % 17);
      const int free_milli = cores == 0 ? 0 : static_cast<int>(rng() % static_cast<unsigned>(cores * 1000 + 1));
      clusters.push_back(Cluster("c" + std::to_string(i), std::to_string(cores), std::to_string(free_milli) + "m"));
    }
    std::map<std::string, Resources> reserved;  // what the placements decided so far hold
    const int placements = 1 + static_cast<int>(rng() % 8);
    for (int k = 0; k < placements; ++k) {
      auto p = testing::WebPlacement(strategies[rng() % strategies.size()], static_cast<int32_t>(1 + rng() % 2));
      p.metadata.name = "p" + std::to_string(k);
      const int64_t pod = 100 * static_cast<int64_t>(1 + rng() % 20);  // 100m .. 2 cores
      const auto demand =
          Combine({{"apps/deployments/w", {static_cast<int32_t>(1 + rng() % 3), {{"cpu", pod}}}}}, false);
      const auto r =
          Schedule(p, "id" + std::to_string(round) + "/" + std::to_string(k), clusters, Advanced(&demand, reserved));
      CHECK(Chosen(Schedule(p, "id" + std::to_string(round) + "/" + std::to_string(k), clusters,
                            Advanced(&demand, reserved))) == Chosen(r));  // deterministic
      for (const auto& d : r.decisions) Add(reserved[d.cluster_name], demand.per_copy);
      if (r.decisions.empty()) CHECK(r.condition_reason == "InsufficientCapacity");
    }
    for (const auto& c : clusters) {
      const auto offered = Free(c, {});
      if (offered.count("cpu") == 0) continue;  // reports no cpu: no limit known, anything may go there
      const int64_t free = offered.at("cpu");
      const auto held = reserved.find(c.metadata.name);
      const int64_t used = held == reserved.end() ? 0 : held->second.at("cpu");
      CHECK_MESSAGE(used <= std::max<int64_t>(free, 0), c.metadata.name << " overcommitted in round " << round);
    }
  }
}

}  // namespace
}  // namespace tmcd::engine
