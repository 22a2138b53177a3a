#include "store/store.h"

#include <openssl/rand.h>
#include <rocksdb/options.h>
#include <rocksdb/statistics.h>
#include <rocksdb/write_batch.h>
#include <sys/statvfs.h>

#include <algorithm>
#include <map>
#include <optional>

#include "common/strings.h"
#include "observability/trace.h"

namespace tmcd::store {
namespace {

constexpr int kOpCreate = 0;
constexpr int kOpUpdate = 1;
constexpr int kOpDelete = 2;

Status FromRocks(const rocksdb::Status& s, std::string_view what) {
  return Internal(std::string(what) + ": " + s.ToString());
}

std::string NewUid() {
  std::string uid(16, '\0');
  RAND_bytes(reinterpret_cast<unsigned char*>(uid.data()), 16);
  uid[6] = static_cast<char>((static_cast<uint8_t>(uid[6]) & 0x0fU) | 0x40U);  // version 4
  uid[8] = static_cast<char>((static_cast<uint8_t>(uid[8]) & 0x3fU) | 0x80U);  // RFC 4122 variant
  return uid;
}

}  // namespace

const std::vector<std::string>& ColumnFamilyNames() {
  static const std::vector<std::string> kNames = {
      rocksdb::kDefaultColumnFamilyName, "meta", "objects", "events", "index", "sync"};
  return kNames;
}

Store::Store(const StoreOptions& options, const Clock& clock) : options_(options), clock_(clock) {}

Result<std::unique_ptr<Store>> Store::Open(const StoreOptions& options, const Clock& clock) {
  std::unique_ptr<Store> store(new Store(options, clock));
  TMCD_TRY(store->OpenDb());
  TMCD_TRY(store->LoadMeta());
  TMCD_ASSIGN_OR_RETURN(store->seal_stats_at_open_, store->CheckSealed());
  if (options.compaction_interval.count() > 0)
    store->compactor_ = std::thread([s = store.get()] { s->CompactionLoop(); });
  return store;
}

EngineStats Store::Stats() const {
  EngineStats st;
  auto sum = [this](const std::string& name) {
    uint64_t v = 0;
    return db_->GetAggregatedIntProperty(name, &v) ? v : 0;
  };
  auto one = [this](const std::string& name) {
    uint64_t v = 0;
    return db_->GetIntProperty(name, &v) ? v : 0;
  };
  st.sst_bytes = sum(rocksdb::DB::Properties::kTotalSstFilesSize);
  st.live_sst_bytes = sum(rocksdb::DB::Properties::kLiveSstFilesSize);
  st.memtable_bytes = sum(rocksdb::DB::Properties::kCurSizeAllMemTables);
  st.block_cache_bytes = sum(rocksdb::DB::Properties::kBlockCacheUsage);
  st.table_readers_bytes = sum(rocksdb::DB::Properties::kEstimateTableReadersMem);
  st.pending_compaction_bytes = sum(rocksdb::DB::Properties::kEstimatePendingCompactionBytes);
  st.running_compactions = one(rocksdb::DB::Properties::kNumRunningCompactions);
  st.running_flushes = one(rocksdb::DB::Properties::kNumRunningFlushes);
  st.write_stopped = one(rocksdb::DB::Properties::kIsWriteStopped) != 0;
  st.delayed_write_rate = one(rocksdb::DB::Properties::kActualDelayedWriteRate);
  st.stall_micros = statistics_->getTickerCount(rocksdb::STALL_MICROS);
  st.wal_syncs = statistics_->getTickerCount(rocksdb::WAL_FILE_SYNCED);
  st.wal_bytes = statistics_->getTickerCount(rocksdb::WAL_FILE_BYTES);
  st.compaction_read_bytes = statistics_->getTickerCount(rocksdb::COMPACT_READ_BYTES);
  st.compaction_write_bytes = statistics_->getTickerCount(rocksdb::COMPACT_WRITE_BYTES);
  st.flush_write_bytes = statistics_->getTickerCount(rocksdb::FLUSH_WRITE_BYTES);
  return st;
}

Status Store::OpenDb() {
  rocksdb::DBOptions db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  db_options.max_open_files = options_.max_open_files;
  // After a crash the recovered log stays in the memtable (and its files on disk) instead of being
  // flushed to a table file, and compacted, while the controllers start (docs/storage-format.md).
  db_options.avoid_flush_during_recovery = true;
  statistics_ = rocksdb::CreateDBStatistics();
  statistics_->set_stats_level(rocksdb::StatsLevel::kExceptHistogramOrTimers);
  db_options.statistics = statistics_;
  std::vector<std::string> existing;
  auto ls = rocksdb::DB::ListColumnFamilies(db_options, options_.path, &existing);
  if (ls.ok()) {
    for (const auto& name : existing) {
      const auto& known = ColumnFamilyNames();
      if (std::find(known.begin(), known.end(), name) == known.end()) {
        return Internal("store " + options_.path + " has an unknown column family " + Quote(name) +
                        ": it was written by another program or a newer tmcd; refusing to open it");
      }
    }
  }
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const auto& name : ColumnFamilyNames()) descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions());
  rocksdb::DB* raw = nullptr;
  auto s = rocksdb::DB::Open(db_options, options_.path, descriptors, &handles_, &raw);
  if (!s.ok()) return FromRocks(s, "cannot open store " + options_.path);
  db_.reset(raw);
  meta_ = handles_[1];
  objects_ = handles_[2];
  events_ = handles_[3];
  return Status::Ok();
}

Status Store::LoadMeta() {
  std::string v;
  auto s = db_->Get(rocksdb::ReadOptions(), meta_, "format", &v);
  if (s.IsNotFound()) {
    rocksdb::WriteBatch batch;
    std::string fmt;
    PutU32(fmt, kStoreFormat);
    batch.Put(meta_, "format", fmt);
    batch.Put(meta_, "revision", RevisionKey(0));
    batch.Put(meta_, "compacted", RevisionKey(0));
    instance_ = NewUid();
    batch.Put(meta_, "instance", instance_);
    rocksdb::WriteOptions wo;
    wo.sync = true;
    auto ws = db_->Write(wo, &batch);
    return ws.ok() ? Status::Ok() : FromRocks(ws, "cannot initialise store");
  }
  if (!s.ok() || v.size() != 4) return Internal("store " + options_.path + ": unreadable format version");
  uint32_t format = GetU32(v);
  if (format > kStoreFormat) {
    return Internal("store " + options_.path + " has format " + std::to_string(format) +
                    ", written by a newer tmcd; this tmcd reads format " + std::to_string(kStoreFormat));
  }
  for (auto [name, target] : {std::pair{"revision", &revision_}, std::pair{"compacted", &compacted_}}) {
    if (!db_->Get(rocksdb::ReadOptions(), meta_, name, &v).ok() || v.size() != 8) {
      return Internal(std::string("store meta key ") + name + " is missing or corrupt");
    }
    target->store(GetU64(v));
  }
  db_->Get(rocksdb::ReadOptions(), meta_, "instance", &instance_);
  return Status::Ok();
}

Store::~Store() {
  {
    std::lock_guard<std::mutex> lock(stop_mu_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  if (compactor_.joinable()) compactor_.join();
  {
    std::lock_guard<std::mutex> lock(watchers_mu_);
    for (auto& w : watchers_) {
      if (auto sp = w.lock()) sp->Close(Status(Reason::kServiceUnavailable, "store is shutting down"));
    }
  }
  if (db_) {
    for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h);
    db_->Close();
  }
}

Result<StoredObject> Store::Get(const ObjectKey& key) const {
  TMCD_TRY(CheckKey(key));
  std::string raw;
  auto s = db_->Get(rocksdb::ReadOptions(), objects_, EncodeKey(key), &raw);
  if (s.IsNotFound()) return NotFound(key.resource + " " + Quote(key.name) + " not found");
  if (!s.ok()) return FromRocks(s, "read " + key.String());
  return DecodeValue(EncodeKey(key), raw);
}

Result<ListResult> Store::List(std::string_view prefix, size_t limit, std::string_view start_after) const {
  const rocksdb::Snapshot* snap = db_->GetSnapshot();
  rocksdb::ReadOptions ro;
  ro.snapshot = snap;
  ListResult out;
  std::string rev;
  auto s = db_->Get(ro, meta_, "revision", &rev);
  if (!s.ok() || rev.size() != 8) {
    db_->ReleaseSnapshot(snap);
    return Internal("store meta revision unreadable");
  }
  out.revision = GetU64(rev);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, objects_));
  std::string seek = start_after.empty() ? std::string(prefix) : std::string(start_after) + '\0';
  if (seek < prefix) seek = std::string(prefix);
  Status st = Status::Ok();
  for (it->Seek(seek); it->Valid() && it->key().starts_with(rocksdb::Slice(prefix.data(), prefix.size())); it->Next()) {
    if (limit > 0 && out.items.size() == limit) {
      out.next_key = out.items.back().first;
      break;
    }
    auto obj = DecodeValue(std::string_view(it->key().data(), it->key().size()),
                           std::string_view(it->value().data(), it->value().size()));
    if (!obj.ok()) {
      st = obj.status();
      break;
    }
    out.items.emplace_back(it->key().ToString(), std::move(obj).value());
  }
  it.reset();
  db_->ReleaseSnapshot(snap);
  TMCD_TRY(st);
  return out;
}

Result<StoredObject> Store::Create(const ObjectKey& key, std::string json, std::string uid) {
  if (!uid.empty() && uid.size() != 16) return BadRequest("a uid is 16 bytes, got " + std::to_string(uid.size()));
  return Commit(key, std::move(json), 0, kOpCreate, std::move(uid));
}
Result<StoredObject> Store::Update(const ObjectKey& key, std::string json, uint64_t expected_revision) {
  return Commit(key, std::move(json), expected_revision, kOpUpdate);
}
Result<StoredObject> Store::Delete(const ObjectKey& key, uint64_t expected_revision) {
  return Commit(key, "", expected_revision, kOpDelete);
}

// One caller's mutation, waiting in the commit queue.
struct Store::Request {
  const ObjectKey* key = nullptr;
  std::string encoded;
  std::string json;
  uint64_t expected_revision = 0;
  int op = kOpCreate;
  std::string uid;
  std::chrono::steady_clock::time_point started;
  observability::SpanContext trace;  // the commit's span
  Result<StoredObject> result = Internal("not committed");
  bool done = false;  // guarded by queue_mu_
};

Result<StoredObject> Store::Commit(const ObjectKey& key, std::string json, uint64_t expected_revision, int op,
                                   std::string uid) {
  TMCD_TRY(CheckKey(key));
  static constexpr std::array<std::string_view, 3> kOps = {"store create", "store update", "store delete"};
  observability::Span span(kOps.at(static_cast<size_t>(op)));
  Request me;
  me.trace = span.context();
  me.key = &key;
  me.encoded = EncodeKey(key);
  me.json = std::move(json);
  me.expected_revision = expected_revision;
  me.op = op;
  me.uid = std::move(uid);
  me.started = std::chrono::steady_clock::now();
  Enqueue({&me});
  if (span.recording()) {
    span.SetAttribute("tmcd.key", key.String());
    if (me.result.ok()) span.SetAttribute("tmcd.revision", static_cast<int64_t>(me.result->mod_revision));
    if (!me.result.ok()) span.SetError(me.result.status().message());
  }
  return std::move(me.result);
}

void Store::Enqueue(const std::vector<Request*>& mine) {
  // Group commit: whoever finds no commit running takes every queued request (its own included)
  // and writes them as one batch with one WAL sync; the others wait for their result. Concurrent
  // writers thus share an fsync instead of queueing for one each.
  std::unique_lock<std::mutex> lk(queue_mu_);
  queue_.insert(queue_.end(), mine.begin(), mine.end());
  while (!std::all_of(mine.begin(), mine.end(), [](const Request* r) { return r->done; })) {
    if (committing_) {
      queue_cv_.wait(lk);
      continue;
    }
    committing_ = true;
    std::vector<Request*> group;
    group.swap(queue_);
    lk.unlock();
    CommitGroup(group);
    lk.lock();
    for (Request* r : group) r->done = true;
    committing_ = false;
    queue_cv_.notify_all();
  }
}

std::vector<Result<StoredObject>> Store::Mutate(std::vector<Mutation> mutations) {
  observability::Span span("store mutate");
  span.SetAttribute("tmcd.mutations", static_cast<int64_t>(mutations.size()));
  std::vector<Request> requests(mutations.size());
  std::vector<Request*> queued;
  std::vector<Result<StoredObject>> out;
  out.reserve(mutations.size());
  const auto started = std::chrono::steady_clock::now();
  for (size_t i = 0; i < mutations.size(); ++i) {
    Mutation& m = mutations[i];
    Request& r = requests[i];
    if (Status s = CheckKey(m.key); !s.ok()) {
      r.result = s;
      continue;
    }
    if (m.op == Mutation::Op::kCreate && !m.uid.empty() && m.uid.size() != 16) {
      r.result = BadRequest("a uid is 16 bytes, got " + std::to_string(m.uid.size()));
      continue;
    }
    r.trace = span.context();
    r.key = &m.key;
    r.encoded = EncodeKey(m.key);
    r.op = m.op == Mutation::Op::kCreate ? kOpCreate : m.op == Mutation::Op::kUpdate ? kOpUpdate : kOpDelete;
    r.json = r.op == kOpDelete ? std::string() : std::move(m.json);
    r.expected_revision = r.op == kOpCreate ? 0 : m.expected_revision;
    r.uid = r.op == kOpCreate ? std::move(m.uid) : std::string();
    r.started = started;
    queued.push_back(&r);
  }
  if (!queued.empty()) Enqueue(queued);
  for (Request& r : requests) out.push_back(std::move(r.result));
  return out;
}

Result<std::optional<StoredObject>> Store::Current(const std::string& k,
                                                   const std::map<std::string, std::optional<StoredObject>>& overlay) {
  if (auto it = overlay.find(k); it != overlay.end()) return it->second;
  std::string raw;
  auto gs = db_->Get(rocksdb::ReadOptions(), objects_, k, &raw);
  if (gs.IsNotFound()) return std::optional<StoredObject>();
  if (!gs.ok()) return FromRocks(gs, "read");
  TMCD_ASSIGN_OR_RETURN(auto current, DecodeValue(k, raw));
  return std::optional<StoredObject>(std::move(current));
}

Result<Event> Store::Prepare(Request& r, uint64_t rev, rocksdb::WriteBatch& batch,
                             std::map<std::string, std::optional<StoredObject>>& overlay) {
  TMCD_ASSIGN_OR_RETURN(auto current, Current(r.encoded, overlay));
  const std::string what = r.key->resource + " " + Quote(r.key->name);
  if (r.op == kOpCreate && current) return Status(Reason::kAlreadyExists, what + " already exists");
  if (r.op != kOpCreate && !current) return NotFound(what + " not found");
  if (r.op != kOpCreate && r.expected_revision != 0 && r.expected_revision != current->mod_revision) {
    return Status(Reason::kConflict, "Operation cannot be fulfilled on " + what +
                                         ": the object has been modified; please apply your changes to the latest "
                                         "version and try again");
  }
  Event event;
  event.revision = rev;
  event.unix_ms = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(clock_.Now().time_since_epoch()).count());
  event.key = r.encoded;
  if (r.op == kOpDelete) {
    event.type = EventType::kDeleted;
    event.object = *current;
    event.object.mod_revision = rev;
    batch.Delete(objects_, r.encoded);
    overlay[r.encoded] = std::nullopt;
  } else {
    event.type = r.op == kOpCreate ? EventType::kAdded : EventType::kModified;
    event.object = {r.op == kOpCreate ? rev : current->create_revision, rev,
                    r.op != kOpCreate ? current->uid
                    : r.uid.empty()   ? NewUid()
                                      : std::move(r.uid),
                    std::move(r.json)};
    TMCD_ASSIGN_OR_RETURN(std::string value, EncodeValue(r.encoded, event.object));
    batch.Put(objects_, r.encoded, value);
    overlay[r.encoded] = event.object;
  }
  TMCD_ASSIGN_OR_RETURN(std::string logged, EncodeEventValue(event));
  batch.Put(events_, RevisionKey(rev), logged);
  return event;
}

void Store::CommitGroup(const std::vector<Request*>& group) {
  std::lock_guard<std::mutex> lock(mu_);
  size_t incoming = 0;
  for (const Request* r : group) incoming += r->json.size() + r->encoded.size();
  if (!write_failed_.load()) {
    // The WAL must never meet a full disk: Debian's RocksDB 7.8 asserts (and aborts the process)
    // when a WAL writer that failed is synced. A free-space reserve turns that into a 503.
    if (auto shortage = SpaceShortage(incoming)) {
      std::lock_guard<std::mutex> health_lock(health_mu_);
      write_error_ = *shortage;
      low_space_ = true;
      write_failed_.store(true);
    }
  }
  if (write_failed_.load()) {
    // After a failed write, RocksDB is not written again until Recover has resumed it: its WAL
    // writer is in an error state.
    const Status refused(Reason::kServiceUnavailable,
                         "the store cannot write (" + WriteError() + "); tmcd retries the store every second");
    for (Request* r : group) r->result = refused;
    return;
  }
  rocksdb::WriteBatch batch;
  // Later requests of the group see the effects of earlier ones (same key twice in one group).
  std::map<std::string, std::optional<StoredObject>> overlay;
  std::vector<std::pair<Request*, Event>> accepted;
  uint64_t rev = revision_.load();
  for (Request* r : group) {
    auto event = Prepare(*r, rev + 1, batch, overlay);
    if (!event.ok()) {
      r->result = event.status();
      continue;
    }
    ++rev;
    event->trace = r->trace;
    accepted.emplace_back(r, std::move(event).value());
  }
  if (accepted.empty()) return;
  batch.Put(meta_, "revision", RevisionKey(rev));
  rocksdb::WriteOptions wo;
  wo.sync = options_.sync_writes;
  auto ws = db_->Write(wo, &batch);
  for (auto& [r, event] : accepted) {
    if (!ws.ok()) {
      r->result = WriteFailed(ws, "commit " + r->key->String());
      continue;
    }
    revision_.store(event.revision);
    r->result = event.object;
    Notify(std::move(event));
    if (options_.commit_observer) options_.commit_observer(std::chrono::steady_clock::now() - r->started);
  }
}

Status Store::WriteFailed(const rocksdb::Status& s, std::string_view what) {
  {
    std::lock_guard<std::mutex> lock(health_mu_);
    write_error_ = s.ToString();
    low_space_ = false;
  }
  write_failed_.store(true);
  // 503: the write was not done and may be retried; nothing acknowledged before is affected.
  return Status(Reason::kServiceUnavailable, std::string(what) + ": the store cannot write (" + s.ToString() +
                                                 "); tmcd retries the store every second");
}

std::string Store::WriteError() const {
  if (!write_failed_.load()) return "";
  std::lock_guard<std::mutex> lock(health_mu_);
  return write_error_;
}

std::optional<std::string> Store::SpaceShortage(uint64_t incoming) {
  if (options_.min_free_bytes == 0) return std::nullopt;
  // statvfs at most every 100 ms, not on every commit (the hot path); in between, what was written
  // since is subtracted from the last figure, so the estimate only errs towards less free space.
  const auto now = std::chrono::steady_clock::now();
  if (now - space_checked_at_ >= std::chrono::milliseconds(100) || space_written_since_ >= space_free_) {
    struct statvfs fs {};
    if (::statvfs(options_.path.c_str(), &fs) != 0) return std::nullopt;  // unknown: let RocksDB try
    space_free_ = static_cast<uint64_t>(fs.f_bavail) * fs.f_frsize;
    space_written_since_ = 0;
    space_checked_at_ = now;
  }
  space_written_since_ += incoming;
  const uint64_t free = space_free_ > space_written_since_ ? space_free_ - space_written_since_ : 0;
  if (free >= options_.min_free_bytes + 2 * incoming) return std::nullopt;
  return "only " + std::to_string(free >> 20) + " MiB free under " + options_.path + " (store.minFreeBytes is " +
         std::to_string(options_.min_free_bytes >> 20) + " MiB)";
}

Status Store::Recover() {
  if (!write_failed_.load()) return Status::Ok();
  std::lock_guard<std::mutex> lock(mu_);  // no commit runs while RocksDB resumes
  bool low_space = false;
  {
    std::lock_guard<std::mutex> health_lock(health_mu_);
    low_space = low_space_;
  }
  if (low_space) {
    // Hysteresis: writes resume only with a quarter of the reserve (at least 4 MiB) to spare, so
    // that a disk at the edge does not flip the store between writable and not every second.
    space_checked_at_ = {};  // a fresh statvfs
    if (auto shortage = SpaceShortage(std::max<uint64_t>(options_.min_free_bytes / 8, uint64_t{2} << 20))) {
      std::lock_guard<std::mutex> health_lock(health_mu_);
      write_error_ = *shortage;
      return Status(Reason::kServiceUnavailable, *shortage);
    }
    std::lock_guard<std::mutex> health_lock(health_mu_);
    write_error_.clear();
    low_space_ = false;
    write_failed_.store(false);
    return Status::Ok();
  }
  const rocksdb::Status s = db_->Resume();
  if (s.ok()) {
    // A successful Resume clears RocksDB's background error: prove it with a synced write.
    rocksdb::WriteOptions wo;
    wo.sync = true;
    const rocksdb::Status probe = db_->Put(wo, meta_, "health-probe", "ok");
    if (probe.ok()) {
      std::lock_guard<std::mutex> health_lock(health_mu_);
      write_error_.clear();
      write_failed_.store(false);
      return Status::Ok();
    }
    return WriteFailed(probe, "recover");
  }
  if (s.IsCorruption()) return Internal("store " + options_.path + " is corrupt: " + s.ToString());
  (void)WriteFailed(s, "recover");
  return Status(Reason::kServiceUnavailable, s.ToString());
}

void Store::Notify(Event event) {
  const EventPtr e = std::make_shared<const Event>(std::move(event));  // one copy, shared by every watcher
  std::lock_guard<std::mutex> lock(watchers_mu_);
  auto dead = std::remove_if(watchers_.begin(), watchers_.end(), [&](const std::weak_ptr<Watcher>& w) {
    auto sp = w.lock();
    if (!sp || sp->closed()) return true;
    sp->Push(e);
    return false;
  });
  watchers_.erase(dead, watchers_.end());
}

size_t Store::WatcherCount() const {
  std::lock_guard<std::mutex> lock(watchers_mu_);
  return static_cast<size_t>(std::count_if(watchers_.begin(), watchers_.end(), [](const std::weak_ptr<Watcher>& w) {
    auto sp = w.lock();
    return sp && !sp->closed();
  }));
}

}  // namespace tmcd::store
