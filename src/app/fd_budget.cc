#include "app/fd_budget.h"

#include <sys/resource.h>

#include <algorithm>

namespace tmcd::app {

std::string FdBudget::Describe() const {
  return "open-file limit " + std::to_string(limit) + ": store " + std::to_string(store_files) + " files, local API " +
         std::to_string(connections) + " connections, the rest reserved";
}

FdBudget SplitFdBudget(size_t limit, size_t wanted_connections) {
  FdBudget b;
  b.limit = limit;
  // RocksDB: 256 table files are plenty for tmcd's store (a few GB at most); small limits get a quarter.
  b.store_files = static_cast<int>(std::clamp<size_t>(limit / 4, 16, 256));
  // WAL, MANIFEST, LOCK, info log, audit log, epoll/event fds, cluster and kcp connections, TLS files.
  const size_t reserve = std::min<size_t>(512, limit / 4);
  const size_t used = static_cast<size_t>(b.store_files) + reserve;
  b.connections = std::min(wanted_connections, limit > used ? limit - used : size_t{1});
  return b;
}

FdBudget PlanFdBudget(size_t wanted_connections) {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rlimit raised = rl;
    raised.rlim_cur = rl.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) rl = raised;
  }
  const size_t limit = rl.rlim_cur == RLIM_INFINITY ? size_t{1} << 20 : static_cast<size_t>(rl.rlim_cur);
  return SplitFdBudget(limit, wanted_connections);
}

}  // namespace tmcd::app
