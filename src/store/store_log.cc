// Store: the event log side — watch registration with history replay, and compaction.
#include <rocksdb/write_batch.h>

#include "store/store.h"

namespace tmcd::store {

Result<std::shared_ptr<Watcher>> Store::Watch(std::string prefix, uint64_t from_revision) {
  auto watcher = std::make_shared<Watcher>(std::move(prefix), options_.watch_queue_limit, options_.watch_queue_bytes);
  uint64_t upto = 0;
  {
    // Registration and the replay bound are taken under the writer lock: every event after `upto`
    // reaches the watcher live (held back until the replay below is done), every event up to it
    // comes from the log.
    std::lock_guard<std::mutex> lock(mu_);
    if (from_revision < compacted_.load()) {
      return Status(Reason::kExpired, "too old resource version: " + std::to_string(from_revision) + " (" +
                                          std::to_string(compacted_.load()) + ")");
    }
    upto = revision_.load();
    watcher->BeginReplay();
    std::lock_guard<std::mutex> wlock(watchers_mu_);
    watchers_.push_back(watcher);
  }
  Status st = Status::Ok();
  if (from_revision < upto) {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), events_));
    for (it->Seek(RevisionKey(from_revision + 1)); it->Valid(); it->Next()) {
      uint64_t rev = GetU64(std::string_view(it->key().data(), it->key().size()));
      if (rev > upto) break;
      auto e = DecodeEventValue(rev, std::string_view(it->value().data(), it->value().size()));
      if (!e.ok()) {
        st = e.status();
        break;
      }
      if (e->key.compare(0, watcher->prefix().size(), watcher->prefix()) == 0)
        watcher->PushReplayed(std::make_shared<const Event>(std::move(*e)));
    }
    // A compaction that raced with the replay removed history the watcher needed.
    if (st.ok() && from_revision < compacted_.load()) {
      st = Status(Reason::kExpired, "too old resource version: " + std::to_string(from_revision));
    }
  }
  watcher->EndReplay();
  if (!st.ok()) {
    watcher->Close(st);
    return st;
  }
  return watcher;
}

Status Store::Compact(uint64_t upto) {
  std::lock_guard<std::mutex> lock(mu_);
  if (write_failed_.load()) return Status(Reason::kServiceUnavailable, "compact: the store cannot write");
  upto = std::min(upto, revision_.load());
  const uint64_t from = compacted_.load();
  if (upto <= from) return Status::Ok();
  rocksdb::WriteBatch batch;
  batch.DeleteRange(events_, RevisionKey(from + 1), RevisionKey(upto + 1));
  batch.Put(meta_, "compacted", RevisionKey(upto));
  rocksdb::WriteOptions wo;
  wo.sync = options_.sync_writes;
  auto s = db_->Write(wo, &batch);
  if (!s.ok()) return WriteFailed(s, "compact");
  compacted_.store(upto);
  return Status::Ok();
}

Result<uint64_t> Store::CompactOnce() {
  const uint64_t current = revision_.load();
  uint64_t cutoff = current > options_.keep_revisions ? current - options_.keep_revisions : 0;
  // Beyond the count, events older than keep_age go too.
  const auto now_ms = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(clock_.Now().time_since_epoch()).count());
  const uint64_t age_ms = static_cast<uint64_t>(std::chrono::milliseconds(options_.keep_age).count());
  const uint64_t oldest_kept_ms = now_ms > age_ms ? now_ms - age_ms : 0;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), events_));
  for (it->Seek(RevisionKey(compacted_.load() + 1)); it->Valid(); it->Next()) {
    uint64_t rev = GetU64(std::string_view(it->key().data(), it->key().size()));
    if (rev <= cutoff) continue;
    auto e = DecodeEvent(rev, std::string_view(it->value().data(), it->value().size()));
    if (!e.ok() || e->unix_ms >= oldest_kept_ms) break;
    cutoff = rev;
  }
  it.reset();
  TMCD_TRY(Compact(cutoff));
  return compacted_.load();
}

void Store::CompactionLoop() {
  std::unique_lock<std::mutex> lock(stop_mu_);
  while (!stop_cv_.wait_for(lock, options_.compaction_interval, [&] { return stopping_; })) {
    lock.unlock();
    (void)CompactOnce();  // errors resurface on the next pass; the log only grows meanwhile
    lock.lock();
  }
}

}  // namespace tmcd::store
