#pragma once
// The event recorder (docs/observability.md#events): controllers report transitions an operator cares
// about as core/v1 Events on the object concerned, written where the object lives (the local store in
// embedded mode, the tenant workspace in kcp mode, through upstream::Upstream). Like client-go's
// recorder:
//  - Record() never blocks a reconcile: it queues (bounded; a full queue drops and counts);
//  - a repeat of the same event (same object, type, reason and message) within the cache's memory
//    updates the first one's count and lastTimestamp instead of creating another Event;
//  - a per-object token bucket (burst 25, one more every 5 minutes, kube's spam filter) caps what a
//    flapping object can write;
//  - events of cluster-scoped objects go to namespace "default".
// A write that fails is retried once, then dropped and counted; the first failure of a workspace (a
// kcp binding that did not accept the events claim) is logged, repeats are only counted.
// Thread-safe: Record from any thread; one writer thread.

#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <list>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "apis/meta/condition.h"
#include "common/clock.h"
#include "upstream/upstream.h"

namespace tmcd::engine {

// What an event is about (its involvedObject), and where it lives.
struct InvolvedObject {
  std::string workspace;    // embedded: the workspace; kcp: the logical cluster
  std::string api_version;  // "apps/v1", "tmc.kcp.io/v1alpha1"
  std::string kind;
  std::string namespace_;  // "" for cluster-scoped objects
  std::string name;
  std::string uid;
  std::string resource_version;
};

enum class EventType { kNormal, kWarning };

struct EventRecorderOptions {
  std::string component = "tmcd";  // source.component, reportingComponent
  std::string host;                // source.host, reportingInstance ("" = gethostname)
  size_t queue_capacity = 1000;    // client-go's broadcaster queue
  size_t cache_size = 4096;        // recent events remembered for counting repeats (client-go's LRU)
  double burst = 25;               // per-object spam filter
  std::chrono::seconds refill{300};
  std::chrono::milliseconds retry_delay{1000};
};

class EventRecorder {
 public:
  EventRecorder(upstream::Upstream& upstream, const Clock& clock, prometheus::Registry& registry,
                EventRecorderOptions options = {});
  ~EventRecorder();
  EventRecorder(const EventRecorder&) = delete;
  EventRecorder& operator=(const EventRecorder&) = delete;

  void Start();
  // Writes nothing more; what is still queued is dropped (counted as "stopped").
  void Stop();
  // Queues one event (message cut to 1 KiB). Never blocks on I/O.
  void Record(const InvolvedObject& obj, EventType type, std::string reason, std::string message);
  // Records an event when condition `type` changed between `before` and `after` (status or reason):
  // `good` is the status that makes it Normal (else Warning); the reason is `good_reason` when the
  // condition turned good, else the condition's own reason. Returns whether it recorded one.
  bool RecordTransition(const InvolvedObject& obj, const std::vector<apis::Condition>& before,
                        const std::vector<apis::Condition>& after, const std::string& type, const std::string& good,
                        const std::string& good_reason);
  // Waits until everything queued before the call was written or dropped (tests, shutdown).
  void Flush();

 private:
  struct Item {
    InvolvedObject obj;
    EventType type;
    std::string reason;
    std::string message;
    Clock::TimePoint at;
  };
  struct Seen {  // a written event, for counting repeats
    std::string name;
    std::string ns;
    int64_t count = 0;
    std::list<std::string>::iterator lru;
  };
  void Run();
  void Write(const Item& item);
  bool Allowed(const Item& item);  // the spam filter
  Status WriteOnce(const Item& item, const std::string& key);
  void Remember(const std::string& key, Seen seen);

  upstream::Upstream& upstream_;
  const Clock& clock_;
  const EventRecorderOptions options_;
  std::string host_;
  prometheus::Family<prometheus::Counter>& recorded_;
  prometheus::Family<prometheus::Counter>& written_;
  prometheus::Family<prometheus::Counter>& dropped_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Item> queue_;  // guarded by mu_
  uint64_t queued_ = 0;     // items ever queued; guarded by mu_
  uint64_t done_ = 0;       // items written or dropped; guarded by mu_
  bool stop_ = false;       // guarded by mu_
  bool started_ = false;
  std::thread thread_;

  // The writer thread's own state.
  std::unordered_map<std::string, Seen> seen_;
  std::list<std::string> lru_;  // most recent first
  struct Bucket {
    double tokens;
    Clock::TimePoint at;
  };
  std::unordered_map<std::string, Bucket> buckets_;
  std::set<std::string> failing_workspaces_;
  int64_t last_nanos_ = 0;  // the last Event name's time
};

}  // namespace tmcd::engine
