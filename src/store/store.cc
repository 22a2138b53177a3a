#include "store/store.h"

#include <openssl/rand.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include <algorithm>

#include "common/strings.h"

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
  if (options.compaction_interval.count() > 0)
    store->compactor_ = std::thread([s = store.get()] { s->CompactionLoop(); });
  return store;
}

Status Store::OpenDb() {
  rocksdb::DBOptions db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
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
  return DecodeObject(raw);
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
    auto obj = DecodeObject(std::string_view(it->value().data(), it->value().size()));
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

Result<StoredObject> Store::Commit(const ObjectKey& key, std::string json, uint64_t expected_revision, int op,
                                   std::string uid) {
  TMCD_TRY(CheckKey(key));
  const auto started = std::chrono::steady_clock::now();
  const std::string k = EncodeKey(key);
  std::lock_guard<std::mutex> lock(mu_);
  std::string raw;
  auto gs = db_->Get(rocksdb::ReadOptions(), objects_, k, &raw);
  if (!gs.ok() && !gs.IsNotFound()) return FromRocks(gs, "read " + key.String());
  const bool exists = gs.ok();
  const std::string what = key.resource + " " + Quote(key.name);
  if (op == kOpCreate && exists) return Status(Reason::kAlreadyExists, what + " already exists");
  if (op != kOpCreate && !exists) return NotFound(what + " not found");
  StoredObject current;
  if (exists) {
    TMCD_ASSIGN_OR_RETURN(current, DecodeObject(raw));
  }
  if (op != kOpCreate && expected_revision != 0 && expected_revision != current.mod_revision) {
    return Status(Reason::kConflict, "Operation cannot be fulfilled on " + what +
                                         ": the object has been modified; please apply your changes to the latest "
                                         "version and try again");
  }
  const uint64_t rev = revision_.load() + 1;
  Event event;
  event.revision = rev;
  event.unix_ms = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(clock_.Now().time_since_epoch()).count());
  event.key = k;
  rocksdb::WriteBatch batch;
  if (op == kOpDelete) {
    event.type = EventType::kDeleted;
    event.object = current;
    event.object.mod_revision = rev;
    batch.Delete(objects_, k);
  } else {
    event.type = op == kOpCreate ? EventType::kAdded : EventType::kModified;
    event.object = {op == kOpCreate ? rev : current.create_revision, rev,
                    op != kOpCreate ? current.uid
                    : uid.empty()   ? NewUid()
                                    : std::move(uid),
                    std::move(json)};
    batch.Put(objects_, k, EncodeObject(event.object));
  }
  batch.Put(events_, RevisionKey(rev), EncodeEvent(event));
  batch.Put(meta_, "revision", RevisionKey(rev));
  rocksdb::WriteOptions wo;
  wo.sync = options_.sync_writes;
  auto ws = db_->Write(wo, &batch);
  if (!ws.ok()) return FromRocks(ws, "commit " + key.String());
  revision_.store(rev);
  Notify(event);
  if (options_.commit_observer) options_.commit_observer(std::chrono::steady_clock::now() - started);
  return event.object;
}

void Store::Notify(const Event& e) {
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
