// Divided replicas: the weights a placement gives its clusters (Static by names and labels, Dynamic by
// free cpu, kept across capacity changes) and the division of a workload's replicas by them (floors,
// remainders, zero weights), with properties over random tables.
#include "engine/placement_divide.h"

#include <doctest/doctest.h>

#include <cmath>
#include <random>

#include "apis/tmc/v1alpha1/register.h"
#include "engine/placement_schedule.h"
#include "schedule_helpers.h"

namespace tmcd::engine {
namespace {

v1::ClusterRegistration Cluster(const std::string& name, const std::string& free_cpu = "") {
  auto c = testing::ReadyCluster(name, "lab");
  if (!free_cpu.empty()) c.status.available["cpu"] = *apis::Quantity::Parse(free_cpu);
  return c;
}

TEST_CASE("division: proportional, remainders to the largest, floors, zero weights") {
  using M = std::map<std::string, int32_t>;
  CHECK(DivideReplicas(10, {{"a", 4000}, {"b", 32000}}, 0) == M{{"a", 1}, {"b", 9}});  // 1.1 and 8.9
  CHECK(DivideReplicas(8, {{"a", 1}, {"b", 3}}, 0) == M{{"a", 2}, {"b", 6}});
  CHECK(DivideReplicas(3, {{"a", 1}, {"b", 1}}, 0) == M{{"a", 2}, {"b", 1}});    // a tie goes by name
  CHECK(DivideReplicas(10, {{"a", 1}, {"b", 99}}, 3) == M{{"a", 3}, {"b", 7}});  // minReplicasPerCluster first
  CHECK(DivideReplicas(3, {{"a", 1}, {"b", 1}, {"c", 1}, {"d", 100}}, 2) == M{{"a", 0}, {"b", 0}, {"c", 0}, {"d", 3}});
  CHECK(DivideReplicas(5, {{"a", 0}, {"b", 0}}, 0) == M{{"a", 3}, {"b", 2}});  // weights summing to 0: even
  CHECK(DivideReplicas(0, {{"a", 1}}, 1) == M{{"a", 0}});
  CHECK(DivideReplicas(-4, {{"a", 1}}, 0) == M{{"a", 0}});
  CHECK(DivideReplicas(7, {}, 0).empty());
}

// 1 to 6 clusters, one in five weighing 0, the others up to 64 cores in millicores.
std::map<std::string, int64_t> RandomWeights(std::mt19937& rng) {
  std::map<std::string, int64_t> w;
  const size_t n = 1 + rng() % 6;
  for (size_t i = 0; i < n; ++i)
    w["c" + std::to_string(i)] = rng() % 5 == 0 ? 0 : static_cast<int64_t>(1 + rng() % 64000);
  return w;
}

TEST_CASE("property: a division sums to the total and each share is within one of its quota") {
  std::mt19937 rng(11);
  for (int round = 0; round < 500; ++round) {
    const auto w = RandomWeights(rng);
    const size_t n = w.size();
    const auto total = static_cast<int32_t>(rng() % 200);
    const auto d = DivideReplicas(total, w, 0);
    CHECK(d == DivideReplicas(total, w, 0));
    int64_t sum = 0, weights = 0;
    for (const auto& [k, v] : w) weights += v;
    for (const auto& [k, v] : d) {
      sum += v;
      const double quota =
          weights == 0 ? static_cast<double>(total) / static_cast<double>(n)
                       : static_cast<double>(total) * static_cast<double>(w.at(k)) / static_cast<double>(weights);
      CHECK(std::fabs(v - quota) < 1.0);
    }
    CHECK(sum == total);
  }
}

TEST_CASE("division with a ceiling: capped shares, the rest re-divided, replicas beyond every ceiling left out") {
  using M = std::map<std::string, int32_t>;
  CHECK(DivideReplicas(10, {{"a", 1}, {"b", 1}, {"c", 8}}, 0, 4) == M{{"a", 3}, {"b", 3}, {"c", 4}});
  CHECK(DivideReplicas(10, {{"a", 1}, {"b", 2}, {"c", 97}}, 0, 5) == M{{"a", 2}, {"b", 3}, {"c", 5}});  // twice
  CHECK(DivideReplicas(20, {{"a", 1}, {"b", 1}, {"c", 1}}, 0, 5) == M{{"a", 5}, {"b", 5}, {"c", 5}});   // 5 not run
  CHECK(DivideReplicas(6, {{"a", 1}, {"b", 99}}, 2, 3) == M{{"a", 3}, {"b", 3}});
  CHECK(DivideReplicas(4, {{"a", 1}, {"b", 3}}, 0, 100) == DivideReplicas(4, {{"a", 1}, {"b", 3}}, 0));
}

TEST_CASE("property: with a ceiling, no share passes it and the shares sum to min(total, clusters x ceiling)") {
  std::mt19937 rng(12);
  for (int round = 0; round < 500; ++round) {
    const auto w = RandomWeights(rng);
    const size_t n = w.size();
    const auto total = static_cast<int32_t>(rng() % 200);
    const auto max = static_cast<int32_t>(1 + rng() % 40);
    const auto min = static_cast<int32_t>(rng() % (max + 1));
    const auto d = DivideReplicas(total, w, min, max);
    CHECK(d == DivideReplicas(total, w, min, max));
    int64_t sum = 0;
    for (const auto& [k, v] : d) {
      CHECK(v <= max);
      CHECK(v >= 0);
      sum += v;
    }
    CHECK(sum == std::min<int64_t>(total, static_cast<int64_t>(n) * max));
  }
}

TEST_CASE("weights: Static by names, then labels, else 0; Dynamic by free cpu in millicores") {
  v1::ReplicaScheduling rs;
  rs.type = "Divided";
  auto a = Cluster("a", "2500m");
  a.metadata.labels["tier"] = "gold";
  CHECK(DivisionWeight(rs, a) == 1);  // Static without weights: equal
  rs.weights = {v1::ClusterWeight{{"b"}, std::nullopt, 7},
                v1::ClusterWeight{{}, apis::LabelSelector{{{"tier", "gold"}}, {}}, 3},
                v1::ClusterWeight{{"a"}, std::nullopt, 5}};
  CHECK(DivisionWeight(rs, a) == 3);  // the first entry that applies
  CHECK(DivisionWeight(rs, Cluster("b")) == 7);
  CHECK(DivisionWeight(rs, Cluster("c")) == 0);
  rs.weighting = "Dynamic";
  CHECK(DivisionWeight(rs, a) == 2500);
  CHECK(DivisionWeight(rs, Cluster("c")) == 0);
}

v1::WorkloadPlacement Divided(const std::string& weighting) {
  auto p = v1::DecodeStored<v1::WorkloadPlacement>(
      R"({"apiVersion":"tmc.kcp.io/v1alpha1","kind":"WorkloadPlacement","metadata":{"name":"web","namespace":"shop"},
          "spec":{"workloadSelector":{"labelSelector":{}},"replicaScheduling":{"type":"Divided"}}})");
  REQUIRE(p.ok());
  p->spec.replica_scheduling.weighting = weighting;
  return *p;
}

TEST_CASE("Schedule: decisions carry weights; Dynamic keeps a kept cluster's; all zero divides evenly") {
  const ScheduleOptions advanced{true, {}};
  auto clusters = std::vector{Cluster("a", "4"), Cluster("b", "32")};
  auto p = Divided("Dynamic");
  auto r = Schedule(p, "root/shop/web", clusters, advanced);
  REQUIRE(r.decisions.size() == 2);
  CHECK(r.decisions[0].weight == 4000);
  CHECK(r.decisions[1].weight == 32000);
  CHECK(r.condition_status == "True");

  p.status.decisions = r.decisions;
  p.metadata.generation = p.status.observed_generation = 1;           // decided on this spec
  clusters[1].status.available["cpu"] = *apis::Quantity::Parse("1");  // busier now: the split stays
  r = Schedule(p, "root/shop/web", clusters, advanced);
  CHECK(r.decisions[1].weight == 32000);
  clusters.push_back(Cluster("c", "8"));  // a new cluster gets today's figure
  r = Schedule(p, "root/shop/web", clusters, advanced);
  REQUIRE(r.decisions.size() == 3);
  CHECK(r.decisions[2].weight == 8000);
  p.metadata.generation = 2;  // a new spec (it may have been Static before): every weight is taken anew
  r = Schedule(p, "root/shop/web", clusters, advanced);
  CHECK(r.decisions[1].weight == 1000);

  auto st = Divided("Static");
  st.spec.replica_scheduling.weights = {v1::ClusterWeight{{"z"}, std::nullopt, 4}};  // names no chosen cluster
  r = Schedule(st, "root/shop/web", clusters, advanced);
  CHECK(r.decisions[0].weight == 1);
  CHECK(r.condition_message.find("replicaScheduling.weights give every chosen cluster 0: replicas divided evenly") !=
        std::string::npos);

  auto off = Schedule(st, "root/shop/web", clusters);  // gate off: refused, nothing decided anew
  CHECK(off.condition_reason == "Unsupported");
  CHECK(off.decisions.empty());
}

}  // namespace
}  // namespace tmcd::engine
