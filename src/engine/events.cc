#include "engine/events.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>

#include "apis/meta/time.h"

namespace tmcd::engine {
namespace {

constexpr size_t kMaxMessage = 1024;  // events.k8s.io's note limit; core/v1 messages are cut the same way

std::string TypeName(EventType t) {
  return t == EventType::kWarning ? "Warning" : "Normal";
}

std::string Hostname() {
  char buf[256] = {};
  if (gethostname(buf, sizeof(buf) - 1) != 0) return "";
  return buf;
}

// client-go's getEventKey: the fields that make two events "the same" (a repeat is counted).
std::string EventKey(const InvolvedObject& o, EventType type, const std::string& reason, const std::string& message) {
  return fmt::format("{}\x1f{}\x1f{}\x1f{}\x1f{}\x1f{}\x1f{}\x1f{}\x1f{}", o.workspace, o.api_version, o.kind,
                     o.namespace_, o.name, o.uid, TypeName(type), reason, message);
}

upstream::ObjectRef EventRef(const std::string& workspace, const std::string& ns, const std::string& name) {
  return {workspace, "", "v1", "events", ns, name};
}

}  // namespace

EventRecorder::EventRecorder(upstream::Upstream& upstream, const Clock& clock, prometheus::Registry& registry,
                             EventRecorderOptions options)
    : upstream_(upstream),
      clock_(clock),
      options_(std::move(options)),
      host_(options_.host.empty() ? Hostname() : options_.host),
      recorded_(prometheus::BuildCounter()
                    .Name("tmcd_events_recorded_total")
                    .Help("Events reported by tmcd's controllers, by type (Normal, Warning).")
                    .Register(registry)),
      written_(prometheus::BuildCounter()
                   .Name("tmcd_events_written_total")
                   .Help("Event writes: create (a new Event) or update (a repeat counted on an existing one).")
                   .Register(registry)),
      dropped_(prometheus::BuildCounter()
                   .Name("tmcd_events_dropped_total")
                   .Help("Events not written, by reason: queue_full, rate_limited (per-object spam filter), "
                         "write_failed, stopped.")
                   .Register(registry)) {
  for (const char* t : {"Normal", "Warning"}) recorded_.Add({{"type", t}});
  for (const char* op : {"create", "update"}) written_.Add({{"operation", op}});
  for (const char* r : {"queue_full", "rate_limited", "write_failed", "stopped"}) dropped_.Add({{"reason", r}});
}

EventRecorder::~EventRecorder() {
  Stop();
}

void EventRecorder::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (started_) return;
  started_ = true;
  thread_ = std::thread([this] { Run(); });
}

void EventRecorder::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
    if (!queue_.empty()) dropped_.Add({{"reason", "stopped"}}).Increment(static_cast<double>(queue_.size()));
    done_ += queue_.size();
    queue_.clear();
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void EventRecorder::Record(const InvolvedObject& obj, EventType type, std::string reason, std::string message) {
  if (message.size() > kMaxMessage) message.resize(kMaxMessage);
  recorded_.Add({{"type", TypeName(type)}}).Increment();
  spdlog::debug("event {} {} {} {}/{} in {}: {}", TypeName(type), reason, obj.kind, obj.namespace_, obj.name,
                obj.workspace, message);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_) return;
    if (queue_.size() >= options_.queue_capacity) {
      dropped_.Add({{"reason", "queue_full"}}).Increment();
      return;
    }
    queue_.push_back({obj, type, std::move(reason), std::move(message), clock_.Now()});
    ++queued_;
  }
  cv_.notify_all();
}

bool EventRecorder::RecordTransition(const InvolvedObject& obj, const std::vector<apis::Condition>& before,
                                     const std::vector<apis::Condition>& after, const std::string& type,
                                     const std::string& good, const std::string& good_reason) {
  const apis::Condition* was = apis::FindCondition(before, type);
  const apis::Condition* now = apis::FindCondition(after, type);
  if (now == nullptr || (was != nullptr && was->status == now->status && was->reason == now->reason)) return false;
  const bool is_good = now->status == good;
  Record(obj, is_good ? EventType::kNormal : EventType::kWarning, is_good ? good_reason : now->reason, now->message);
  return true;
}

void EventRecorder::Flush() {
  std::unique_lock<std::mutex> lock(mu_);
  const uint64_t target = queued_;
  cv_.wait(lock, [&] { return done_ >= target || (stop_ && queue_.empty()); });
}

void EventRecorder::Run() {
  while (true) {
    Item item;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
      if (stop_) return;
      item = std::move(queue_.front());
      queue_.pop_front();
    }
    Write(item);
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++done_;
    }
    cv_.notify_all();
  }
}

bool EventRecorder::Allowed(const Item& item) {
  // kube's EventSourceObjectSpamFilter: one bucket per (source, involved object).
  const std::string key = item.obj.workspace + "\x1f" + item.obj.kind + "\x1f" + item.obj.namespace_ + "\x1f" +
                          item.obj.name + "\x1f" + item.obj.uid;
  auto [it, fresh] = buckets_.try_emplace(key, Bucket{options_.burst, item.at});
  Bucket& b = it->second;
  if (!fresh) {
    const double elapsed = std::chrono::duration<double>(item.at - b.at).count();
    const double per_second = 1.0 / static_cast<double>(std::max<int64_t>(options_.refill.count(), 1));
    b.tokens = std::min(options_.burst, b.tokens + std::max(elapsed, 0.0) * per_second);
    b.at = std::max(b.at, item.at);
  }
  if (buckets_.size() > options_.cache_size * 4) {  // forget full buckets: they are as good as new
    for (auto i = buckets_.begin(); i != buckets_.end();) {
      i = i->second.tokens >= options_.burst && i->first != key ? buckets_.erase(i) : std::next(i);
    }
  }
  if (b.tokens < 1) return false;
  b.tokens -= 1;
  return true;
}

void EventRecorder::Write(const Item& item) {
  if (!Allowed(item)) {
    dropped_.Add({{"reason", "rate_limited"}}).Increment();
    return;
  }
  const std::string key = EventKey(item.obj, item.type, item.reason, item.message);
  Status s = WriteOnce(item, key);
  if (!s.ok() && s.reason() != Reason::kForbidden && s.reason() != Reason::kInvalid) {
    std::unique_lock<std::mutex> lock(mu_);
    if (!cv_.wait_for(lock, options_.retry_delay, [&] { return stop_; })) {
      lock.unlock();
      s = WriteOnce(item, key);
    }
  }
  if (s.ok()) {
    failing_workspaces_.erase(item.obj.workspace);
    return;
  }
  dropped_.Add({{"reason", "write_failed"}}).Increment();
  if (failing_workspaces_.insert(item.obj.workspace).second) {
    spdlog::warn(
        "events: cannot write events in {} ({}); further failures there are only counted in "
        "tmcd_events_dropped_total{{reason=\"write_failed\"}}",
        item.obj.workspace, s.message());
  }
}

Status EventRecorder::WriteOnce(const Item& item, const std::string& key) {
  const std::string now = apis::Time::FromTimePoint(item.at).ToString();
  const std::string ns = item.obj.namespace_.empty() ? "default" : item.obj.namespace_;
  if (auto it = seen_.find(key); it != seen_.end()) {
    Seen& seen = it->second;
    const nlohmann::json patch = {{"count", seen.count + 1}, {"lastTimestamp", now}};
    auto r = upstream_.MergePatch(EventRef(item.obj.workspace, seen.ns, seen.name), patch);
    if (r.ok()) {
      ++seen.count;
      lru_.splice(lru_.begin(), lru_, seen.lru);
      written_.Add({{"operation", "update"}}).Increment();
      return Status::Ok();
    }
    if (r.status().reason() != Reason::kNotFound) return r.status();
    lru_.erase(seen.lru);  // expired or deleted: a new Event starts the count again
    seen_.erase(it);
  }
  // client-go names an Event <object>.<UnixNano hex>; kept strictly increasing so that two events of
  // one object in the same clock tick do not collide.
  const auto nanos = std::max<int64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(item.at.time_since_epoch()).count(), last_nanos_ + 1);
  last_nanos_ = nanos;
  const std::string name = fmt::format("{}.{:x}", item.obj.name, nanos);
  nlohmann::json involved = {{"apiVersion", item.obj.api_version}, {"kind", item.obj.kind}, {"name", item.obj.name}};
  if (!item.obj.namespace_.empty()) involved["namespace"] = item.obj.namespace_;
  if (!item.obj.uid.empty()) involved["uid"] = item.obj.uid;
  if (!item.obj.resource_version.empty()) involved["resourceVersion"] = item.obj.resource_version;
  const nlohmann::json event = {
      {"apiVersion", "v1"},
      {"kind", "Event"},
      {"metadata", {{"name", name}, {"namespace", ns}}},
      {"involvedObject", involved},
      {"reason", item.reason},
      {"message", item.message},
      {"type", TypeName(item.type)},
      {"source", {{"component", options_.component}, {"host", host_}}},
      {"reportingComponent", options_.component},
      {"reportingInstance", host_},
      {"firstTimestamp", now},
      {"lastTimestamp", now},
      {"count", 1},
  };
  auto r = upstream_.Create(EventRef(item.obj.workspace, ns, name), event);
  if (!r.ok()) return r.status();
  written_.Add({{"operation", "create"}}).Increment();
  Remember(key, Seen{name, ns, 1, {}});
  return Status::Ok();
}

void EventRecorder::Remember(const std::string& key, Seen seen) {
  lru_.push_front(key);
  seen.lru = lru_.begin();
  seen_[key] = std::move(seen);
  while (lru_.size() > options_.cache_size) {
    seen_.erase(lru_.back());
    lru_.pop_back();
  }
}

}  // namespace tmcd::engine
