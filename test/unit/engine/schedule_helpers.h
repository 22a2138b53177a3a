#pragma once
// What the placement tests read from a ScheduleResult: the chosen cluster names and one cluster's verdict.

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "engine/placement_schedule.h"

namespace tmcd::engine::testing {

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
