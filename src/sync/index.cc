#include "sync/index.h"

namespace tmcd::sync {

bool WorkloadIndex::SetPlacement(const std::string& ws, const std::string& ns, const std::string& name,
                                 std::set<std::string> kinds, const std::string& fingerprint) {
  std::lock_guard<std::mutex> lock(mu_);
  const std::string in = ws + "|" + ns;
  auto& in_ns = selects_[in];
  if (kinds.empty()) {
    in_ns.erase(name);
  } else {
    in_ns[name] = std::move(kinds);
  }
  if (in_ns.empty()) selects_.erase(in);
  const std::string pk = in + "/" + name;
  auto [it, fresh] = placement_seen_.try_emplace(pk, fingerprint);
  if (!fresh && it->second == fingerprint) return false;
  it->second = fingerprint;
  if (fingerprint.empty()) placement_seen_.erase(it);
  return true;
}

bool WorkloadIndex::Selected(const std::string& ws, const std::string& ns, const std::string& group_resource) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = selects_.find(ws + "|" + ns);
  if (it == selects_.end()) return false;
  for (const auto& [placement, kinds] : it->second) {
    if (kinds.count(group_resource) != 0) return true;
  }
  return false;
}

void WorkloadIndex::SetDependencies(const std::string& key, const std::string& ws, const std::string& ns,
                                    const std::vector<std::string>& deps) {
  std::set<std::string> now;
  for (const auto& d : deps) now.insert(ws + "|" + ns + "|" + d);
  std::lock_guard<std::mutex> lock(mu_);
  auto& before = deps_of_[key];
  for (const auto& d : before) {
    if (now.count(d) != 0) continue;
    auto it = by_dependency_.find(d);
    if (it == by_dependency_.end()) continue;
    it->second.erase(key);
    if (it->second.empty()) by_dependency_.erase(it);
  }
  for (const auto& d : now) by_dependency_[d].insert(key);
  before = std::move(now);
  if (before.empty()) deps_of_.erase(key);
}

std::set<std::string> WorkloadIndex::Dependents(const std::string& ws, const std::string& ns,
                                                const std::string& dep) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = by_dependency_.find(ws + "|" + ns + "|" + dep);
  return it == by_dependency_.end() ? std::set<std::string>() : it->second;
}

}  // namespace tmcd::sync
