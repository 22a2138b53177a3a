#pragma once
// What requeues a workload, held apart from the reconcile (docs/design/architecture.md §6): which kinds the
// placements of each namespace select, a fingerprint of what each placement's targets depend on, and which
// workloads depend on which objects of their namespace. Its own lock, no I/O: the syncer's sources ask it
// and its reconciles feed it. Thread-safe.

#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace tmcd::sync {

class WorkloadIndex {
 public:
  // A placement (ws, ns, name) changed: the kinds it selects ("resource.group"; empty when it is gone) and a
  // fingerprint of what its targets depend on ("" when it is gone). True when that fingerprint changed, so
  // the namespace's workloads must be looked at again.
  bool SetPlacement(const std::string& ws, const std::string& ns, const std::string& name, std::set<std::string> kinds,
                    const std::string& fingerprint);
  // Whether some placement of (ws, ns) selects the kind ("resource.group").
  bool Selected(const std::string& ws, const std::string& ns, const std::string& group_resource) const;
  // Replaces the dependencies (Dependency::String()) in (ws, ns) that workload `key` is requeued by.
  void SetDependencies(const std::string& key, const std::string& ws, const std::string& ns,
                       const std::vector<std::string>& deps);
  // The workloads that depend on `dep` in (ws, ns).
  std::set<std::string> Dependents(const std::string& ws, const std::string& ns, const std::string& dep) const;
  // Drops everything known about a workload.
  void Forget(const std::string& key) { SetDependencies(key, "", "", {}); }

 private:
  mutable std::mutex mu_;
  // "ws|ns" → placement name → the kinds it selects
  std::map<std::string, std::map<std::string, std::set<std::string>>> selects_;
  std::map<std::string, std::string> placement_seen_;           // "ws|ns/name" → fingerprint
  std::map<std::string, std::set<std::string>> by_dependency_;  // "ws|ns|dep" → workload keys
  std::map<std::string, std::set<std::string>> deps_of_;        // workload key → its by_dependency_ keys
};

}  // namespace tmcd::sync
