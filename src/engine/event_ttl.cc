#include "engine/event_ttl.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "apis/meta/time.h"

namespace tmcd::engine {

void EventExpiry::Register(Manager& m) {
  controller_ = &m.Add(std::make_unique<Controller>(
      "event-ttl", clock_, [this](const std::string& key) { return Reconcile(key); }, 1));
  m.AddSource(
      std::make_unique<StoreSource>(store_, "", "events", [this](const store::ObjectKey& k, const std::string& json) {
        if (!json.empty()) controller_->queue().Add(k.workspace + "|" + k.namespace_ + "/" + k.name);
      }));
}

Clock::TimePoint EventExpiry::ExpiresAt(const std::string& json) const {
  const auto obj = nlohmann::json::parse(json, nullptr, false);
  int64_t latest = 0;
  auto consider = [&](const nlohmann::json* v) {
    if (v == nullptr || !v->is_string()) return;
    if (auto t = apis::Time::Parse(v->get<std::string>()); t.ok()) latest = std::max(latest, t->seconds);
  };
  if (obj.is_object()) {
    for (const char* field : {"lastTimestamp", "firstTimestamp", "eventTime"}) {
      const auto it = obj.find(field);
      consider(it == obj.end() ? nullptr : &*it);
    }
    const auto meta = obj.find("metadata");
    if (meta != obj.end() && meta->is_object()) {
      const auto it = meta->find("creationTimestamp");
      consider(it == meta->end() ? nullptr : &*it);
    }
  }
  return Clock::TimePoint(std::chrono::seconds(latest)) + ttl_;
}

Result<ReconcileResult> EventExpiry::Reconcile(const std::string& key) {
  const size_t bar = key.find('|');
  const size_t slash = key.find('/', bar == std::string::npos ? 0 : bar);
  if (bar == std::string::npos || slash == std::string::npos) return ReconcileResult{};
  const store::ObjectKey k{key.substr(0, bar), "", "events", key.substr(bar + 1, slash - bar - 1),
                           key.substr(slash + 1)};
  auto obj = store_.Get(k);
  if (!obj.ok()) {
    if (obj.status().reason() == Reason::kNotFound) return ReconcileResult{};
    return obj.status();
  }
  const auto left = ExpiresAt(obj->json) - clock_.Now();
  if (left > std::chrono::milliseconds(0)) {
    // At least a second later: a clock a little behind the event's own times costs one more pass, not a spin.
    return ReconcileResult{
        std::max(std::chrono::duration_cast<std::chrono::milliseconds>(left), std::chrono::milliseconds(1000))};
  }
  auto gone = store_.Delete(k, obj->mod_revision);
  if (!gone.ok() && gone.status().reason() != Reason::kNotFound && gone.status().reason() != Reason::kConflict) {
    return gone.status();
  }
  return ReconcileResult{};  // a conflicting write queued the event again
}

}  // namespace tmcd::engine
