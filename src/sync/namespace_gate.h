#pragma once
// Orders the writes into one downstream namespace against the decisions that remove things from it
// (docs/sync.md, "Namespaces and shared dependencies"). Copies into a namespace enter shared: any
// number at once. Pruning a dependency other copies may share, and deleting the namespace with its
// last copy, enter exclusive: each first re-reads the records (which every copy writes before it
// enters) and then acts, so no copy can slip in between the look and the delete. A waiting exclusive
// entry holds back new shared ones, so a steady stream of copies cannot starve a deletion.
// Thread-safe. One gate per cluster connection (Downstream); namespaces are independent.

#include <condition_variable>
#include <map>
#include <mutex>
#include <string>

namespace tmcd::sync {

class NamespaceGate {
 public:
  // Held until destroyed (movable, not copyable).
  class Entry {
   public:
    Entry(Entry&& o) noexcept : gate_(o.gate_), ns_(std::move(o.ns_)), exclusive_(o.exclusive_) { o.gate_ = nullptr; }
    Entry& operator=(Entry&&) = delete;
    Entry(const Entry&) = delete;
    Entry& operator=(const Entry&) = delete;
    ~Entry();

   private:
    friend class NamespaceGate;
    Entry(NamespaceGate* gate, std::string ns, bool exclusive)
        : gate_(gate), ns_(std::move(ns)), exclusive_(exclusive) {}
    NamespaceGate* gate_;
    std::string ns_;
    bool exclusive_;
  };

  Entry Shared(const std::string& ns);
  Entry Exclusive(const std::string& ns);
  // Namespaces with an entry held or waiting (for tests: the map does not grow with every namespace seen).
  size_t Tracked() const;

 private:
  struct State {
    int shared = 0;
    bool exclusive = false;
    int exclusive_waiting = 0;
  };
  void Leave(const std::string& ns, bool exclusive);

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, State> states_;  // only namespaces with an entry held or waiting; guarded by mu_
};

}  // namespace tmcd::sync
