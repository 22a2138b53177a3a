#include "store/backup.h"

#include <rocksdb/db.h>
#include <rocksdb/utilities/checkpoint.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <vector>

#include "store/codec.h"
#include "store/store.h"

namespace tmcd::store {
namespace {

Status FromRocks(const rocksdb::Status& s, std::string_view what) {
  return Internal(std::string(what) + ": " + s.ToString());
}

// A RocksDB database opened with tmcd's column families; closes them on destruction.
class RawDb {
 public:
  ~RawDb() {
    if (!db_) return;
    for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h);
    db_->Close();
  }
  Status Open(const std::string& path, bool read_only) {
    std::error_code ec;
    if (!std::filesystem::exists(path + "/CURRENT", ec)) return NotFound("no store in " + path);
    rocksdb::DBOptions options;
    std::vector<std::string> existing;
    auto s = rocksdb::DB::ListColumnFamilies(options, path, &existing);
    if (!s.ok()) return FromRocks(s, "cannot read store " + path);
    std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
    for (const auto& name : existing) {
      const auto& known = ColumnFamilyNames();
      if (std::find(known.begin(), known.end(), name) == known.end()) {
        return Internal("store " + path + " has an unknown column family " + name +
                        ": it was written by another program or a newer tmcd");
      }
      descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions());
    }
    rocksdb::DB* raw = nullptr;
    s = read_only ? rocksdb::DB::OpenForReadOnly(options, path, descriptors, &handles_, &raw)
                  : rocksdb::DB::Open(options, path, descriptors, &handles_, &raw);
    if (!s.ok()) return FromRocks(s, "cannot open store " + path);
    db_.reset(raw);
    for (size_t i = 0; i < existing.size(); ++i) by_name_[existing[i]] = handles_[i];
    return Status::Ok();
  }
  rocksdb::DB* db() { return db_.get(); }
  rocksdb::ColumnFamilyHandle* Family(const std::string& name) {
    auto it = by_name_.find(name);
    return it == by_name_.end() ? nullptr : it->second;
  }
  Result<uint64_t> Meta64(const char* key) {
    std::string v;
    auto* meta = Family("meta");
    if (meta == nullptr || !db_->Get(rocksdb::ReadOptions(), meta, key, &v).ok() || v.size() != 8) {
      return Internal(std::string("store meta key ") + key + " is missing or corrupt");
    }
    return GetU64(v);
  }

 private:
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  std::map<std::string, rocksdb::ColumnFamilyHandle*> by_name_;
};

Status Checkpoint(rocksdb::DB* db, const std::string& dir) {
  rocksdb::Checkpoint* raw = nullptr;
  auto s = rocksdb::Checkpoint::Create(db, &raw);
  if (!s.ok()) return FromRocks(s, "cannot make a checkpoint");
  std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
  // log_size_for_flush 0: the memtables are always flushed first, so the copy needs no WAL.
  s = checkpoint->CreateCheckpoint(dir, /*log_size_for_flush=*/0);
  return s.ok() ? Status::Ok() : FromRocks(s, "cannot make a checkpoint in " + dir);
}

// A step's view of a store opened for writing: reads from a snapshot taken before the step.
class RawMigrationBatch : public MigrationBatch {
 public:
  explicit RawMigrationBatch(RawDb& db) : db_(db), snapshot_(db.db()->GetSnapshot()) {}
  ~RawMigrationBatch() override { db_.db()->ReleaseSnapshot(snapshot_); }
  RawMigrationBatch(const RawMigrationBatch&) = delete;
  RawMigrationBatch& operator=(const RawMigrationBatch&) = delete;

  Status ForEach(const std::string& family,
                 const std::function<Status(std::string_view, std::string_view)>& fn) override {
    auto* h = db_.Family(family);
    if (h == nullptr) return Internal("no column family " + family);
    rocksdb::ReadOptions ro;
    ro.snapshot = snapshot_;
    std::unique_ptr<rocksdb::Iterator> it(db_.db()->NewIterator(ro, h));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      TMCD_TRY(fn(std::string_view(it->key().data(), it->key().size()),
                  std::string_view(it->value().data(), it->value().size())));
    }
    return it->status().ok() ? Status::Ok() : FromRocks(it->status(), "cannot read " + family);
  }
  void Put(const std::string& family, std::string_view key, std::string_view value) override {
    Note(batch_.Put(db_.Family(family), rocksdb::Slice(key.data(), key.size()),
                    rocksdb::Slice(value.data(), value.size())),
         family);
  }
  void Delete(const std::string& family, std::string_view key) override {
    Note(batch_.Delete(db_.Family(family), rocksdb::Slice(key.data(), key.size())), family);
  }
  // The step's changes and meta/format = `format`, in one synced write.
  Status Commit(uint32_t format) {
    if (!error_.ok()) return error_;
    std::string v;
    PutU32(v, format);
    batch_.Put(db_.Family("meta"), "format", v);
    rocksdb::WriteOptions wo;
    wo.sync = true;
    auto s = db_.db()->Write(wo, &batch_);
    return s.ok() ? Status::Ok() : FromRocks(s, "cannot write the migration");
  }

 private:
  void Note(const rocksdb::Status& s, const std::string& family) {
    if (!s.ok() && error_.ok()) error_ = FromRocks(s, "cannot stage a change of " + family);
  }
  RawDb& db_;
  const rocksdb::Snapshot* snapshot_;
  rocksdb::WriteBatch batch_;
  Status error_ = Status::Ok();
};

}  // namespace

const std::vector<MigrationStep>& MigrationSteps() {
  static const std::vector<MigrationStep> kSteps;
  return kSteps;
}

Result<MigrationResult> MigrateStore(const std::string& path, uint32_t target, const std::vector<MigrationStep>& steps,
                                     const std::string& stamp) {
  TMCD_ASSIGN_OR_RETURN(StoreInfo info, InspectStore(path));
  MigrationResult out{info.format, info.format, {}};
  if (info.format > target) {
    return Internal("store " + path + " has format " + std::to_string(info.format) + ", newer than " +
                    std::to_string(target));
  }
  std::vector<const MigrationStep*> chain;
  for (uint32_t f = info.format; f < target; ++f) {
    auto it = std::find_if(steps.begin(), steps.end(), [f](const MigrationStep& m) { return m.from == f; });
    if (it == steps.end() || !it->apply) {
      return Internal("store " + path + " has format " + std::to_string(info.format) +
                      " and this tmcd has no migration from format " + std::to_string(f) + " to " +
                      std::to_string(f + 1) + "; nothing was changed");
    }
    chain.push_back(&*it);
  }
  for (const MigrationStep* step : chain) {
    const std::string kept = path + ".before-format-" + std::to_string(step->from) + "-" + stamp;
    TMCD_TRY(CheckpointClosedStore(path, kept));
    out.checkpoints.push_back(kept);
    RawDb db;
    TMCD_TRY(db.Open(path, /*read_only=*/false));
    RawMigrationBatch batch(db);
    if (Status s = step->apply(batch); !s.ok()) {
      return Status(s.reason(), "migration from format " + std::to_string(step->from) + " (" + step->what +
                                    ") failed, the store is still format " + std::to_string(step->from) + ": " +
                                    s.message());
    }
    TMCD_TRY(batch.Commit(step->from + 1));
    out.to = step->from + 1;
  }
  return out;
}

Status Store::Checkpoint(const std::string& dir) {
  return store::Checkpoint(db_.get(), dir);
}

Status Store::Flush() {
  rocksdb::FlushOptions fo;
  fo.wait = true;
  const auto s = db_->Flush(fo, handles_);
  return s.ok() ? Status::Ok() : FromRocks(s, "cannot flush the store's memtables");
}

Result<StoreInfo> InspectStore(const std::string& path, bool count_objects) {
  RawDb db;
  TMCD_TRY(db.Open(path, /*read_only=*/true));
  StoreInfo info;
  std::string v;
  auto* meta = db.Family("meta");
  if (meta == nullptr || !db.db()->Get(rocksdb::ReadOptions(), meta, "format", &v).ok() || v.size() != 4) {
    return Internal("store " + path + ": unreadable format version");
  }
  info.format = GetU32(v);
  TMCD_ASSIGN_OR_RETURN(info.revision, db.Meta64("revision"));
  TMCD_ASSIGN_OR_RETURN(info.compacted, db.Meta64("compacted"));
  db.db()->Get(rocksdb::ReadOptions(), meta, "instance", &info.instance);
  if (auto* objects = db.Family("objects"); objects != nullptr && count_objects) {
    std::unique_ptr<rocksdb::Iterator> it(db.db()->NewIterator(rocksdb::ReadOptions(), objects));
    for (it->SeekToFirst(); it->Valid(); it->Next()) ++info.objects;
    if (!it->status().ok()) return FromRocks(it->status(), "cannot read the objects of " + path);
  }
  return info;
}

Status CheckpointClosedStore(const std::string& path, const std::string& dir) {
  RawDb db;
  TMCD_TRY(db.Open(path, /*read_only=*/false));
  return Checkpoint(db.db(), dir);
}

Result<uint64_t> FenceRestored(const std::string& path, uint64_t min_revision) {
  RawDb db;
  TMCD_TRY(db.Open(path, /*read_only=*/false));
  TMCD_ASSIGN_OR_RETURN(uint64_t revision, db.Meta64("revision"));
  const uint64_t fenced = std::max(revision, min_revision) + 1;
  rocksdb::WriteBatch batch;
  batch.Put(db.Family("meta"), "revision", RevisionKey(fenced));
  batch.Put(db.Family("meta"), "compacted", RevisionKey(fenced));
  batch.DeleteRange(db.Family("events"), RevisionKey(0), RevisionKey(std::numeric_limits<uint64_t>::max()));
  rocksdb::WriteOptions wo;
  wo.sync = true;
  auto s = db.db()->Write(wo, &batch);
  if (!s.ok()) return FromRocks(s, "cannot fence the restored store " + path);
  return fenced;
}

}  // namespace tmcd::store
