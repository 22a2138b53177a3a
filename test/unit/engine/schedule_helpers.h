#pragma once
// What the placement tests share: a Ready cluster, the placement "shop/web" and what they read from a
// ScheduleResult (the chosen cluster names and one cluster's verdict).

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "apis/tmc/v1alpha1/register.h"
#include "engine/placement_schedule.h"

namespace tmcd::engine::testing {

// A Ready registration that accepts Deployments.
inline v1::ClusterRegistration ReadyCluster(const std::string& name, const std::string& location) {
  v1::ClusterRegistration c;
  c.metadata.name = name;
  c.spec.location = location;
  apis::Condition ready;
  ready.type = std::string(v1::kConditionReady);
  ready.status = "True";
  c.status.conditions.push_back(ready);
  c.status.synced_resources.push_back({"apps", "deployments", {"v1"}, "Accepted"});
  return c;
}

// The placement shop/web selecting app=web, with a strategy and numberOfClusters.
inline v1::WorkloadPlacement WebPlacement(const std::string& strategy, std::optional<int32_t> n) {
  auto p = v1::DecodeStored<v1::WorkloadPlacement>(
      R"({"apiVersion":"tmc.kcp.io/v1alpha1","kind":"WorkloadPlacement","metadata":{"name":"web","namespace":"shop"},
          "spec":{"workloadSelector":{"labelSelector":{"matchLabels":{"app":"web"}}}}})");
  REQUIRE(p.ok());
  p->spec.strategy = strategy;
  p->spec.number_of_clusters = n;
  return *p;
}

inline std::vector<std::string> Chosen(const ScheduleResult& r) {
  std::vector<std::string> out;
  out.reserve(r.decisions.size());
  for (const auto& d : r.decisions) out.push_back(d.cluster_name);
  return out;
}

inline const ClusterVerdict& VerdictOf(const ScheduleResult& r, const std::string& name) {
  for (const auto& v : r.verdicts) {
    if (v.cluster == name) return v;
  }
  FAIL("no verdict for " << name);
  return r.verdicts.front();
}

}  // namespace tmcd::engine::testing
