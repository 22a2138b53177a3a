#include "engine/placement_divide.h"

#include <algorithm>

#include "apis/meta/selector.h"

namespace tmcd::engine {

int64_t DivisionWeight(const v1::ReplicaScheduling& rs, const v1::ClusterRegistration& c) {
  if (rs.weighting == "Dynamic") {
    const auto cpu = c.status.available.find("cpu");
    return cpu == c.status.available.end() ? 0 : std::max<int64_t>(cpu->second.MilliValue(), 0);
  }
  if (rs.weights.empty()) return 1;
  for (const auto& w : rs.weights) {
    const auto& names = w.cluster_names;
    if (std::find(names.begin(), names.end(), c.metadata.name) != names.end()) return w.weight;
    if (w.label_selector) {
      auto s = apis::Selector::FromLabelSelector(*w.label_selector);
      if (s.ok() && s->Matches(c.metadata.labels)) return w.weight;
    }
  }
  return 0;
}

namespace {

// Hamilton's method with floors (DivideReplicas without a ceiling).
std::map<std::string, int32_t> Apportion(int64_t total, const std::map<std::string, int64_t>& weights,
                                         int32_t min_per_cluster) {
  std::map<std::string, int32_t> out;
  if (weights.empty()) return out;
  const auto n = static_cast<int64_t>(weights.size());
  const int64_t floor = std::min<int64_t>(std::max(min_per_cluster, 0), std::max<int64_t>(total, 0) / n);
  int64_t rest = std::max<int64_t>(total, 0) - floor * n;
  int64_t sum = 0;
  for (const auto& [name, w] : weights) sum += std::max<int64_t>(w, 0);
  std::vector<std::pair<int64_t, std::string>> remainders;  // (−remainder, name): largest first, then by name
  const int64_t left = rest;
  for (const auto& [name, w] : weights) {
    const int64_t weight = sum == 0 ? 1 : std::max<int64_t>(w, 0);
    const int64_t denominator = sum == 0 ? n : sum;
    // left × weight fits in 64 bits: replicas ≤ 2^31, weights ≤ a cluster's millicores.
    const int64_t share = left * weight / denominator;
    out[name] = static_cast<int32_t>(floor + share);
    rest -= share;
    remainders.emplace_back(-(left * weight % denominator), name);
  }
  std::sort(remainders.begin(), remainders.end());
  for (size_t i = 0; rest > 0 && i < remainders.size(); ++i, --rest) ++out[remainders[i].second];
  return out;
}

}  // namespace

std::map<std::string, int32_t> DivideReplicas(int32_t total, const std::map<std::string, int64_t>& weights,
                                              int32_t min_per_cluster, std::optional<int32_t> max_per_cluster) {
  if (!max_per_cluster) return Apportion(total, weights, min_per_cluster);
  // A ceiling: clusters whose share would pass it get it, and the others divide what is left by the
  // same rule, until no share passes (at most one round per cluster).
  const int32_t cap = std::max(*max_per_cluster, 0);
  std::map<std::string, int64_t> open = weights;
  std::map<std::string, int32_t> out;
  int64_t left = std::max<int64_t>(total, 0);
  while (!open.empty()) {
    std::map<std::string, int32_t> shares = Apportion(left, open, std::min(min_per_cluster, cap));
    bool capped = false;
    for (const auto& [name, share] : shares) {
      if (share <= cap) continue;
      out[name] = cap;
      left -= cap;
      open.erase(name);
      capped = true;
    }
    if (!capped) {
      out.merge(shares);
      break;
    }
  }
  return out;
}

}  // namespace tmcd::engine
