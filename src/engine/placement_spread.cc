#include "engine/placement_spread.h"

#include <algorithm>
#include <limits>

#include "common/strings.h"

namespace tmcd::engine {
namespace {

// The running counts of a greedy choice: chosen clusters per group, per constraint.
class Tally {
 public:
  Tally(const std::vector<v1::SpreadConstraint>& constraints, const std::vector<std::vector<std::string>>& groups)
      : constraints_(constraints), groups_(groups), counts_(constraints.size()), feasible_(constraints.size()) {
    for (const auto& g : groups) {
      for (size_t k = 0; k < constraints.size(); ++k) {
        counts_[k].emplace(g[k], 0);
        ++feasible_[k][g[k]];
      }
    }
    mins_.assign(constraints.size(), 0);
  }

  size_t Count(size_t k, const std::string& group) const { return counts_[k].at(group); }
  size_t Used(size_t k) const {
    return static_cast<size_t>(
        std::count_if(counts_[k].begin(), counts_[k].end(), [](const auto& e) { return e.second > 0; }));
  }
  size_t Groups(size_t k) const { return counts_[k].size(); }

  // The first constraint that taking candidate i would break, as (index, why); index == size() when none.
  std::pair<size_t, std::string> Blocked(size_t i) const {
    for (size_t k = 0; k < constraints_.size(); ++k) {
      const auto& g = groups_[i][k];
      const size_t max_skew = static_cast<size_t>(std::max(constraints_[k].max_skew, 1));
      if (Count(k, g) + 1 - mins_[k] > max_skew) {
        return {k, constraints_[k].topology_key + " " + g + " would exceed maxSkew " + std::to_string(max_skew)};
      }
    }
    return {constraints_.size(), ""};
  }

  void Take(size_t i) {
    for (size_t k = 0; k < constraints_.size(); ++k) {
      ++counts_[k][groups_[i][k]];
      size_t m = std::numeric_limits<size_t>::max();
      for (const auto& [g, n] : counts_[k]) m = std::min(m, n);
      mins_[k] = m;
    }
  }

  SpreadOutcome Outcome(size_t k) const {
    const auto& c = constraints_[k];
    SpreadOutcome o{c.topology_key, std::max(c.max_skew, 1), c.min_groups, counts_[k], feasible_[k], 0, true};
    if (!counts_[k].empty()) {
      const auto [lo, hi] = std::minmax_element(counts_[k].begin(), counts_[k].end(),
                                                [](const auto& a, const auto& b) { return a.second < b.second; });
      o.skew = static_cast<int64_t>(hi->second - lo->second);
    }
    o.satisfied = o.skew <= o.max_skew && Used(k) >= static_cast<size_t>(std::max(c.min_groups, 0));
    return o;
  }

 private:
  const std::vector<v1::SpreadConstraint>& constraints_;
  const std::vector<std::vector<std::string>>& groups_;
  std::vector<std::map<std::string, size_t>> counts_;  // every group with a candidate, even at 0
  std::vector<std::map<std::string, size_t>> feasible_;
  std::vector<size_t> mins_;
};

// Phase one: for each constraint, the best candidate of an unused group until minGroups are used;
// "" when met, else why not.
std::string MeetMinGroups(const std::vector<v1::SpreadConstraint>& constraints,
                          const std::vector<std::vector<std::string>>& groups, size_t wanted, Tally& tally,
                          std::vector<bool>& taken, std::vector<size_t>& chosen) {
  for (size_t k = 0; k < constraints.size(); ++k) {
    const auto& c = constraints[k];
    const auto min_groups = static_cast<size_t>(std::max(c.min_groups, 0));
    const std::string head = "spreadConstraints " + c.topology_key + ": minGroups " + std::to_string(min_groups);
    if (min_groups > wanted) return head + " is more than the " + std::to_string(wanted) + " clusters wanted";
    for (size_t used = tally.Used(k); used < min_groups; ++used) {
      size_t pick = groups.size();
      for (size_t i = 0; i < groups.size() && pick == groups.size(); ++i) {
        if (!taken[i] && tally.Count(k, groups[i][k]) == 0 && tally.Blocked(i).second.empty()) pick = i;
      }
      if (pick == groups.size()) {
        return head + " cannot be met: " + std::to_string(tally.Groups(k)) + " group(s) have a feasible cluster";
      }
      tally.Take(pick);
      taken[pick] = true;
      chosen.push_back(pick);
    }
  }
  return "";
}

}  // namespace

std::optional<std::string> TopologyValue(const v1::ClusterRegistration& c, const std::string& key) {
  std::string v;
  if (key == "location") {
    v = c.spec.location;
  } else if (key == "zone") {
    v = c.spec.zone;
  } else if (key == "provider") {
    v = c.spec.provider;
  } else if (StartsWith(key, "label:")) {
    const auto it = c.metadata.labels.find(key.substr(6));
    if (it != c.metadata.labels.end()) v = it->second;
  }
  if (v.empty()) return std::nullopt;
  return v;
}

SpreadChoice ChooseSpread(const std::vector<v1::SpreadConstraint>& constraints,
                          const std::vector<std::vector<std::string>>& groups, const std::vector<bool>& kept,
                          size_t wanted, bool explicit_wanted) {
  SpreadChoice out;
  Tally tally(constraints, groups);
  std::vector<bool> taken(groups.size(), false);
  out.message = MeetMinGroups(constraints, groups, wanted, tally, taken, out.chosen);
  if (!out.message.empty()) {
    out.unsatisfiable = true;  // what the placement already uses stays, nothing new is chosen
    out.chosen.clear();
    Tally stays(constraints, groups);
    for (size_t i = 0; i < groups.size(); ++i) {
      if (i < kept.size() && kept[i]) {
        stays.Take(i);
        out.chosen.push_back(i);
      }
    }
    for (size_t k = 0; k < constraints.size(); ++k) out.outcomes.push_back(stays.Outcome(k));
    return out;
  }
  size_t first = 0;  // every candidate before it is taken
  while (out.chosen.size() < wanted) {
    while (first < groups.size() && taken[first]) ++first;
    size_t pick = groups.size();
    for (size_t i = first; i < groups.size() && pick == groups.size(); ++i) {
      if (!taken[i] && tally.Blocked(i).second.empty()) pick = i;
    }
    if (pick == groups.size()) break;
    tally.Take(pick);
    taken[pick] = true;
    out.chosen.push_back(pick);
  }
  size_t limiting = constraints.size();
  for (size_t i = 0; i < groups.size(); ++i) {
    if (taken[i]) continue;
    auto [k, why] = tally.Blocked(i);
    if (why.empty()) continue;
    if (limiting == constraints.size()) limiting = k;
    out.left.emplace(i, std::move(why));
  }
  for (size_t k = 0; k < constraints.size(); ++k) out.outcomes.push_back(tally.Outcome(k));
  if (explicit_wanted && out.chosen.size() < wanted && limiting < constraints.size()) {
    const auto& c = constraints[limiting];
    out.message = "spreadConstraints " + c.topology_key + ": maxSkew " + std::to_string(std::max(c.max_skew, 1)) +
                  " allows only " + std::to_string(out.chosen.size()) + " of the " + std::to_string(wanted) +
                  " clusters wanted";
  }
  return out;
}

}  // namespace tmcd::engine
