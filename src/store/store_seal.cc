// Store: sealing of values on their way to and from RocksDB, the start-up check that every sealed
// value opens, and the rewrite that reseals everything with the current key (store/sealer.h).
#include <rocksdb/db.h>

#include "store/store.h"

namespace tmcd::store {
namespace {

Status Unreadable(std::string_view encoded_key, const Status& why) {
  auto k = DecodeKey(encoded_key);
  return Internal("cannot open the sealed value of " + (k.ok() ? k->String() : std::string("an object")) + ": " +
                  why.message());
}

}  // namespace

Result<std::string> Store::EncodeValue(std::string_view key, const StoredObject& o) const {
  if (!options_.sealer || !options_.sealer->Applies(key)) return EncodeObject(o);
  StoredObject sealed = o;
  TMCD_ASSIGN_OR_RETURN(sealed.json, options_.sealer->Seal(key, o.json));
  return EncodeObject(sealed);
}

Result<std::string> Store::EncodeEventValue(const Event& e) const {
  if (!options_.sealer || !options_.sealer->Applies(e.key)) return EncodeEvent(e);
  Event sealed = e;
  TMCD_ASSIGN_OR_RETURN(sealed.object.json, options_.sealer->Seal(e.key, e.object.json));
  return EncodeEvent(sealed);
}

Status Store::OpenJson(std::string_view key, std::string& json) const {
  if (!IsSealed(json)) return Status::Ok();
  if (!options_.sealer) return Unreadable(key, Invalid("the store holds encrypted values but no key is configured"));
  auto plain = options_.sealer->Open(key, json);
  if (!plain.ok()) return Unreadable(key, plain.status());
  json = std::move(*plain);
  return Status::Ok();
}

Result<StoredObject> Store::DecodeValue(std::string_view key, std::string_view raw) const {
  TMCD_ASSIGN_OR_RETURN(auto o, DecodeObject(raw));
  TMCD_TRY(OpenJson(key, o.json));
  return o;
}

Result<Event> Store::DecodeEventValue(uint64_t revision, std::string_view raw) const {
  TMCD_ASSIGN_OR_RETURN(auto e, DecodeEvent(revision, raw));
  TMCD_TRY(OpenJson(e.key, e.object.json));
  return e;
}

Result<SealStats> Store::CheckSealed() const {
  SealStats stats;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), objects_));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const std::string_view key(it->key().data(), it->key().size());
    auto raw = DecodeObject(std::string_view(it->value().data(), it->value().size()));
    if (!raw.ok()) return raw.status();
    if (IsSealed(raw->json)) {
      TMCD_TRY(OpenJson(key, raw->json));  // a wrong key file stops here, before anything is served
      ++stats.sealed;
      if (!options_.sealer->Current(std::string_view(it->value().data(), it->value().size()).substr(33))) {
        ++stats.old_key;
      }
    } else if (options_.sealer && options_.sealer->Applies(key)) {
      ++stats.plaintext;
    }
  }
  return stats;
}

Result<SealStats> Store::Reseal() {
  if (!options_.sealer) return Invalid("no key is configured");
  std::vector<std::string> keys;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), objects_));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const std::string_view key(it->key().data(), it->key().size());
    const std::string_view raw(it->value().data(), it->value().size());
    if (!options_.sealer->Applies(key)) continue;
    const std::string_view json = raw.size() > 33 ? raw.substr(33) : std::string_view();
    if (!IsSealed(json) || !options_.sealer->Current(json)) keys.emplace_back(key);
  }
  it.reset();
  SealStats stats;
  for (const auto& k : keys) {
    TMCD_ASSIGN_OR_RETURN(auto key, DecodeKey(k));
    TMCD_ASSIGN_OR_RETURN(auto current, Get(key));
    TMCD_TRY(Update(key, current.json, current.mod_revision).status());
    ++stats.sealed;
  }
  // The history still holds the old values: drop it, then make RocksDB rewrite its files so that
  // neither the WAL nor an old SST keeps them.
  TMCD_TRY(Compact(CurrentRevision()));
  TMCD_TRY(Purge());
  return stats;
}

Status Store::Purge() {
  for (auto* cf : {meta_, objects_, events_}) {
    auto s = db_->Flush(rocksdb::FlushOptions(), cf);
    if (!s.ok()) return Internal("flush: " + s.ToString());
    rocksdb::CompactRangeOptions o;
    o.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
    s = db_->CompactRange(o, cf, nullptr, nullptr);
    if (!s.ok()) return Internal("compact: " + s.ToString());
  }
  auto s = db_->FlushWAL(true);
  return s.ok() ? Status::Ok() : Internal("WAL: " + s.ToString());
}

}  // namespace tmcd::store
