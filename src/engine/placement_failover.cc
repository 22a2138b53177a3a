#include "engine/placement_failover.h"

#include <algorithm>
#include <set>

#include "apis/meta/condition.h"

namespace tmcd::engine {
namespace {

TimePoint ToTimePoint(const apis::Time& t) {
  return TimePoint(std::chrono::seconds(t.seconds));
}

std::string Stamp(TimePoint t) {
  return apis::Time::FromTimePoint(t).ToString();
}

std::string Describe(const v1::Taint& t) {
  return t.key + (t.value.empty() ? "" : "=" + t.value) + ":" + t.effect;
}

struct TimedTaint {
  v1::Taint taint;
  TimePoint since;
  std::string what;  // "NotReady (reason)" or "tainted k=v:NoExecute"
};

std::vector<TimedTaint> NoExecuteTaints(const v1::ClusterRegistration& c, TimePoint now, const TaintClock& clock,
                                        bool& ready) {
  std::vector<TimedTaint> out;
  const apis::Condition* r = apis::FindCondition(c.status.conditions, v1::kConditionReady);
  ready = r != nullptr && r->status == "True";
  if (r != nullptr && !ready) {
    v1::Taint t{std::string(v1::kNotReadyTaint), "", "NoExecute", {}};
    TimePoint since = r->last_transition_time.set ? ToTimePoint(r->last_transition_time) : now;
    if (!r->last_transition_time.set && clock) since = clock(c.metadata.name, t);
    out.push_back({t, since, "NotReady (" + r->reason + ") since " + Stamp(since)});
  }
  for (const auto& t : c.spec.taints) {
    if (t.effect != "NoExecute") continue;
    TimePoint since = t.time_added.set ? ToTimePoint(t.time_added) : (clock ? clock(c.metadata.name, t) : now);
    out.push_back({t, since, "tainted " + Describe(t) + " since " + Stamp(since)});
  }
  return out;
}

}  // namespace

bool Tolerates(const v1::Toleration& t, const v1::Taint& taint) {
  if (!t.effect.empty() && t.effect != taint.effect) return false;
  if (t.op == "Exists") return t.key.empty() || t.key == taint.key;
  return t.key == taint.key && t.value == taint.value;
}

std::optional<Tolerance> NoExecuteTolerance(const v1::ClusterRegistration& c,
                                            const std::vector<v1::Toleration>& tolerations, TimePoint now,
                                            const TaintClock& taint_time) {
  Tolerance out;
  const auto taints = NoExecuteTaints(c, now, taint_time, out.ready);
  if (taints.empty()) return std::nullopt;
  for (const auto& t : taints) {
    bool matched = false, forever = false;
    int64_t seconds = INT64_MAX;
    for (const auto& tol : tolerations) {
      if (!Tolerates(tol, t.taint)) continue;
      matched = true;
      if (!tol.toleration_seconds) {
        forever = true;
        break;
      }
      seconds = std::min(seconds, std::max<int64_t>(0, *tol.toleration_seconds));
    }
    const bool not_ready = t.taint.key == v1::kNotReadyTaint;
    if (forever) {
      if (out.message.empty()) out.message = t.what + ", tolerated";
      continue;
    }
    const TimePoint deadline = matched ? t.since + std::chrono::seconds(std::min<int64_t>(seconds, 1LL << 40)) : now;
    if (!matched || deadline <= now) {
      out.evict = true;
      out.until.reset();
      out.reason = not_ready ? "ClusterNotReady" : "NoExecuteTaint";
      out.message =
          t.what + (matched ? ", beyond its tolerationSeconds (" + std::to_string(seconds) + ")" : ", not tolerated");
      return out;
    }
    if (!out.until || deadline < *out.until) {
      out.until = deadline;
      out.message = t.what + ", tolerated until " + Stamp(deadline);
    }
  }
  return out;
}

std::vector<v1::ClusterEviction> UpdateEvictions(
    const std::vector<v1::ClusterEviction>& before,
    const std::map<std::string, std::pair<std::string, std::string>>& evicted,
    const std::vector<v1::ClusterDecision>& decisions, const std::vector<std::string>& clusters,
    const EvictionProgress& progress, TimePoint now, std::chrono::milliseconds grace,
    std::vector<std::string>& finished) {
  std::set<std::string> chosen;
  for (const auto& d : decisions) chosen.insert(d.cluster_name);
  const std::set<std::string> exist(clusters.begin(), clusters.end());
  const bool replaced = std::all_of(decisions.begin(), decisions.end(), [&](const v1::ClusterDecision& d) {
    auto it = progress.ready_on.find(d.cluster_name);
    return (it == progress.ready_on.end() ? 0 : it->second) >= progress.selected;
  });
  std::vector<v1::ClusterEviction> out;
  auto add = [&](v1::ClusterEviction e) {
    const std::string& c = e.cluster_name;
    if (chosen.count(c) != 0) return finished.push_back(c + ": chosen again, its copies stay");
    if (exist.count(c) == 0) return finished.push_back(c + ": cluster gone");
    if (replaced) return finished.push_back(c + ": every chosen cluster holds a Ready copy, its copies go");
    if (ToTimePoint(e.start_time) + grace <= now) {
      return finished.push_back(c + ": grace period ended before the new copies were Ready, its copies go");
    }
    out.push_back(std::move(e));
  };
  for (const auto& e : before) add(e);
  for (const auto& entry : evicted) {
    const std::string& cluster = entry.first;
    const bool known = std::any_of(before.begin(), before.end(),
                                   [&](const v1::ClusterEviction& e) { return e.cluster_name == cluster; });
    if (!known) add({cluster, entry.second.first, entry.second.second, apis::Time::FromTimePoint(now)});
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.cluster_name < b.cluster_name; });
  return out;
}

void FailoverBudget::Expire(std::deque<std::pair<TimePoint, std::string>>& moves, TimePoint now) const {
  while (!moves.empty() && moves.front().first + interval_ <= now) moves.pop_front();
}

bool FailoverBudget::Take(const std::string& workspace, const std::string& move, TimePoint now) {
  if (max_ == 0) return true;
  std::lock_guard<std::mutex> lock(mu_);
  auto& moves = moves_[workspace];
  Expire(moves, now);
  for (const auto& m : moves) {
    if (m.second == move) return true;  // the same move, retried
  }
  if (moves.size() >= max_) return false;
  moves.emplace_back(now, move);
  return true;
}

TimePoint FailoverBudget::NextFree(const std::string& workspace, TimePoint now) {
  if (max_ == 0) return now;
  std::lock_guard<std::mutex> lock(mu_);
  auto& moves = moves_[workspace];
  Expire(moves, now);
  return moves.size() < max_ ? now : moves.front().first + interval_;
}

}  // namespace tmcd::engine
