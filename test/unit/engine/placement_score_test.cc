// Advanced placement's scoring on tables of clusters: each plugin, each strategy's weights, ties,
// zero capacity, weights that sum to zero, stickiness through Steady, and properties over random
// tables (deterministic, never a new placement on a full cluster).
#include "engine/placement_score.h"

#include <doctest/doctest.h>

#include <random>

#include "engine/placement_schedule.h"
#include "schedule_helpers.h"

namespace tmcd::engine {
namespace {

using testing::Chosen;
using testing::VerdictOf;

apis::Quantity Q(const std::string& s) {
  auto q = apis::Quantity::Parse(s);
  REQUIRE(q.ok());
  return *q;
}

// A Ready cluster with cpu (cores) and memory (Gi) allocatable and available; negative = not reported.
v1::ClusterRegistration Cluster(const std::string& name, const std::string& location, int cpu, int cpu_free,
                                int mem_gi = -1, int mem_free_gi = -1) {
  auto c = testing::ReadyCluster(name, location);
  if (cpu >= 0) {
    c.status.allocatable["cpu"] = Q(std::to_string(cpu));
    c.status.available["cpu"] = Q(std::to_string(cpu_free));
  }
  if (mem_gi >= 0) {
    c.status.allocatable["memory"] = Q(std::to_string(mem_gi) + "Gi");
    c.status.available["memory"] = Q(std::to_string(mem_free_gi) + "Gi");
  }
  return c;
}

v1::WorkloadPlacement Placement(const std::string& strategy, std::optional<int32_t> n = 1) {
  return testing::WebPlacement(strategy, n);
}

const ScheduleOptions kAdvanced{true, {}};

TEST_CASE("weights: each strategy's defaults, replaced by spec.scoring; 0 disables a plugin") {
  v1::WorkloadPlacementSpec s;
  s.strategy = "Spread";
  CHECK(PlacementWeights(s) == std::map<std::string, int32_t>{{"Balance", 3}, {"Capacity", 1}, {"Steady", 2}});
  s.strategy = "LeastLoaded";
  CHECK(PlacementWeights(s) == std::map<std::string, int32_t>{{"Balance", 1}, {"Capacity", 3}, {"Steady", 2}});
  s.strategy = "Binpack";
  CHECK(PlacementWeights(s) == std::map<std::string, int32_t>{{"Capacity", -3}, {"Steady", 2}});
  s.strategy = "LocationAware";
  CHECK(PlacementWeights(s) == std::map<std::string, int32_t>{{"Capacity", 1}, {"Location", 5}, {"Steady", 2}});
  s.strategy = "RoundRobin";
  CHECK(PlacementWeights(s).empty());
  s.strategy = "Spread";
  s.scoring = {{"Steady", 0}, {"Capacity", -10}};
  CHECK(PlacementWeights(s) == std::map<std::string, int32_t>{{"Balance", 3}, {"Capacity", -10}});
}

TEST_CASE("Capacity: the free share of cpu and memory; unknown and full clusters") {
  CHECK(FreeShare(Cluster("a", "x", 16, 8)) == 50);
  CHECK(FreeShare(Cluster("a", "x", 16, 8, 64, 16)) == 38);  // (50 + 25) / 2, rounded
  CHECK(FreeShare(Cluster("a", "x", -1, 0)) == -1);          // reports nothing
  CHECK(FreeShare(Cluster("a", "x", 0, 0)) == -1);           // zero allocatable: nothing to share
  CHECK(FreeShare(Cluster("a", "x", 4, -2)) == 0);           // overcommitted: clamped
  CHECK(Free(Cluster("a", "x", 16, 8, 64, 0), {}) == Resources{{"cpu", 8000}, {"memory", 0}});
  CHECK(Free(Cluster("a", "x", 16, 0), {}) == Resources{{"cpu", 0}});
  CHECK(Free(Cluster("a", "x", -1, 0), {}).empty());  // reports nothing: no limit known
  CHECK(Free(Cluster("a", "x", 16, 8), {{"cpu", 10000}}) == Resources{{"cpu", -2000}});  // over-reserved
  CHECK(FreeShare(Cluster("a", "x", 16, 8), {{"cpu", 4000}}) == 25);                     // reservations count as used
  const v1::WorkloadPlacementSpec spec;
  auto s = ScoreCluster({{"Capacity", 2}, {"Steady", 1}}, spec, Cluster("a", "x", -1, 0), {true, 0, 0});
  CHECK(s == std::vector<PluginScore>{{"Capacity", 2, 0}, {"Steady", 1, 100}});
  CHECK(TotalScore(s) == 100);
}

TEST_CASE("Balance and Location") {
  v1::WorkloadPlacementSpec spec;
  CHECK(ScoreCluster({{"Balance", 1}}, spec, Cluster("a", "x", -1, 0), {false, 0, 0})[0].score == 100);
  CHECK(ScoreCluster({{"Balance", 1}}, spec, Cluster("a", "x", -1, 0), {false, 1, 4})[0].score == 75);
  CHECK(ScoreCluster({{"Balance", 1}}, spec, Cluster("a", "x", -1, 0), {false, 4, 4})[0].score == 0);
  spec.cluster_selector.locations = {"eu", "us", "ap"};
  CHECK(ScoreCluster({{"Location", 1}}, spec, Cluster("a", "eu", -1, 0), {})[0].score == 100);
  CHECK(ScoreCluster({{"Location", 1}}, spec, Cluster("a", "ap", -1, 0), {})[0].score == 33);
  CHECK(ScoreCluster({{"Location", 1}}, spec, Cluster("a", "mars", -1, 0), {})[0].score == 0);
}

TEST_CASE("strategies choose as documented; explain carries every score") {
  auto c = std::vector{Cluster("big", "x", 64, 48), Cluster("mid", "x", 16, 6), Cluster("small", "x", 8, 1)};
  auto least = Schedule(Placement("LeastLoaded"), "id", c, kAdvanced);
  CHECK(Chosen(least) == std::vector<std::string>{"big"});  // 75 % free
  CHECK(least.strategy == "LeastLoaded");
  CHECK(least.decisions[0].reason == "LeastLoaded");
  CHECK(VerdictOf(least, "big").total == 3 * 75 + 1 * 100);  // Capacity 75, Balance 100 (nobody has any)
  CHECK(least.decisions[0].score == VerdictOf(least, "big").total);
  CHECK(Chosen(Schedule(Placement("Binpack"), "id", c, kAdvanced)) == std::vector<std::string>{"small"});

  ScheduleOptions loaded{true, {{"big", 5}, {"mid", 0}, {"small", 5}}};
  CHECK(Chosen(Schedule(Placement("Spread"), "id", c, loaded)) == std::vector<std::string>{"mid"});

  auto loc = Placement("LocationAware", 2);
  loc.spec.cluster_selector.locations = {"eu", "us"};
  auto by_loc = std::vector{Cluster("a", "us", 8, 8), Cluster("b", "eu", 8, 1), Cluster("c", "us", 8, 4)};
  // eu first however full it is; then the freer of the two us clusters.
  CHECK(Chosen(Schedule(loc, "id", by_loc, kAdvanced)) == std::vector<std::string>{"a", "b"});
  // RoundRobin under the gate is the basic algorithm: no scores.
  auto rr = Schedule(Placement("RoundRobin"), "id", c, kAdvanced);
  CHECK(rr.strategy == "RoundRobin");
  CHECK(VerdictOf(rr, "big").scores.empty());
}

TEST_CASE("a full cluster takes no new placement but keeps the one it has") {
  auto c = std::vector{Cluster("full", "x", 8, 0), Cluster("free", "x", 8, 6)};
  auto p = Placement("Binpack");  // would prefer the fullest
  auto r = Schedule(p, "id", c, kAdvanced);
  CHECK(Chosen(r) == std::vector<std::string>{"free"});
  CHECK(VerdictOf(r, "full").rejected == std::vector<std::string>{"no free cpu"});
  CHECK(VerdictOf(r, "full").new_only);
  p.status.decisions = {v1::ClusterDecision{"full", "x", std::nullopt, 0, ""}};
  CHECK(Chosen(Schedule(p, "id", c, kAdvanced)) == std::vector<std::string>{"full"});
}

TEST_CASE("Steady is the stickiness: a small score change does not move a decision, a large one does") {
  auto p = Placement("LeastLoaded");
  p.status.decisions = {v1::ClusterDecision{"a", "x", std::nullopt, 0, ""}};
  // b is freer (60 vs 50 points of Capacity, weight 3: 30 more) but a has Steady (100 × 2 = 200).
  auto c = std::vector{Cluster("a", "x", 10, 5), Cluster("b", "x", 10, 6)};
  CHECK(Chosen(Schedule(p, "id", c, kAdvanced)) == std::vector<std::string>{"a"});
  CHECK(VerdictOf(Schedule(p, "id", c, kAdvanced), "a").sticky);
  c[0] = Cluster("a", "x", 10, 0, 10, 1);  // a nearly full (5 % free), b at 60 %: 165 more, not enough
  CHECK(Chosen(Schedule(p, "id", c, kAdvanced)) == std::vector<std::string>{"a"});
  c[1] = Cluster("b", "x", 10, 10);  // b entirely free: 3 × 95 = 285 more than a, beyond Steady's 200
  CHECK(Chosen(Schedule(p, "id", c, kAdvanced)) == std::vector<std::string>{"b"});
  p.spec.scoring = {{"Steady", 0}};  // no stickiness: the freer cluster wins at once
  c[0] = Cluster("a", "x", 10, 5);
  CHECK(Chosen(Schedule(p, "id", c, kAdvanced)) == std::vector<std::string>{"b"});
}

TEST_CASE("ties and zero weights follow the round-robin rotation, so equal clusters are shared out") {
  std::vector<v1::ClusterRegistration> c;
  for (const char* n : {"a", "b", "c", "d"}) c.push_back(Cluster(n, "x", 8, 4));
  auto p = Placement("Spread");
  p.spec.scoring = {{"Balance", 0}, {"Capacity", 0}, {"Steady", 0}};  // every weight zero
  std::map<std::string, int> uses;
  for (int i = 0; i < 40; ++i) {
    const std::string id = "root/shop/p" + std::to_string(i);
    auto r = Schedule(p, id, c, kAdvanced);
    REQUIRE(r.decisions.size() == 1);
    CHECK(VerdictOf(r, r.decisions[0].cluster_name).total == 0);
    ++uses[r.decisions[0].cluster_name];
    CHECK(Chosen(Schedule(p, id, c, kAdvanced)) == Chosen(r));
  }
  CHECK(uses.size() == 4);
}

TEST_CASE("properties over random tables: deterministic, as many as wanted, no new placement on a full cluster") {
  std::mt19937 rng(7);
  const char* strategies[] = {"Spread", "Binpack", "LeastLoaded", "LocationAware"};
  for (int round = 0; round < 200; ++round) {
    std::vector<v1::ClusterRegistration> c;
    ScheduleOptions o{true, {}};
    const int n = 1 + static_cast<int>(rng() % 8);
    for (int i = 0; i < n; ++i) {
      const int cpu = static_cast<int>(rng() % 5) * 4;  // 0..16, 0 = no capacity reported usefully
      const int free = cpu == 0 ? 0 : static_cast<int>(rng() % static_cast<unsigned>(cpu + 1));
      c.push_back(Cluster("c" + std::to_string(i), rng() % 2 ? "eu" : "us", cpu, free));
      o.load["c" + std::to_string(i)] = rng() % 4;
    }
    auto p = Placement(strategies[round % 4], static_cast<int32_t>(1 + rng() % 3));
    // LocationAware with no list: Location scores 0 everywhere.
    if (rng() % 2) p.spec.cluster_selector.locations = {"eu", "us"};
    auto r = Schedule(p, "id" + std::to_string(round), c, o);
    CHECK(Chosen(Schedule(p, "id" + std::to_string(round), c, o)) == Chosen(r));
    size_t full = 0;
    auto is_full = [](const v1::ClusterRegistration& cl) {
      const auto f = Free(cl, {});
      return std::any_of(f.begin(), f.end(), [](const auto& kv) { return kv.second <= 0; });
    };
    for (const auto& cl : c) full += is_full(cl) ? 1 : 0;
    CHECK(r.decisions.size() == std::min<size_t>(*p.spec.number_of_clusters, c.size() - full));
    for (const auto& d : r.decisions) {
      const auto& cl =
          *std::find_if(c.begin(), c.end(), [&](const auto& x) { return x.metadata.name == d.cluster_name; });
      CHECK(!is_full(cl));
    }
  }
}

}  // namespace
}  // namespace tmcd::engine
