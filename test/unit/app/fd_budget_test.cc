#include "app/fd_budget.h"

#include <doctest/doctest.h>
#include <sys/resource.h>

namespace tmcd::app {
namespace {

TEST_CASE("the open-file limit is split so that clients can never take the store's descriptors") {
  for (size_t limit : {64, 300, 1024, 20000, 1048576}) {
    CAPTURE(limit);
    const FdBudget b = SplitFdBudget(limit, 20000);
    CHECK(b.limit == limit);
    CHECK(b.store_files >= 16);
    CHECK(b.store_files <= 256);
    CHECK(b.connections >= 1);
    CHECK(b.connections <= 20000);
    // What the store and the clients may hold leaves at least a quarter (or 512) for everything else.
    CHECK(b.connections + static_cast<size_t>(b.store_files) + std::min<size_t>(512, limit / 4) <=
          std::max(limit, size_t{80}));
  }
  CHECK(SplitFdBudget(20000, 20000).connections == 20000 - 256 - 512);
  CHECK(SplitFdBudget(1048576, 20000).connections == 20000);  // the configured cap still holds
  CHECK(SplitFdBudget(1024, 20000).connections == 1024 - 256 - 256);
}

TEST_CASE("planning raises the soft limit to the hard one") {
  rlimit before{};
  REQUIRE(::getrlimit(RLIMIT_NOFILE, &before) == 0);
  rlimit lowered = before;
  lowered.rlim_cur = std::min<rlim_t>(before.rlim_max, 256);
  REQUIRE(::setrlimit(RLIMIT_NOFILE, &lowered) == 0);
  const FdBudget b = PlanFdBudget(20000);
  rlimit after{};
  REQUIRE(::getrlimit(RLIMIT_NOFILE, &after) == 0);
  CHECK(after.rlim_cur == before.rlim_max);
  CHECK(b.limit == (before.rlim_max == RLIM_INFINITY ? size_t{1} << 20 : static_cast<size_t>(before.rlim_max)));
  CHECK(b.Describe().find("connections") != std::string::npos);
}

}  // namespace
}  // namespace tmcd::app
