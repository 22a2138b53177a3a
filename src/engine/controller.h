#pragma once
// Controller runtime (docs/design/architecture.md §5): a Controller is a WorkQueue, a reconcile function and N
// worker threads; the Manager starts its controllers once the upstream has synced and stops them
// (draining in-flight work) in reverse order. Reconcile functions are level-based and idempotent:
// they read the current state for a key, never the event that queued it. An error requeues the key
// with backoff (and is counted and logged once per transition to failing); success forgets the
// key's failures; a result may ask to be called again after a delay (periodic work, e.g. probes).
// Metrics per controller: tmcd_workqueue_{depth,lanes,delayed,adds_total,retries_total,
// work_duration_seconds,longest_running_processor_seconds} and tmcd_reconcile_errors_total.
// Thread-safe: Start/Stop from the owner's thread; workers call reconcile concurrently for
// different keys (never for the same key).

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"
#include "engine/source.h"
#include "engine/workqueue.h"

namespace tmcd::engine {

struct ReconcileResult {
  std::chrono::milliseconds requeue_after{0};  // > 0: reconcile this key again after this delay
};
using ReconcileFn = std::function<Result<ReconcileResult>(const std::string& key)>;

class Controller {
 public:
  Controller(std::string name, const Clock& clock, ReconcileFn reconcile, int workers, QueueOptions queue = {});
  ~Controller();
  Controller(const Controller&) = delete;
  Controller& operator=(const Controller&) = delete;

  const std::string& name() const { return name_; }
  WorkQueue& queue() { return queue_; }
  // Registers this controller's metrics (before Start).
  void RegisterMetrics(prometheus::Registry& registry);
  // Workers take no key until `ready()` returns true or `max_wait` has passed since Start (what a
  // client-go controller gets from WaitForCacheSync): keys queued meanwhile wait in the queue, where
  // repeats of a key merge. Before Start.
  void HoldUntil(std::function<bool()> ready, std::chrono::milliseconds max_wait);
  void Start();
  // Stops handing out keys, waits for running reconciles, joins the workers.
  void Stop();
  // Reads the queue into the gauges and counters; safe from any thread (the manager's loop, a scrape).
  void UpdateMetrics();

 private:
  void Work();
  // Returns once the hold is over (true) or the controller stops (false).
  bool AwaitHold();
  void ProcessOne(const std::string& key, QueuedTrace trace);

  const std::string name_;
  ReconcileFn reconcile_;
  const int workers_;
  WorkQueue queue_;
  std::vector<std::thread> threads_;
  std::function<bool()> hold_ready_;  // set before Start
  std::chrono::milliseconds hold_max_{0};
  std::mutex hold_mu_;
  std::condition_variable hold_cv_;
  bool holding_ = false;                              // guarded by hold_mu_
  bool hold_stop_ = false;                            // guarded by hold_mu_
  std::chrono::steady_clock::time_point hold_until_;  // guarded by hold_mu_
  std::mutex failing_mu_;
  std::set<std::string> failing_;  // keys whose last reconcile failed (log once per transition)
  prometheus::Gauge* depth_ = nullptr;
  prometheus::Gauge* longest_ = nullptr;
  prometheus::Gauge* lanes_ = nullptr;
  prometheus::Gauge* waiting_ = nullptr;
  prometheus::Counter* adds_ = nullptr;
  prometheus::Counter* retries_ = nullptr;
  prometheus::Counter* errors_ = nullptr;
  prometheus::Histogram* duration_ = nullptr;
  std::mutex metrics_mu_;
  uint64_t adds_seen_ = 0, retries_seen_ = 0;  // UpdateMetrics' last reading; guarded by metrics_mu_
};

// Owns the controllers. Start() returns at once; a thread waits until `not_ready()` returns ""
// (the upstream's initial sync) and then starts every controller, then refreshes queue metrics
// every second; a scrape of /metrics refreshes them first too (UpdateMetrics), so a reader never sees
// a queue as it was up to a second ago.
class Manager {
 public:
  Manager(prometheus::Registry& registry, std::function<std::string()> not_ready);
  ~Manager();
  Controller& Add(std::unique_ptr<Controller> c);
  // Called after the controllers started (event sources begin feeding the queues here).
  void OnStarted(std::function<void()> f) { on_started_.push_back(std::move(f)); }
  // Started after the controllers, stopped before them; every source of one store shares one
  // StoreInformer (one list + watch, one key decode per event).
  void AddSource(std::unique_ptr<StoreSource> s) { sources_.push_back(std::move(s)); }
  // Events the informers decoded so far (tmcd_controller_store_events_decoded_total).
  uint64_t EventsDecoded() const;
  // True once every store informer has handed its first list to the sources: each object that was
  // in the store when the controllers started has reached its handlers.
  bool SourcesListed() const;
  void Start();
  void Stop();
  bool Running() const { return running_.load(); }
  // Refreshes every controller's queue metrics and the decoded-events counter; any thread.
  void UpdateMetrics();

 private:
  void StartInformers();
  prometheus::Registry& registry_;
  std::function<std::string()> not_ready_;
  std::vector<std::unique_ptr<Controller>> controllers_;
  std::vector<std::function<void()>> on_started_;
  std::vector<std::unique_ptr<StoreSource>> sources_;
  std::vector<std::unique_ptr<StoreInformer>> informers_;  // one per store; built by Start
  std::atomic<bool> informers_started_{false};             // informers_ is complete
  prometheus::Counter* decoded_ = nullptr;
  std::mutex metrics_mu_;
  uint64_t decoded_seen_ = 0;  // UpdateMetrics' last reading; guarded by metrics_mu_
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;  // guarded by mu_
  std::atomic<bool> running_{false};
};

}  // namespace tmcd::engine
