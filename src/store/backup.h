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
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace tmcd::store {

struct StoreInfo {
  uint32_t format = 0;
  uint64_t revision = 0;
  uint64_t compacted = 0;
  uint64_t objects = 0;
  std::string instance;  // 16 raw bytes
};

// Reads a store's meta values and, with `count_objects`, counts its objects (a read of every object:
// backups and restores report it; tmcd's start, which only needs the format, does not), read-only (the
// store may be open elsewhere only if it is a checkpoint nobody writes). NotFound when `path` holds no
// store.
Result<StoreInfo> InspectStore(const std::string& path, bool count_objects = true);

// A checkpoint of the store at `path`, which no process has open, into `dir` (must not exist).
Status CheckpointClosedStore(const std::string& path, const std::string& dir);

// After a restore into `path`: revision and compacted revision := max(its revision, min_revision) + 1,
// the event log emptied. Returns the new revision.
Result<uint64_t> FenceRestored(const std::string& path, uint64_t min_revision);

// Format migrations (docs/storage-format.md#format-versions-and-migration). A step sees the store as
// it was before the step and states its changes, which are written with meta/format in one commit.
class MigrationBatch {
 public:
  virtual ~MigrationBatch() = default;
  // Every key and value of the column family `family`, in key order.
  virtual Status ForEach(const std::string& family,
                         const std::function<Status(std::string_view key, std::string_view value)>& fn) = 0;
  virtual void Put(const std::string& family, std::string_view key, std::string_view value) = 0;
  virtual void Delete(const std::string& family, std::string_view key) = 0;
};

struct MigrationStep {
  uint32_t from = 0;  // the step takes a store of this format to from + 1
  std::string what;   // one line for the log
  std::function<Status(MigrationBatch&)> apply;
};

// The steps of this tmcd: none yet, format 1 is the first. A change of kStoreFormat adds its step here,
// and a unit test checks that every format below kStoreFormat has one.
const std::vector<MigrationStep>& MigrationSteps();

struct MigrationResult {
  uint32_t from = 0, to = 0;
  std::vector<std::string> checkpoints;  // one per step taken, the store as it was before that step
};

// Brings the store at `path` (no process has it open) from its format up to `target`. The chain of
// steps is checked first (a missing one changes nothing); then, per step, a checkpoint of the store to
// `<path>.before-format-<N>-<stamp>` and the step's changes with meta/format = N + 1 in one synced
// batch, so an interrupted migration leaves format N and simply runs again.
Result<MigrationResult> MigrateStore(const std::string& path, uint32_t target, const std::vector<MigrationStep>& steps,
                                     const std::string& stamp);

}  // namespace tmcd::store
