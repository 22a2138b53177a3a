#include "kube/informer.h"

#include "common/strings.h"
#include "kube/errors.h"

namespace tmcd::kube {
namespace {

using SteadyClock = std::chrono::steady_clock;

std::string ResourceVersionOf(const Json& obj) {
  return obj.contains("metadata") && obj["metadata"].is_object() ? obj["metadata"].value("resourceVersion", "") : "";
}

}  // namespace

Informer::Informer(Client& client, ResourceRef ref, Options options)
    : client_(client),
      ref_(std::move(ref)),
      options_(std::move(options)),
      rng_(options_.seed),
      backoff_(options_.backoff, options_.seed) {
  AddIndex("namespace", [](const Json& obj) {
    return std::vector<std::string>{obj.contains("metadata") ? obj["metadata"].value("namespace", "") : ""};
  });
}

Informer::~Informer() {
  Stop();
}

std::string Informer::KeyOf(const Json& obj) {
  const Json& meta = obj.contains("metadata") ? obj["metadata"] : Json::object();
  const std::string ns = meta.value("namespace", "");
  std::string key = ns.empty() ? meta.value("name", "") : ns + "/" + meta.value("name", "");
  const std::string cluster = LogicalCluster(obj);
  return cluster.empty() ? key : cluster + "|" + key;
}

void Informer::AddHandlers(EventHandlers h) {
  handlers_.push_back(std::move(h));
}

void Informer::AddIndex(const std::string& name, IndexFunc f) {
  index_funcs_[name] = std::move(f);
}

std::vector<Json> Informer::ByIndex(const std::string& name, const std::string& value) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Json> out;
  auto idx = indexes_.find(name);
  if (idx == indexes_.end()) return out;
  auto keys = idx->second.find(value);
  if (keys == idx->second.end()) return out;
  for (const auto& key : keys->second) out.push_back(Json::parse(cache_.at(key).json));
  return out;
}

Informer::Entry Informer::MakeEntry(const Json& obj) const {
  Entry e;
  e.json = obj.dump();
  e.resource_version = ResourceVersionOf(obj);
  for (const auto& [name, f] : index_funcs_) {
    for (auto& v : f(obj)) e.indexed.emplace_back(name, std::move(v));
  }
  return e;
}

void Informer::IndexLocked(const std::string& key, const Entry* old_entry, const Entry* new_entry) {
  if (old_entry != nullptr) {
    for (const auto& [name, value] : old_entry->indexed) {
      auto& index = indexes_[name];
      auto it = index.find(value);
      if (it == index.end()) continue;
      it->second.erase(key);
      if (it->second.empty()) index.erase(it);
    }
  }
  if (new_entry != nullptr) {
    for (const auto& [name, value] : new_entry->indexed) indexes_[name][value].insert(key);
  }
}

void Informer::Resume(std::vector<Json> objects, std::string resource_version) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& obj : objects) {
    if (options_.transform) options_.transform(obj);
    std::string key = KeyOf(obj);
    Entry e = MakeEntry(obj);
    IndexLocked(key, nullptr, &e);
    cache_[key] = std::move(e);
  }
  last_rv_ = resource_version;
  handled_rv_ = std::move(resource_version);
  synced_ = true;
  resumed_ = true;
}

void Informer::Start() {
  thread_ = std::thread([this] { Run(); });
}

void Informer::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_) return;
    stop_ = true;
  }
  cv_.notify_all();
  cancel_.Cancel();
  if (thread_.joinable()) thread_.join();
}

bool Informer::HasSynced() const {
  std::lock_guard<std::mutex> lock(mu_);
  return synced_;
}

bool Informer::WaitForSync(std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return synced_ || stop_; }) && synced_;
}

std::optional<Json> Informer::Get(const std::string& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = cache_.find(key);
  if (it == cache_.end()) return std::nullopt;
  return Json::parse(it->second.json);
}

std::vector<Json> Informer::List() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Json> out;
  out.reserve(cache_.size());
  for (const auto& [k, v] : cache_) out.push_back(Json::parse(v.json));
  return out;
}

std::string Informer::LastSyncResourceVersion() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_rv_;
}

std::string Informer::HandledResourceVersion() const {
  std::lock_guard<std::mutex> lock(mu_);
  return handled_rv_;
}

size_t Informer::Relists() const {
  std::lock_guard<std::mutex> lock(mu_);
  return relists_;
}

Status Informer::LastError() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_error_;
}

void Informer::SetError(const Status& s) {
  std::lock_guard<std::mutex> lock(mu_);
  last_error_ = s;
}

bool Informer::SleepUnlessStopped(std::chrono::milliseconds d) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, d, [&] { return stop_ || poked_; });
  poked_ = false;
  return !stop_;
}

void Informer::Poke() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    poked_ = true;
  }
  cv_.notify_all();
}

Status Informer::ListAndReplace(bool from_scratch) {
  ListOptions lo;
  lo.label_selector = options_.label_selector;
  lo.field_selector = options_.field_selector;
  lo.limit = options_.page_size;
  // "0" lets the server answer from its watch cache; after a 410 only a fresh read is acceptable.
  lo.resource_version = from_scratch ? "" : "0";
  auto listed = client_.ListAll(ref_, lo);
  if (!listed.ok() && !(options_.not_found_means_empty && listed.status().reason() == Reason::kNotFound)) {
    return listed.status();
  }
  ObjectList list = listed.ok() ? std::move(listed).value() : ObjectList{};
  std::map<std::string, Entry> fresh;
  std::vector<Json> added, deleted;
  std::vector<std::pair<Json, Json>> updated;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& item : list.items) {
      if (options_.transform) options_.transform(item);
      std::string key = KeyOf(item);
      Entry e = MakeEntry(item);
      auto it = cache_.find(key);
      if (it == cache_.end()) {
        added.push_back(std::move(item));
      } else if (it->second.resource_version != e.resource_version) {
        updated.emplace_back(Json::parse(it->second.json), std::move(item));
      }
      fresh.emplace(std::move(key), std::move(e));
    }
    list.items.clear();
    for (const auto& [key, entry] : cache_) {
      if (fresh.count(key) == 0) deleted.push_back(Json::parse(entry.json));  // missed while not watching
    }
    cache_ = std::move(fresh);
    indexes_.clear();
    for (const auto& [key, entry] : cache_) IndexLocked(key, nullptr, &entry);
    last_rv_ = list.resource_version;
  }
  for (const auto& h : handlers_) {
    if (h.on_add_many) {
      if (!added.empty()) h.on_add_many(added);
    } else if (h.on_add) {
      for (const auto& o : added) h.on_add(o);
    }
    for (const auto& [o, n] : updated) {
      if (h.on_update) h.on_update(o, n);
    }
    for (const auto& o : deleted) {
      if (h.on_delete) h.on_delete(o);
    }
  }
  {
    // Synced only once the handlers have seen the list (client-go's HasSynced), so a consumer that
    // waits for it finds their results in place.
    std::lock_guard<std::mutex> lock(mu_);
    handled_rv_ = list.resource_version;
    synced_ = true;
  }
  cv_.notify_all();
  return Status::Ok();
}

void Informer::Apply(const WatchEvent& ev) {
  if (ev.type == WatchEventType::kBookmark) {
    std::lock_guard<std::mutex> lock(mu_);
    last_rv_ = ev.resource_version;
    handled_rv_ = ev.resource_version;
    return;
  }
  // Watch events are depth-checked by the decoder (simdjson's limit, below kMaxJsonDepth); checked
  // again here because this parse feeds every handler.
  Json obj = JsonTooDeep(ev.object) ? Json(nullptr) : Json::parse(ev.object, nullptr, false);
  if (obj.is_discarded() || !obj.is_object()) return;
  if (options_.transform) options_.transform(obj);
  const std::string key = KeyOf(obj);
  std::optional<Json> old;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = cache_.find(key);
    const Entry* old_entry = it != cache_.end() ? &it->second : nullptr;
    if (old_entry != nullptr) old = Json::parse(old_entry->json);
    if (ev.type == WatchEventType::kDeleted) {
      IndexLocked(key, old_entry, nullptr);
      if (old_entry != nullptr) cache_.erase(it);
    } else {
      Entry e = MakeEntry(obj);
      IndexLocked(key, old_entry, &e);
      cache_[key] = std::move(e);
    }
    last_rv_ = ev.resource_version;
  }
  for (const auto& h : handlers_) {
    if (ev.type == WatchEventType::kDeleted) {
      if (h.on_delete) h.on_delete(obj);
    } else if (old) {
      if (h.on_update) h.on_update(*old, obj);
    } else if (h.on_add) {
      h.on_add(obj);
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  handled_rv_ = ev.resource_version;
}

Status Informer::WatchOnce(size_t& events) {
  WatchOptions wo;
  wo.label_selector = options_.label_selector;
  wo.field_selector = options_.field_selector;
  wo.resource_version = LastSyncResourceVersion();
  wo.allow_bookmarks = true;
  std::uniform_int_distribution<int64_t> spread(
      options_.min_watch_timeout.count(), std::max(options_.min_watch_timeout, options_.max_watch_timeout).count());
  wo.timeout = std::chrono::seconds(spread(rng_));
  return client_.Watch(
      ref_, wo,
      [&](WatchEvent& ev) {
        Apply(ev);
        ++events;
        return true;
      },
      &cancel_);
}

void Informer::Run() {
  bool from_scratch = false;
  bool need_list = !resumed_;
  bool first = !resumed_;
  Status cause;  // what made the next list necessary
  while (!cancel_.cancelled()) {
    if (need_list) {
      Status s = ListAndReplace(from_scratch);
      if (!s.ok()) {
        SetError(s);
        from_scratch = from_scratch || IsExpired(s);
        if (!SleepUnlessStopped(backoff_.Next(SteadyClock::now()))) return;
        continue;
      }
      if (!first) {
        {
          std::lock_guard<std::mutex> lock(mu_);
          ++relists_;
        }
        if (options_.on_relist) options_.on_relist(cause);
        cause = Status();
      }
      first = false;
      need_list = false;
      from_scratch = false;
      if (LastSyncResourceVersion().empty() && options_.not_found_means_empty) {
        need_list = true;  // not served (404): look again later rather than watch
        if (!SleepUnlessStopped(options_.not_found_retry)) return;
        continue;
      }
      backoff_.Reset();
    }
    const auto started = SteadyClock::now();
    size_t events = 0;
    Status s = WatchOnce(events);
    if (cancel_.cancelled()) return;
    if (s.ok() && (events > 0 || SteadyClock::now() - started >= std::chrono::seconds(1))) continue;  // re-watch
    if (!s.ok()) SetError(s);
    if (IsExpired(s)) {
      cause = s;
      need_list = true;
      from_scratch = true;
      continue;  // relist at once, as client-go does
    }
    // A failed or suspiciously short watch: back off, then re-watch from the last resourceVersion
    // (a 410 on that re-watch leads to the relist above).
    if (!SleepUnlessStopped(backoff_.Next(SteadyClock::now()))) return;
  }
}

}  // namespace tmcd::kube
