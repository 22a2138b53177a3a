#include "sync/namespace_gate.h"

namespace tmcd::sync {

NamespaceGate::Entry::~Entry() {
  if (gate_ != nullptr) gate_->Leave(ns_, exclusive_);
}

NamespaceGate::Entry NamespaceGate::Shared(const std::string& ns) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] {
    const State& s = states_[ns];
    return !s.exclusive && s.exclusive_waiting == 0;
  });
  ++states_[ns].shared;
  return Entry(this, ns, false);
}

NamespaceGate::Entry NamespaceGate::Exclusive(const std::string& ns) {
  std::unique_lock<std::mutex> lock(mu_);
  ++states_[ns].exclusive_waiting;
  cv_.wait(lock, [&] {
    const State& s = states_[ns];
    return !s.exclusive && s.shared == 0;
  });
  State& s = states_[ns];
  --s.exclusive_waiting;
  s.exclusive = true;
  return Entry(this, ns, true);
}

void NamespaceGate::Leave(const std::string& ns, bool exclusive) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = states_.find(ns);
    if (it == states_.end()) return;
    State& s = it->second;
    if (exclusive) {
      s.exclusive = false;
    } else {
      --s.shared;
    }
    if (s.shared == 0 && !s.exclusive && s.exclusive_waiting == 0) states_.erase(it);
  }
  cv_.notify_all();
}

size_t NamespaceGate::Tracked() const {
  std::lock_guard<std::mutex> lock(mu_);
  return states_.size();
}

}  // namespace tmcd::sync
