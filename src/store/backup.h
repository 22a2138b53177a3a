#pragma once
// Backups of the store (docs/install.md#backup-and-restore, docs/storage-format.md#backups).
// A backup is a RocksDB checkpoint: the store's files as of one moment, hard-linked where RocksDB
// can, taken with the memtables flushed so the copy needs no WAL. It is consistent: it holds every
// mutation up to one revision and none after it.
//
// Restoring brings a store back to that revision; a watcher that saw a later revision must not
// resume as if nothing happened, so FenceRestored moves the restored store's revision past both
// the backup's and the replaced store's and drops the event history: every watch from a revision
// of before the restore then gets 410 Expired and relists.

#include <cstdint>
#include <string>

#include "common/status.h"

namespace tmcd::store {

struct StoreInfo {
  uint32_t format = 0;
  uint64_t revision = 0;
  uint64_t compacted = 0;
  uint64_t objects = 0;
  std::string instance;  // 16 raw bytes
};

// Reads a store's meta values and counts its objects, read-only (the store may be open elsewhere
// only if it is a checkpoint nobody writes). NotFound when `path` holds no store.
Result<StoreInfo> InspectStore(const std::string& path);

// A checkpoint of the store at `path`, which no process has open, into `dir` (must not exist).
Status CheckpointClosedStore(const std::string& path, const std::string& dir);

// After a restore into `path`: revision and compacted revision := max(its revision, min_revision) + 1,
// the event log emptied. Returns the new revision.
Result<uint64_t> FenceRestored(const std::string& path, uint64_t min_revision);

}  // namespace tmcd::store
