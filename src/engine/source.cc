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

StoreSource::StoreSource(store::Store& store, std::string group, std::string resource, Handler handler)
    : store_(store), group_(std::move(group)), resource_(std::move(resource)), handler_(std::move(handler)) {}

StoreSource::~StoreSource() {
  Stop();
}

void StoreSource::Start() {
  thread_ = std::thread([this] { Run(); });
}

void StoreSource::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
    if (watcher_) watcher_->Close(Status(Reason::kServiceUnavailable, "stopping"));
  }
  if (thread_.joinable()) thread_.join();
}

void StoreSource::Run() {
  while (true) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stop_) return;
    }
    Cycle();
  }
}

void StoreSource::Cycle() {
  auto list = store_.List("", 0, "");
  if (!list.ok()) {
    spdlog::error("listing {} for the controllers: {}", resource_, list.status().message());
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
  for (const auto& [raw, obj] : list->items) {
    auto key = store::DecodeKey(raw);
    if (key.ok() && key->group == group_ && key->resource == resource_) handler_(*key, obj.json);
  }
  while (true) {
    auto next = (*watcher)->Next(std::chrono::milliseconds(500));
    if (!next.ok()) break;  // closed: too slow, or stopping
    if (!next->has_value()) continue;
    const store::Event& e = ***next;
    auto key = store::DecodeKey(e.key);
    if (!key.ok() || key->group != group_ || key->resource != resource_) continue;
    handler_(*key, e.type == store::EventType::kDeleted ? std::string() : e.object.json);
  }
  std::lock_guard<std::mutex> lock(mu_);
  watcher_.reset();
}

}  // namespace tmcd::engine
