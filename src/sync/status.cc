#include "sync/status.h"

#include <algorithm>
#include <map>

namespace tmcd::sync {
namespace {

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

struct Verdict {
  std::string status, reason, message;
};

// Every cluster True → True; else False if any cluster is False, else Unknown; the first False
// cluster (else the first Unknown one) explains it.
Verdict AllTrue(const std::vector<CopyStatus>& copies, const std::string& t) {
  Verdict v{"True", "AllClusters", t + " on all " + std::to_string(copies.size()) + " clusters"};
  std::string culprit;
  for (const auto& c : copies) {
    const Json* cond = FindCondition(c.status, t);
    const std::string s = cond != nullptr ? cond->value("status", "Unknown") : "Unknown";
    if (s == "True") continue;
    if (v.status != "False") v.status = s;  // False wins over Unknown
    if (!culprit.empty() && !(s == "False" && culprit != "False")) continue;
    culprit = s;
    v.reason = cond != nullptr ? cond->value("reason", "") : "NotReported";
    v.message = c.cluster + ": " + (cond != nullptr ? cond->value("message", "") : "condition not reported yet");
  }
  return v;
}

// Some cluster True → True (the first one explains it); else False when every cluster says False,
// else Unknown.
Verdict AnyTrue(const std::vector<CopyStatus>& copies, const std::string& t) {
  bool all_false = true;
  for (const auto& c : copies) {
    const Json* cond = FindCondition(c.status, t);
    const std::string s = cond != nullptr ? cond->value("status", "Unknown") : "Unknown";
    if (s == "True") return {"True", cond->value("reason", ""), c.cluster + ": " + cond->value("message", "")};
    all_false = all_false && s == "False";
  }
  if (all_false) return {"False", "NoCluster", t + " on none of " + std::to_string(copies.size()) + " clusters"};
  return {"Unknown", "NotReported", t + " not reported by every cluster yet"};
}

Json CombineConditions(const std::vector<CopyStatus>& copies, const std::vector<std::string>& any_types,
                       const Json& previous, const std::string& now) {
  std::vector<std::string> types;
  for (const auto& c : copies) {
    for (const auto& cond : c.status.value("conditions", Json::array())) {
      const std::string t = cond.value("type", "");
      if (!t.empty() && std::find(types.begin(), types.end(), t) == types.end()) types.push_back(t);
    }
  }
  // By type, not by which cluster listed what first: the same copies always give the same list,
  // so a cluster reordering its conditions writes nothing upstream (docs/status.md).
  std::sort(types.begin(), types.end());
  Json out = Json::array();
  for (const auto& t : types) {
    const bool any = std::find(any_types.begin(), any_types.end(), t) != any_types.end();
    const Verdict v = any ? AnyTrue(copies, t) : AllTrue(copies, t);
    const Json* before = FindCondition(previous, t);
    const bool same = before != nullptr && before->value("status", "") == v.status;
    const std::string since = same ? before->value("lastTransitionTime", now) : now;
    out.push_back({{"type", t},
                   {"status", v.status},
                   {"reason", v.reason},
                   {"message", v.message},
                   {"lastUpdateTime", since},
                   {"lastTransitionTime", since}});
  }
  return out;
}

bool Numeric(Aggregation op) {
  return op == Aggregation::kReplicas || op == Aggregation::kShortfall || op == Aggregation::kSum ||
         op == Aggregation::kMin || op == Aggregation::kMax;
}

Json CombineNumbers(Aggregation op, const std::vector<const Json*>& values, bool divided) {
  if (op == Aggregation::kReplicas) op = divided ? Aggregation::kSum : Aggregation::kMin;
  if (op == Aggregation::kShortfall) op = divided ? Aggregation::kSum : Aggregation::kMax;
  int64_t v = op == Aggregation::kMin ? INT64_MAX : 0;
  for (const Json* x : values) {
    const int64_t n = x != nullptr && x->is_number_integer() ? x->get<int64_t>() : 0;  // absent counts as 0
    v = op == Aggregation::kSum ? v + n : op == Aggregation::kMin ? std::min(v, n) : std::max(v, n);
  }
  return v == 0 ? Json() : Json(v);  // zero counters are omitted, as Kubernetes' omitempty does
}

// `values` has one entry per copy, nullptr where that copy does not report the field.
Json Combine(Aggregation op, const std::vector<const Json*>& values, bool divided) {
  if (Numeric(op)) return CombineNumbers(op, values, divided);
  std::vector<const Json*> present;
  for (const Json* x : values) {
    if (x != nullptr && !x->is_null()) present.push_back(x);
  }
  if (present.empty()) return Json();
  switch (op) {
    case Aggregation::kAll:
    case Aggregation::kAny: {
      bool all = present.size() == values.size(), any = false;
      for (const Json* x : present) {
        const bool b = x->is_boolean() && x->get<bool>();
        all = all && b;
        any = any || b;
      }
      return op == Aggregation::kAll ? all : any;
    }
    case Aggregation::kUnion: {
      Json out = Json::array();
      for (const Json* x : present) {
        for (const auto& e : x->is_array() ? *x : Json::array({*x})) {
          if (std::find(out.begin(), out.end(), e) == out.end()) out.push_back(e);
        }
      }
      return out;
    }
    case Aggregation::kLatestOfAll:
      if (present.size() != values.size()) return Json();
      [[fallthrough]];
    case Aggregation::kLatest:
    case Aggregation::kEarliest: {  // RFC 3339 in UTC ("Z") orders as text
      const Json* best = present.front();
      for (const Json* x : present) {
        if (!x->is_string() || !best->is_string()) continue;
        const bool later = x->get<std::string>() > best->get<std::string>();
        if (op == Aggregation::kEarliest ? !later && *x != *best : later) best = x;
      }
      return *best;
    }
    case Aggregation::kUnanimous:
      if (present.size() != values.size()) return Json();
      for (const Json* x : present) {
        if (*x != *present.front()) return Json();
      }
      return *present.front();
    default:
      return Json();
  }
}

}  // namespace

Json AggregateStatus(const KindRules& rules, const std::vector<CopyStatus>& copies, int64_t generation, bool divided,
                     const Json& previous, const std::string& now) {
  Json out = Json::object();
  if (copies.empty()) return out;
  for (const auto& f : rules.status) {
    std::vector<const Json*> values;
    values.reserve(copies.size());
    for (const auto& c : copies) values.push_back(f.path.Find(c.status));
    Json v = Combine(f.op, values, divided);
    if (!v.is_null()) f.path.Set(out, std::move(v));
  }
  bool all_current = true;
  bool reported = rules.observed_generation;
  for (const auto& c : copies) {
    all_current = all_current && c.current;
    reported = reported || c.status.contains("observedGeneration");
  }
  if (reported) {
    const int64_t observed = all_current ? generation : previous.value("observedGeneration", int64_t{0});
    if (observed != 0) out["observedGeneration"] = observed;
  }
  Json conditions = CombineConditions(copies, rules.any_conditions, previous, now);
  if (!conditions.empty()) out["conditions"] = conditions;
  return out;
}

std::string ClusterStatusAnnotation(const KindRules& rules, const std::vector<CopyStatus>& copies) {
  Json out = Json::object();
  for (const auto& c : copies) {
    Json e = {{"phase", c.phase}, {"current", c.current}, {"healthy", c.healthy}};
    for (const auto& f : rules.status) {
      const Json* v = f.path.Find(c.status);
      if (v != nullptr) {
        f.path.Set(e, *v);
      } else if (Numeric(f.op)) {
        f.path.Set(e, 0);
      }
    }
    if (!c.last_error.empty()) e["error"] = c.last_error;
    out[c.cluster] = e;
  }
  return out.dump();
}

}  // namespace tmcd::sync
