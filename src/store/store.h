#pragma once
// The RocksDB-backed, revisioned object store (docs/design/architecture.md §3, docs/storage-format.md).
//
// Every mutation is checked (optimistic resourceVersion) and gets the next revision under one writer
// mutex; concurrent mutations are group-committed: one WriteBatch (objects + events + revision
// counter) and one WAL sync for all the writers waiting at that moment, each with its own result
// (a failed check fails only its own request). The new revision is the object's resourceVersion.
// Watchers are notified only after the write succeeded. Reads use RocksDB snapshots, and a list
// reports the revision of its snapshot. The event log behind watch is compacted in the background
// by count and age; a watch from a compacted revision is refused with 410 Expired.
//
// Thread-safety: all public methods may be called concurrently. Writers are serialized by mu_;
// reads do not take it.

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "store/codec.h"
#include "store/sealer.h"
#include "store/watcher.h"

namespace tmcd::store {

struct StoreOptions {
  std::string path;
  bool sync_writes = true;                               // fsync the WAL on every commit
  uint64_t keep_revisions = 100000;                      // at most this many events are kept...
  std::chrono::seconds keep_age{3600};                   // ...and none older than this
  std::chrono::milliseconds compaction_interval{30000};  // 0 = no background compaction
  size_t watch_queue_limit = 1000;
  int max_open_files = 256;  // RocksDB table files kept open (the app derives it from the fd limit)
  // Writes are refused (503, not ready) while the store's disk has less free space than this: the
  // WAL, flushes and compactions need room, and RocksDB must never meet a full disk mid-write.
  uint64_t min_free_bytes = uint64_t{256} << 20;
  // Bytes of events one watcher may hold before it is closed as too slow (events are shared between
  // watchers, so this also bounds what all stalled watchers together keep alive).
  size_t watch_queue_bytes = size_t{64} << 20;
  // Called after every successful commit with its duration (lock wait + batch write). Must be cheap
  // and thread-safe; the app feeds a metrics histogram with it. Optional.
  std::function<void(std::chrono::nanoseconds)> commit_observer;
  // Seals the values it applies to (Secrets) before they reach RocksDB. Open fails when a sealed
  // value does not open with it (a wrong key file), so nothing is ever served from garbage.
  std::shared_ptr<const Sealer> sealer;
};

struct SealStats {
  size_t sealed = 0;     // values sealed (CheckSealed) or resealed (Reseal)
  size_t old_key = 0;    // sealed with a key other than the current one
  size_t plaintext = 0;  // values the sealer applies to that are not sealed yet
};

struct ListResult {
  uint64_t revision = 0;                                    // the snapshot's revision
  std::vector<std::pair<std::string, StoredObject>> items;  // encoded key → object, in key order
  std::string next_key;  // non-empty when `limit` cut the list: pass as start_after to continue
};

// RocksDB's own figures for /metrics (docs/metrics.md#store), summed over the column families.
struct EngineStats {
  uint64_t sst_bytes = 0;       // every SST file, including ones only an open iterator or snapshot keeps
  uint64_t live_sst_bytes = 0;  // the SST files of the current version
  uint64_t memtable_bytes = 0;
  uint64_t block_cache_bytes = 0;         // cached SST blocks (each column family has its own cache)
  uint64_t table_readers_bytes = 0;       // SST index and filter blocks held outside the block cache
  uint64_t pending_compaction_bytes = 0;  // what compaction must rewrite to reach its targets
  uint64_t running_compactions = 0;
  uint64_t running_flushes = 0;
  bool write_stopped = false;       // RocksDB refuses writes until compaction catches up
  uint64_t delayed_write_rate = 0;  // bytes/s while writes are slowed down; 0 when they are not
  uint64_t stall_micros = 0;        // time writers spent stalled or delayed, since open
  uint64_t wal_syncs = 0;
  uint64_t wal_bytes = 0;
  uint64_t compaction_read_bytes = 0;
  uint64_t compaction_write_bytes = 0;
  uint64_t flush_write_bytes = 0;
};

class Store {
 public:
  static Result<std::unique_ptr<Store>> Open(const StoreOptions& options, const Clock& clock);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  Result<StoredObject> Get(const ObjectKey& key) const;
  // Objects whose encoded key starts with `prefix`, after `start_after` (exclusive), at most
  // `limit` (0 = all).
  Result<ListResult> List(std::string_view prefix, size_t limit, std::string_view start_after) const;

  // Create fails with AlreadyExists. Update and Delete fail with NotFound, and with Conflict when
  // expected_revision != 0 and differs from the stored modRevision. `uid` (16 raw bytes) keeps an
  // identity given elsewhere (kcp's, for cached upstream objects); empty = a new random uid.
  Result<StoredObject> Create(const ObjectKey& key, std::string json, std::string uid = {});
  Result<StoredObject> Update(const ObjectKey& key, std::string json, uint64_t expected_revision);
  Result<StoredObject> Delete(const ObjectKey& key, uint64_t expected_revision);

  // Several independent mutations queued at once, so that they share one group commit (one batch,
  // one WAL sync) instead of paying a sync each: a bulk load such as kcp mode's first list. Each
  // succeeds or fails on its own, exactly as the calls above would in this order; results in order.
  struct Mutation {
    enum class Op { kCreate, kUpdate, kDelete };
    Op op = Op::kCreate;
    ObjectKey key;
    std::string json;                // create and update
    uint64_t expected_revision = 0;  // update and delete; 0 = any
    std::string uid;                 // create: as for Create
  };
  std::vector<Result<StoredObject>> Mutate(std::vector<Mutation> mutations);

  // "" while the store writes; otherwise why its last write failed (a full disk, no file descriptor
  // for a new WAL): RocksDB then refuses every write until the cause is gone and Recover succeeds.
  // Readiness reports it (docs/reliability.md#store-health).
  std::string WriteError() const;
  // Leaves the write-error state when its cause is gone (RocksDB Resume). kOk: writable again (or
  // never failed); kServiceUnavailable: still failing, try later; kInternalError: the error is not one a
  // retry can fix (corruption) and the process should exit so that an operator looks.
  Status Recover();

  EngineStats Stats() const;
  uint64_t CurrentRevision() const { return revision_.load(); }
  uint64_t CompactedRevision() const { return compacted_.load(); }
  std::string InstanceId() const { return instance_; }

  // Events after `from_revision` for keys under `prefix`: the log's history first, then live events.
  // from_revision older than the compacted revision → Expired (410).
  Result<std::shared_ptr<Watcher>> Watch(std::string prefix, uint64_t from_revision);
  size_t WatcherCount() const;
  // Drops events with revision <= `upto` (bounded by the current revision). Also run in the background.
  Status Compact(uint64_t upto);
  // One background compaction pass by count and age; returns the new compacted revision.
  Result<uint64_t> CompactOnce();

  // Opens every sealed value (Open has done so already) and counts what the sealer would change.
  Result<SealStats> CheckSealed() const;
  // What CheckSealed found when the store was opened (Open runs it, so callers need not scan again).
  const SealStats& SealStatsAtOpen() const { return seal_stats_at_open_; }
  // Rewrites every value the sealer applies to that is plaintext or sealed with an old key, drops
  // the whole event history and makes RocksDB rewrite its files, so no old value stays on disk.
  // Each rewrite is an update (a new resourceVersion). Run while nothing else writes.
  Result<SealStats> Reseal();

  // A consistent copy of the store as of now, in `dir` (must not exist; hard links where the file
  // system allows): memtables flushed, no WAL needed (store/backup.h). Safe while others write.
  Status Checkpoint(const std::string& dir);

  // Writes the memtables to table files and waits, so that the next open has no write-ahead log to
  // replay (tmcd's clean stop: a replay at start-up ran twice, once to read the format and once to
  // open, and held up every controller; docs/performance.md "Restart"). A store whose writes failed
  // returns that error and stays as it is: its WAL still holds everything.
  Status Flush();

 private:
  Store(const StoreOptions& options, const Clock& clock);
  Status OpenDb();
  Status LoadMeta();
  struct Request;
  Result<StoredObject> Commit(const ObjectKey& key, std::string json, uint64_t expected_revision, int op,
                              std::string uid = {});
  // Queues `mine` for the group commit and returns once every one of them has its result.
  void Enqueue(const std::vector<Request*>& mine);
  // Writes a group of requests as one batch; sets each request's result. Takes mu_.
  void CommitGroup(const std::vector<Request*>& group);
  // Checks one request against the current object (or the group's earlier writes in `overlay`) and
  // adds it to `batch` with revision `rev`.
  Result<Event> Prepare(Request& r, uint64_t rev, rocksdb::WriteBatch& batch,
                        std::map<std::string, std::optional<StoredObject>>& overlay);
  Result<std::optional<StoredObject>> Current(const std::string& encoded_key,
                                              const std::map<std::string, std::optional<StoredObject>>& overlay);
  // Values on their way to and from RocksDB, sealed where the sealer applies (store_seal.cc).
  Result<std::string> EncodeValue(std::string_view key, const StoredObject& o) const;
  Result<std::string> EncodeEventValue(const Event& e) const;
  Result<StoredObject> DecodeValue(std::string_view key, std::string_view raw) const;
  Result<Event> DecodeEventValue(uint64_t revision, std::string_view raw) const;
  Status OpenJson(std::string_view key, std::string& json) const;
  Status Purge();
  void Notify(Event e);
  void CompactionLoop();
  Status WriteFailed(const rocksdb::Status& s, std::string_view what);
  // Why a write of `incoming` bytes would leave less than min_free_bytes on the store's disk.
  // Called with mu_ held (it updates the cached statvfs figure).
  std::optional<std::string> SpaceShortage(uint64_t incoming);

  StoreOptions options_;
  const Clock& clock_;
  std::shared_ptr<rocksdb::Statistics> statistics_;  // tickers only (no histograms or timers)
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;  // owned by db_ until destroyed in ~Store
  rocksdb::ColumnFamilyHandle* meta_ = nullptr;
  rocksdb::ColumnFamilyHandle* objects_ = nullptr;
  rocksdb::ColumnFamilyHandle* events_ = nullptr;
  std::string instance_;
  std::atomic<uint64_t> revision_{0};
  std::atomic<uint64_t> compacted_{0};
  SealStats seal_stats_at_open_;

  std::mutex mu_;  // serializes writers and watcher registration

  std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::vector<Request*> queue_;  // waiting to be committed; guarded by queue_mu_
  bool committing_ = false;      // a group is being written; guarded by queue_mu_
  mutable std::mutex watchers_mu_;
  std::vector<std::weak_ptr<Watcher>> watchers_;  // guarded by watchers_mu_

  mutable std::mutex health_mu_;
  std::string write_error_;                                 // guarded by health_mu_
  bool low_space_ = false;                                  // guarded by health_mu_: the failure is the reserve's
  uint64_t space_free_ = 0;                                 // guarded by mu_: last statvfs figure
  uint64_t space_written_since_ = 0;                        // guarded by mu_: bytes committed since
  std::chrono::steady_clock::time_point space_checked_at_;  // guarded by mu_
  std::atomic<bool> write_failed_{false};                   // write_error_ is set
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;  // guarded by stop_mu_
  std::thread compactor_;
};

// The column families of the store, in order. Opening a directory with any other family fails.
const std::vector<std::string>& ColumnFamilyNames();

}  // namespace tmcd::store
