#include "engine/controller.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>

#include "observability/logging.h"

namespace tmcd::engine {

Controller::Controller(std::string name, const Clock& clock, ReconcileFn reconcile, int workers, QueueOptions queue)
    : name_(std::move(name)), reconcile_(std::move(reconcile)), workers_(workers), queue_(clock, queue) {}

Controller::~Controller() {
  Stop();
}

void Controller::RegisterMetrics(prometheus::Registry& registry) {
  const std::map<std::string, std::string> labels = {{"controller", name_}};
  depth_ = &prometheus::BuildGauge()
                .Name("tmcd_workqueue_depth")
                .Help("Keys waiting in a controller's queue.")
                .Register(registry)
                .Add(labels);
  longest_ = &prometheus::BuildGauge()
                  .Name("tmcd_workqueue_longest_running_processor_seconds")
                  .Help("How long the oldest key being reconciled has been running.")
                  .Register(registry)
                  .Add(labels);
  lanes_ = &prometheus::BuildGauge()
                .Name("tmcd_workqueue_lanes")
                .Help(
                    "Workspaces with keys waiting in a controller's queue; each is served in turn, so a key waits "
                    "for about this many others, not for the whole depth.")
                .Register(registry)
                .Add(labels);
  waiting_ = &prometheus::BuildGauge()
                  .Name("tmcd_workqueue_delayed")
                  .Help("Keys waiting out a retry backoff or a requeue delay before they join the queue.")
                  .Register(registry)
                  .Add(labels);
  adds_ = &prometheus::BuildCounter()
               .Name("tmcd_workqueue_adds_total")
               .Help("Keys added to a controller's queue (after dedupe).")
               .Register(registry)
               .Add(labels);
  retries_ = &prometheus::BuildCounter()
                  .Name("tmcd_workqueue_retries_total")
                  .Help("Keys requeued with backoff after a failed reconcile.")
                  .Register(registry)
                  .Add(labels);
  errors_ = &prometheus::BuildCounter()
                 .Name("tmcd_reconcile_errors_total")
                 .Help("Failed reconciles.")
                 .Register(registry)
                 .Add(labels);
  duration_ = &prometheus::BuildHistogram()
                   .Name("tmcd_workqueue_work_duration_seconds")
                   .Help("Time one reconcile takes.")
                   .Register(registry)
                   .Add(labels, prometheus::Histogram::BucketBoundaries{0.0001, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1,
                                                                        5, 10, 30});
}

void Controller::UpdateMetrics() {
  if (depth_ == nullptr) return;
  std::lock_guard<std::mutex> lock(metrics_mu_);
  const QueueStats s = queue_.Stats();
  depth_->Set(static_cast<double>(s.depth));
  longest_->Set(s.longest_running.count());
  lanes_->Set(static_cast<double>(s.lanes));
  waiting_->Set(static_cast<double>(s.waiting));
  adds_->Increment(static_cast<double>(s.adds - adds_seen_));
  retries_->Increment(static_cast<double>(s.retries - retries_seen_));
  adds_seen_ = s.adds;
  retries_seen_ = s.retries;
}

void Controller::HoldUntil(std::function<bool()> ready, std::chrono::milliseconds max_wait) {
  hold_ready_ = std::move(ready);
  hold_max_ = max_wait;
}

void Controller::Start() {
  if (hold_ready_) {
    std::lock_guard<std::mutex> lock(hold_mu_);
    holding_ = true;
    hold_until_ = std::chrono::steady_clock::now() + hold_max_;
  }
  for (int i = 0; i < workers_; ++i) threads_.emplace_back([this] { Work(); });
}

bool Controller::AwaitHold() {
  std::unique_lock<std::mutex> lock(hold_mu_);
  const auto began = std::chrono::steady_clock::now();
  while (holding_ && !hold_stop_) {
    if (hold_ready_()) {
      holding_ = false;
      spdlog::info(
          "controller {}: workers start after {} ms", name_,
          std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - began).count());
    } else if (std::chrono::steady_clock::now() >= hold_until_) {
      holding_ = false;
      spdlog::warn("controller {}: workers start without waiting longer ({} ms) for what they wait for", name_,
                   hold_max_.count());
    } else {
      hold_cv_.wait_for(lock, std::chrono::milliseconds(20), [&] { return hold_stop_; });
    }
  }
  hold_cv_.notify_all();
  return !hold_stop_;
}

void Controller::Stop() {
  {
    std::lock_guard<std::mutex> lock(hold_mu_);
    hold_stop_ = true;
  }
  hold_cv_.notify_all();
  queue_.ShutDownWithDrain();
  for (auto& t : threads_) t.join();
  threads_.clear();
}

void Controller::Work() {
  if (!AwaitHold()) return;
  QueuedTrace trace;
  while (auto key = queue_.Get(&trace)) {
    ProcessOne(*key, std::move(trace));
    trace = QueuedTrace{};
    queue_.Done(*key);
  }
}

void Controller::ProcessOne(const std::string& key, QueuedTrace trace) {
  const observability::LogFields log_fields = observability::FieldsFromKey(name_, key);
  const observability::ScopedLogFields fields(log_fields);
  // A child of the change that queued the key (docs/design/tracing.md), or a new trace.
  observability::Span span("reconcile " + name_, observability::SpanKind::kInternal, trace.parent,
                           std::move(trace.links));
  if (span.recording()) {
    span.SetAttribute("tmcd.controller", name_);
    for (const auto& [k, v] :
         {std::pair{"tmcd.workspace", &log_fields.workspace}, std::pair{"tmcd.namespace", &log_fields.namespace_},
          std::pair{"tmcd.name", &log_fields.name}, std::pair{"tmcd.resource", &log_fields.resource}}) {
      if (!v->empty()) span.SetAttribute(k, *v);
    }
  }
  const auto started = std::chrono::steady_clock::now();
  Result<ReconcileResult> r = Status(Reason::kInternalError, "reconcile threw");
  try {
    r = reconcile_(key);
  } catch (const std::exception& e) {  // a bug in a reconcile must not take the daemon down
    r = Internal(std::string("reconcile threw: ") + e.what());
  }
  if (duration_ != nullptr)
    duration_->Observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  bool was_failing = false;
  {
    std::lock_guard<std::mutex> lock(failing_mu_);
    was_failing = failing_.count(key) != 0;
    if (r.ok()) {
      failing_.erase(key);
    } else {
      failing_.insert(key);
    }
  }
  if (!r.ok()) {
    span.SetError(r.status().message());
    if (errors_ != nullptr) errors_->Increment();
    const auto delay = queue_.AddRateLimited(key);
    if (!was_failing)
      spdlog::warn("{}: reconciling {} failed (retrying with backoff): {}", name_, key, r.status().message());
    else
      spdlog::debug("{}: {} still failing, next try in {} ms: {}", name_, key, delay.count(), r.status().message());
    return;
  }
  if (was_failing) spdlog::info("{}: {} reconciles again", name_, key);
  queue_.Forget(key);
  if (r->requeue_after.count() > 0) queue_.AddAfter(key, r->requeue_after);
}

Manager::Manager(prometheus::Registry& registry, std::function<std::string()> not_ready)
    : registry_(registry),
      not_ready_(std::move(not_ready)),
      decoded_(&prometheus::BuildCounter()
                    .Name("tmcd_controller_store_events_decoded_total")
                    .Help("Store events (and listed objects) whose key the controllers' shared informer decoded.")
                    .Register(registry)
                    .Add({})) {}

Manager::~Manager() {
  Stop();
}

Controller& Manager::Add(std::unique_ptr<Controller> c) {
  c->RegisterMetrics(registry_);
  controllers_.push_back(std::move(c));
  return *controllers_.back();
}

void Manager::Start() {
  thread_ = std::thread([this] {
    std::string last;
    while (true) {
      std::string why = not_ready_();
      if (why.empty()) break;
      if (why != last) spdlog::info("controllers wait for the upstream: {}", why);
      last = why;
      std::unique_lock<std::mutex> lock(mu_);
      if (cv_.wait_for(lock, std::chrono::milliseconds(200), [&] { return stop_; })) return;
    }
    for (auto& c : controllers_) c->Start();
    running_ = true;
    for (auto& f : on_started_) f();
    StartInformers();
    spdlog::info("{} controllers started ({} sources on {} store informer(s))", controllers_.size(), sources_.size(),
                 informers_.size());
    while (true) {
      UpdateMetrics();
      std::unique_lock<std::mutex> lock(mu_);
      if (cv_.wait_for(lock, std::chrono::seconds(1), [&] { return stop_; })) return;
    }
  });
}

void Manager::UpdateMetrics() {
  for (auto& c : controllers_) c->UpdateMetrics();  // controllers_ is complete before the API serves
  std::lock_guard<std::mutex> lock(metrics_mu_);
  const uint64_t decoded = EventsDecoded();
  decoded_->Increment(static_cast<double>(decoded - decoded_seen_));
  decoded_seen_ = decoded;
}

void Manager::StartInformers() {
  std::map<store::Store*, StoreInformer*> by_store;
  for (const auto& src : sources_) {
    StoreInformer*& inf = by_store[&src->store];
    if (inf == nullptr) {
      informers_.push_back(std::make_unique<StoreInformer>(src->store));
      inf = informers_.back().get();
    }
    inf->Subscribe(src->group, src->resource, src->handler);
  }
  for (auto& inf : informers_) inf->Start();
  informers_started_ = true;
}

bool Manager::SourcesListed() const {
  if (!informers_started_.load()) return false;
  return std::all_of(informers_.begin(), informers_.end(), [](const auto& inf) { return inf->Listed(); });
}

uint64_t Manager::EventsDecoded() const {
  if (!informers_started_.load()) return 0;  // informers_ is being built (a scrape may come meanwhile)
  uint64_t n = 0;
  for (const auto& inf : informers_) n += inf->Decoded();
  return n;
}

void Manager::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_) return;
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  for (auto& inf : informers_) inf->Stop();
  for (auto it = controllers_.rbegin(); it != controllers_.rend(); ++it) (*it)->Stop();
  running_ = false;
}

}  // namespace tmcd::engine
