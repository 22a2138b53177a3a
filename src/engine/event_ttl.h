#pragma once
// Event expiry (docs/observability.md#events): kube-apiserver keeps an Event for --event-ttl (1 h) after its
// last write, by an etcd lease; tmcd's store has no leases, so this controller deletes each core/v1 Event
// of the local store once `ttl` has passed since its last observation (lastTimestamp, else firstTimestamp,
// eventTime or creationTimestamp, whichever is latest). Every write requeues the event; a reconcile either
// deletes it (with the revision it read as precondition, so a concurrent update wins) or asks to be called
// again when it expires. In kcp mode the events tmcd writes live in kcp, which expires them itself; the
// local store then holds none.
// Thread-safe: Reconcile runs on the controller's worker.

#include <chrono>
#include <string>

#include "common/clock.h"
#include "engine/controller.h"
#include "store/store.h"

namespace tmcd::engine {

class EventExpiry {
 public:
  EventExpiry(store::Store& store, const Clock& clock, std::chrono::milliseconds ttl)
      : store_(store), clock_(clock), ttl_(ttl) {}
  // Adds the controller ("event-ttl") and its source (every Event of every workspace) to `m`.
  void Register(Manager& m);
  // `key` is "<workspace>|<namespace>/<name>".
  Result<ReconcileResult> Reconcile(const std::string& key);
  // When an Event (its JSON) expires: its latest time field plus the TTL.
  Clock::TimePoint ExpiresAt(const std::string& json) const;

 private:
  store::Store& store_;
  const Clock& clock_;
  const std::chrono::milliseconds ttl_;
  Controller* controller_ = nullptr;
};

}  // namespace tmcd::engine
