#pragma once
// `tmcd backup DIR` and `tmcd restore DIR` (docs/install.md#backup-and-restore).
//
// A backup directory holds backup.json (what it is), store/ (a RocksDB checkpoint, store/backup.h)
// and tmcd's CA (pki/), so issued client certificates keep working; the Secret encryption key file
// only with --with-keys (by default keys are kept apart from backups of what they protect, and
// restore checks that the restored Secrets open with the keys the data directory has). While tmcd runs, the checkpoint
// is made by the daemon itself (POST /admin/backup over its Unix socket, administrators only) inside its data
// directory, then copied out by the command; when tmcd is stopped, by the command directly.
// Restore refuses a data directory a running tmcd holds, keeps the store it replaces beside the new
// one, and fences the restored store so that watchers from before it get 410 (store/backup.h).

#include <nlohmann/json.hpp>
#include <string>

#include "common/config.h"
#include "common/status.h"
#include "store/store.h"

namespace tmcd::app {

int BackupCommand(const Config& config, const std::string& dir, bool with_keys);
int RestoreCommand(const Config& config, const std::string& dir);

// Before the daemon starts: kExitNewerStore, with a message naming both versions, when the data
// directory's store has a format newer than this tmcd reads; kExitOk otherwise (no store yet, or
// one this tmcd opens; other problems are reported by the store when it opens). A store of an older
// format is migrated in place first, after a checkpoint beside it (store::MigrateStore);
// kExitFailure, the store left at its format, when that fails.
int CheckStoreFormat(const Config& config);

// The daemon's side: a checkpoint under <dataDir>/backups/; {"path": ..., "revision": ...}.
Result<nlohmann::json> ServeBackup(store::Store& store, const std::string& data_dir);

}  // namespace tmcd::app
