#include "engine/source.h"

#include <spdlog/spdlog.h>

#include "apis/meta/codec.h"

namespace tmcd::engine {

bool GenerationFilter::Changed(const std::string& key, const std::string& json) {
  int64_t generation = -1;
  if (!json.empty()) {
    auto doc = apis::detail::ParseJson(json, apis::detail::ThreadParser());
    if (!doc.ok() || doc->at_pointer("/metadata/generation").get(generation) != simdjson::SUCCESS) generation = 0;
  }
  std::lock_guard<std::mutex> lock(mu_);
  auto [it, fresh] = seen_.try_emplace(key, generation);
  if (!fresh && it->second == generation && generation >= 0) return false;
  it->second = generation;
  if (generation < 0) seen_.erase(it);
  return true;
}

StoreInformer::~StoreInformer() {
  Stop();
}

void StoreInformer::Subscribe(const std::string& group, const std::string& resource, SourceHandler handler) {
  handlers_[group + "/" + resource].push_back(std::move(handler));
}

void StoreInformer::Start() {
  thread_ = std::thread([this] { Run(); });
}

void StoreInformer::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
    if (watcher_) watcher_->Close(Status(Reason::kServiceUnavailable, "stopping"));
  }
  if (thread_.joinable()) thread_.join();
}

void StoreInformer::Run() {
  while (true) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stop_) return;
    }
    Cycle();
  }
}

void StoreInformer::Dispatch(const std::string& raw_key, const std::string& json) {
  decoded_.fetch_add(1, std::memory_order_relaxed);
  auto key = store::DecodeKey(raw_key);
  if (!key.ok()) return;
  auto it = handlers_.find(key->group + "/" + key->resource);
  if (it == handlers_.end()) it = handlers_.find("*/*");  // resources known only at run time (CRDs)
  if (it == handlers_.end()) return;
  for (const auto& h : it->second) h(*key, json);
}

void StoreInformer::Cycle() {
  auto list = store_.List("", 0, "");
  if (!list.ok()) {
    spdlog::error("listing the store for the controllers: {}", list.status().message());
    std::this_thread::sleep_for(std::chrono::seconds(1));
    return;
  }
  auto watcher = store_.Watch("", list->revision);
  if (!watcher.ok()) return;  // compacted meanwhile: list again
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_) return;
    watcher_ = *watcher;
  }
  for (const auto& [raw, obj] : list->items) Dispatch(raw, obj.json);
  listed_ = true;
  while (true) {
    auto next = (*watcher)->Next(std::chrono::milliseconds(500));
    if (!next.ok()) break;  // closed: too slow, or stopping
    if (!next->has_value()) continue;
    const store::Event& e = ***next;
    // What the handlers queue continues the trace of the commit (docs/design/tracing.md).
    observability::ScopedSpanContext trace(e.trace);
    Dispatch(e.key, e.type == store::EventType::kDeleted ? std::string() : e.object.json);
  }
  std::lock_guard<std::mutex> lock(mu_);
  watcher_.reset();
}

}  // namespace tmcd::engine
