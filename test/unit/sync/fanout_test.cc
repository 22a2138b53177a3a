#include "sync/fanout.h"

#include <doctest/doctest.h>

#include <atomic>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

namespace tmcd::sync {
namespace {

TEST_CASE("FanOutPool runs every index once, at most `width` at a time, on kept threads") {
  FanOutPool pool(/*max_threads=*/4, /*width=*/3);
  std::mutex mu;
  std::set<std::thread::id> seen;
  for (int run = 0; run < 1000; ++run) {
    std::vector<std::atomic<int>> calls(5);
    std::atomic<int> running{0};
    std::atomic<int> most{0};
    pool.Run(5, [&](size_t i) {
      const int now = ++running;
      for (int m = most.load(); now > m && !most.compare_exchange_weak(m, now);) {
      }
      ++calls[i];
      {
        std::lock_guard<std::mutex> lock(mu);
        seen.insert(std::this_thread::get_id());
      }
      --running;
    });
    for (auto& c : calls) REQUIRE(c.load() == 1);
    REQUIRE(most.load() <= 3);
  }
  // 1,000 runs with 4 copies each beyond the caller's: the same few threads, not one per copy.
  CHECK(pool.Threads() <= 4);
  CHECK(seen.size() <= 5);  // the pool's and the caller's
}

TEST_CASE("FanOutPool: a caller finishes alone when the pool has no thread to give") {
  FanOutPool none(/*max_threads=*/0, /*width=*/8);
  std::vector<std::thread::id> ran(6);
  none.Run(6, [&](size_t i) { ran[i] = std::this_thread::get_id(); });
  for (const auto& id : ran) CHECK(id == std::this_thread::get_id());
  CHECK(none.Threads() == 0);
  none.Run(0, [](size_t) { FAIL("nothing to run"); });
}

TEST_CASE("FanOutPool: an exception reaches the caller after every index ran, and the pool goes on") {
  FanOutPool pool(/*max_threads=*/3, /*width=*/4);
  std::atomic<int> ran{0};
  CHECK_THROWS_AS(pool.Run(4,
                           [&](size_t i) {
                             ++ran;
                             if (i == 2) throw std::runtime_error("copy 2");
                           }),
                  std::runtime_error);
  CHECK(ran.load() == 4);
  pool.Run(4, [&](size_t) { ++ran; });
  CHECK(ran.load() == 8);
}

TEST_CASE("FanOutPool: many callers at once share a small pool and all finish") {
  FanOutPool pool(/*max_threads=*/2, /*width=*/8);
  std::atomic<long> total{0};
  std::vector<std::thread> callers;
  callers.reserve(8);
  for (int c = 0; c < 8; ++c) {
    callers.emplace_back([&] {
      for (int run = 0; run < 200; ++run) {
        // A nested run from inside a task finishes too: the nested caller takes its own indices.
        pool.Run(3, [&](size_t i) {
          if (i == 0) pool.Run(2, [&](size_t) { ++total; });
          ++total;
        });
      }
    });
  }
  for (auto& t : callers) t.join();
  CHECK(total.load() == 8L * 200 * (3 + 2));
  CHECK(pool.Threads() <= 2);
}

}  // namespace
}  // namespace tmcd::sync
