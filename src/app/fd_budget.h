#pragma once
// The process's file-descriptor budget (docs/reliability.md#limits). A daemon that lets clients
// take every descriptor loses the ability to open its own files: RocksDB then cannot start a new
// WAL or SST, enters its background-error state and refuses every write. So the open-file limit is
// split up front: RocksDB keeps at most `store_files` open, a reserve covers the WAL, logs, audit,
// TLS files and outbound connections to clusters, and the local API accepts at most `connections`.

#include <cstddef>
#include <string>

namespace tmcd::app {

struct FdBudget {
  size_t limit = 0;        // RLIMIT_NOFILE after raising the soft limit to the hard one
  int store_files = 0;     // RocksDB max_open_files
  size_t connections = 0;  // the local API's connection cap
  std::string Describe() const;
};

// Raises the soft open-file limit to the hard limit (as Go programs do at start) and splits it.
// `wanted_connections` is the configured cap; the result is never above it.
FdBudget PlanFdBudget(size_t wanted_connections);
// The split for a given limit (pure; unit-tested).
FdBudget SplitFdBudget(size_t limit, size_t wanted_connections);

}  // namespace tmcd::app
