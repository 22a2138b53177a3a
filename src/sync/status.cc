#include "sync/status.h"

#include <algorithm>
#include <map>

namespace tmcd::sync {
namespace {

constexpr const char* kCounts[] = {"replicas", "updatedReplicas", "readyReplicas", "availableReplicas"};

// A pointer into `status` itself (never into a copy of its conditions).
const Json* FindCondition(const Json& status, const std::string& type) {
  if (!status.is_object()) return nullptr;
  auto list = status.find("conditions");
  if (list == status.end() || !list->is_array()) return nullptr;
  for (const auto& c : *list) {
    if (c.is_object() && c.value("type", "") == type) return &c;
  }
  return nullptr;
}

Json CombineConditions(const std::vector<CopyStatus>& copies, const Json& previous, const std::string& now) {
  std::vector<std::string> types;
  for (const auto& c : copies) {
    for (const auto& cond : c.status.value("conditions", Json::array())) {
      const std::string t = cond.value("type", "");
      if (!t.empty() && std::find(types.begin(), types.end(), t) == types.end()) types.push_back(t);
    }
  }
  Json out = Json::array();
  for (const auto& t : types) {
    std::string status = "True", reason, message, culprit_status;
    for (const auto& c : copies) {
      const Json* cond = FindCondition(c.status, t);
      const std::string s = cond != nullptr ? cond->value("status", "Unknown") : "Unknown";
      if (s == "True") continue;
      if (status != "False") status = s;  // False wins over Unknown
      if (!culprit_status.empty() && !(s == "False" && culprit_status != "False")) continue;
      culprit_status = s;  // the first False cluster, else the first Unknown one
      reason = cond != nullptr ? cond->value("reason", "") : "NotReported";
      message = c.cluster + ": " + (cond != nullptr ? cond->value("message", "") : "condition not reported yet");
    }
    if (status == "True") {
      reason = "AllClusters";
      message = t + " on all " + std::to_string(copies.size()) + " clusters";
    }
    const Json* before = FindCondition(previous, t);
    const bool same = before != nullptr && before->value("status", "") == status;
    const std::string since = same ? before->value("lastTransitionTime", now) : now;
    out.push_back({{"type", t},
                   {"status", status},
                   {"reason", reason},
                   {"message", message},
                   {"lastUpdateTime", since},
                   {"lastTransitionTime", since}});
  }
  return out;
}

}  // namespace

Json AggregateStatus(const std::vector<CopyStatus>& copies, int64_t generation, bool divided, const Json& previous,
                     const std::string& now) {
  Json out = Json::object();
  if (copies.empty()) return out;
  bool all_current = true;
  for (const auto& c : copies) all_current = all_current && c.current;
  for (const char* k : kCounts) {
    int64_t v = divided ? 0 : INT64_MAX;
    for (const auto& c : copies) {
      const int64_t n = c.status.value(k, int64_t{0});
      v = divided ? v + n : std::min(v, n);
    }
    if (v != 0) out[k] = v;
  }
  int64_t unavailable = 0;
  for (const auto& c : copies) {
    const int64_t n = c.status.value("unavailableReplicas", int64_t{0});
    unavailable = divided ? unavailable + n : std::max(unavailable, n);
  }
  if (unavailable != 0) out["unavailableReplicas"] = unavailable;
  const int64_t observed = all_current ? generation : previous.value("observedGeneration", int64_t{0});
  if (observed != 0) out["observedGeneration"] = observed;
  Json conditions = CombineConditions(copies, previous, now);
  if (!conditions.empty()) out["conditions"] = conditions;
  return out;
}

std::string ClusterStatusAnnotation(const std::vector<CopyStatus>& copies) {
  Json out = Json::object();
  for (const auto& c : copies) {
    Json e = {{"phase", c.phase}, {"current", c.current}};
    for (const char* k : kCounts) e[k] = c.status.value(k, int64_t{0});
    if (!c.last_error.empty()) e["error"] = c.last_error;
    out[c.cluster] = e;
  }
  return out.dump();
}

bool CopyAvailable(const Json& status) {
  const Json* c = FindCondition(status, "Available");
  return c != nullptr && c->value("status", "") == "True";
}

}  // namespace tmcd::sync
