#include "engine/placement_capacity.h"

#include <algorithm>

#include "apis/meta/quantity.h"
#include "engine/placement_divide.h"

namespace tmcd::engine {
namespace {

constexpr const char* kCompared[] = {"cpu", "memory"};

Resources Requests(const nlohmann::json& container) {
  Resources out;
  if (!container.is_object()) return out;
  const auto res = container.find("resources");
  if (res == container.end() || !res->is_object()) return out;
  const auto req = res->find("requests");
  if (req == res->end() || !req->is_object()) return out;
  for (const char* r : kCompared) {
    const auto q = req->find(r);
    if (q == req->end() || !q->is_string()) continue;
    auto parsed = apis::Quantity::Parse(q->get<std::string>());
    if (parsed.ok() && !parsed->IsNegative()) out[r] = parsed->MilliValue();
  }
  return out;
}

const nlohmann::json* Array(const nlohmann::json& spec, const char* key) {
  const auto it = spec.find(key);
  return it != spec.end() && it->is_array() ? &*it : nullptr;
}

std::string Amount(const std::string& resource, int64_t milli) {
  if (resource == "memory" && milli % 1000 == 0) {
    int64_t bytes = milli / 1000;
    for (const char* unit : {"", "Ki", "Mi", "Gi", "Ti"}) {
      if (bytes % 1024 != 0 || bytes == 0 || std::string_view(unit) == "Ti") return std::to_string(bytes) + unit;
      bytes /= 1024;
    }
  }
  return apis::Quantity::FromMilli(milli).str();
}

}  // namespace

void Add(Resources& into, const Resources& r, int64_t times) {
  for (const auto& [k, v] : r) into[k] += v * times;
}

void Max(Resources& into, const Resources& r) {
  for (const auto& [k, v] : r) into[k] = std::max(into[k], v);
}

std::string Describe(const Resources& r) {
  std::string out;
  for (const auto& [k, v] : r) out += (out.empty() ? "" : ", ") + k + " " + Amount(k, v);
  return out.empty() ? "nothing" : out;
}

Resources PodRequests(const nlohmann::json& pod_spec) {
  Resources total;
  if (!pod_spec.is_object()) return total;
  if (const auto* cs = Array(pod_spec, "containers")) {
    for (const auto& c : *cs) Add(total, Requests(c));
  }
  if (const auto* init = Array(pod_spec, "initContainers")) {
    for (const auto& c : *init) Max(total, Requests(c));  // init containers run one at a time, before
  }
  const auto overhead = pod_spec.find("overhead");
  if (overhead != pod_spec.end() && overhead->is_object()) {
    Add(total, Requests(nlohmann::json{{"resources", {{"requests", *overhead}}}}));
  }
  for (auto it = total.begin(); it != total.end();) it = it->second == 0 ? total.erase(it) : std::next(it);
  return total;
}

PlacementDemand Combine(const std::map<std::string, WorkloadDemand>& workloads, bool divided) {
  PlacementDemand d;
  d.divided = divided;
  for (const auto& [key, w] : workloads) {
    if (w.per_pod.empty()) continue;
    Add(d.per_copy, w.per_pod, std::max(w.replicas, 0));
    Max(d.largest_pod, w.per_pod);
    ++d.workloads;
  }
  return d;
}

std::map<std::string, Resources> Reservations(const std::map<std::string, WorkloadDemand>& workloads,
                                              const std::vector<v1::ClusterDecision>& decisions,
                                              const v1::ReplicaScheduling& rs, bool divided,
                                              const std::set<std::string>& settled,
                                              const std::set<std::string>& recent) {
  std::map<std::string, int64_t> weights;
  for (const auto& d : decisions) weights[d.cluster_name] = d.weight.value_or(0);
  std::map<std::string, Resources> out;
  for (const auto& [key, w] : workloads) {
    if (w.per_pod.empty()) continue;
    const bool split = divided && w.divisible;
    std::map<std::string, int32_t> share;
    if (split) {
      share =
          DivideReplicas(std::max(w.replicas, 0), weights, rs.min_replicas_per_cluster, rs.max_replicas_per_cluster);
    }
    for (const auto& d : decisions) {
      if (settled.count(d.cluster_name + "|" + key) != 0) continue;
      const int32_t pods = split ? share[d.cluster_name] : std::max(w.replicas, 0);
      if (pods > 0) Add(out[d.cluster_name], w.per_pod, pods);
    }
  }
  for (const auto& entry : recent) {  // copies on clusters left, applied lately
    const auto bar = entry.find('|');
    const std::string cluster = entry.substr(0, bar);
    const auto w = workloads.find(entry.substr(bar + 1));
    if (weights.count(cluster) != 0 || w == workloads.end() || w->second.replicas <= 0) continue;
    Add(out[cluster], w->second.per_pod, w->second.replicas);
  }
  return out;
}

Resources Free(const v1::ClusterRegistration& c, const Resources& reserved) {
  Resources out;
  for (const char* r : kCompared) {
    const auto total = c.status.allocatable.find(r);
    if (total == c.status.allocatable.end() || total->second.MilliValue() <= 0) continue;
    const auto avail = c.status.available.find(r);
    const int64_t free = avail == c.status.available.end() ? 0 : avail->second.MilliValue();
    const auto held = reserved.find(r);
    out[r] = free - (held == reserved.end() ? 0 : held->second);
  }
  return out;
}

Resources Shortfall(const Resources& free, const Resources& need) {
  Resources out;
  for (const auto& [r, n] : need) {
    const auto f = free.find(r);
    if (f != free.end() && n > f->second) out[r] = n - std::max<int64_t>(f->second, 0);
  }
  return out;
}

int64_t PodsThatFit(const Resources& free, const Resources& per_pod) {
  int64_t fit = -1;
  for (const auto& [r, n] : per_pod) {
    const auto f = free.find(r);
    if (n <= 0 || f == free.end()) continue;
    const int64_t k = std::max<int64_t>(f->second, 0) / n;
    fit = fit < 0 ? k : std::min(fit, k);
  }
  return fit;
}

bool ReservationBook::Set(const std::string& ws, const std::string& placement,
                          std::map<std::string, Resources> by_cluster) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& mine = book_[ws][placement];
  bool shrank = false;
  for (const auto& [cluster, held] : mine) {
    const auto now = by_cluster.find(cluster);
    for (const auto& [r, v] : held) {
      if (now == by_cluster.end() || Resources(now->second)[r] < v) shrank = true;
    }
  }
  mine = std::move(by_cluster);
  if (mine.empty()) book_[ws].erase(placement);
  return shrank;
}

std::map<std::string, Resources> ReservationBook::Others(const std::string& ws, const std::string& self) const {
  std::map<std::string, Resources> out;
  std::lock_guard<std::mutex> lock(mu_);
  const auto it = book_.find(ws);
  if (it == book_.end()) return out;
  for (const auto& [placement, by_cluster] : it->second) {
    if (placement == self) continue;
    for (const auto& [cluster, held] : by_cluster) Add(out[cluster], held);
  }
  return out;
}

std::map<std::string, Resources> ReservationBook::Of(const std::string& ws, const std::string& placement) const {
  std::lock_guard<std::mutex> lock(mu_);
  const auto it = book_.find(ws);
  if (it == book_.end()) return {};
  const auto p = it->second.find(placement);
  return p == it->second.end() ? std::map<std::string, Resources>{} : p->second;
}

}  // namespace tmcd::engine
