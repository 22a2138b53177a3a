#include "engine/placement_score.h"

#include <algorithm>
#include <cmath>

namespace tmcd::engine {
namespace {

// Default weights per strategy (docs/placement.md#strategies).
std::map<std::string, int32_t> StrategyDefaults(const std::string& strategy) {
  if (strategy == "LeastLoaded") return {{"Capacity", 3}, {"Balance", 1}, {"Steady", 2}};
  if (strategy == "Binpack") return {{"Capacity", -3}, {"Steady", 2}};
  if (strategy == "LocationAware") return {{"Location", 5}, {"Capacity", 1}, {"Steady", 2}};
  if (strategy == "RoundRobin") return {};
  return {{"Balance", 3}, {"Capacity", 1}, {"Steady", 2}};  // Spread, the default
}

int32_t LocationScore(const v1::WorkloadPlacementSpec& spec, const v1::ClusterRegistration& c) {
  const auto& locs = spec.cluster_selector.locations;
  const auto it = std::find(locs.begin(), locs.end(), c.spec.location);
  if (it == locs.end()) return 0;
  const auto n = static_cast<int64_t>(locs.size());
  return static_cast<int32_t>(100 * (n - (it - locs.begin())) / n);
}

}  // namespace

std::map<std::string, int32_t> PlacementWeights(const v1::WorkloadPlacementSpec& spec) {
  auto w = StrategyDefaults(spec.strategy);
  if (spec.strategy == "RoundRobin") return w;
  for (const auto& p : spec.scoring) w[p.plugin] = p.weight;
  for (auto it = w.begin(); it != w.end();) it = it->second == 0 ? w.erase(it) : std::next(it);
  return w;
}

namespace {

int32_t ShareOf(const v1::ClusterRegistration& c, const Resources& free_by_resource) {
  double sum = 0;
  int n = 0;
  for (const auto& [r, free] : free_by_resource) {
    const double total = static_cast<double>(c.status.allocatable.at(r).MilliValue());
    sum += std::clamp(static_cast<double>(free) / total, 0.0, 1.0);
    ++n;
  }
  return n == 0 ? -1 : static_cast<int32_t>(std::lround(100 * sum / n));
}

}  // namespace

int32_t FreeShare(const v1::ClusterRegistration& c, const Resources& reserved) {
  return ShareOf(c, Free(c, reserved));
}

std::vector<PluginScore> ScoreCluster(const std::map<std::string, int32_t>& weights,
                                      const v1::WorkloadPlacementSpec& spec, const v1::ClusterRegistration& c,
                                      const ScoreContext& ctx) {
  std::vector<PluginScore> out;
  out.reserve(weights.size());
  for (const auto& [plugin, weight] : weights) {
    int32_t score = 0;
    if (plugin == "Capacity") {
      const int32_t share = ctx.free != nullptr       ? ShareOf(c, *ctx.free)
                            : ctx.reserved == nullptr ? FreeShare(c)
                                                      : FreeShare(c, *ctx.reserved);
      score = std::max(share, 0);
    } else if (plugin == "Balance") {
      score =
          ctx.max_load == 0
              ? 100
              : static_cast<int32_t>(100 - (100 * static_cast<int64_t>(ctx.load)) / static_cast<int64_t>(ctx.max_load));
    } else if (plugin == "Steady") {
      score = ctx.previous ? 100 : 0;
    } else if (plugin == "Location") {
      score = LocationScore(spec, c);
    }
    out.push_back({plugin, weight, score});
  }
  return out;
}

int64_t TotalScore(const std::vector<PluginScore>& scores) {
  int64_t total = 0;
  for (const auto& s : scores) total += static_cast<int64_t>(s.weight) * s.score;
  return total;
}

}  // namespace tmcd::engine
