// Store commit throughput and latency against raw RocksDB WriteBatch commits with the same fsync
// setting and the same number of concurrent writer threads, in one run on one machine. Prints a
// table; not a test (no pass/fail on timings). The store runs as the daemon runs it: kWatchers
// watchers draining every event (the shared informer and API watches), and its background compactor
// trimming the event log every second to the last kKeepRevisions events (the daemon's 30 s and
// 100,000 would never trigger in a run this short). The last case writes FLUSH commits without
// fsync, enough for RocksDB to flush memtables (64 MiB) on both sides and, on the store's side, to
// compact its event log several times.
//
//   build/bench/store_bench [N] [THREADS] [FLUSH]   (default N = 2000 per case, THREADS = 8 for the
//                                                     concurrent cases, FLUSH = 100000; 1 writer is
//                                                     always measured)
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "store/store.h"

namespace {

using SteadyClock = std::chrono::steady_clock;
constexpr int kWatchers = 4;
constexpr uint64_t kKeepRevisions = 10000;

struct Figures {
  double per_sec = 0;
  double median_us = 0;
  double p99_us = 0;
};

Figures Summarize(std::vector<double> lat_us, double total_s) {
  std::sort(lat_us.begin(), lat_us.end());
  return {static_cast<double>(lat_us.size()) / total_s, lat_us[lat_us.size() / 2], lat_us[lat_us.size() * 99 / 100]};
}

std::string TempDir() {
  char tmpl[] = "/tmp/tmcd-bench-XXXXXX";
  return mkdtemp(tmpl);
}

// A ~1 KiB Deployment-like JSON document, as the store would hold.
std::string Body(int i) {
  std::string pad(900, 'x');
  return R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d)" + std::to_string(i) +
         R"("},"spec":{"replicas":3,"pad":")" + pad + R"("}})";
}

// Runs `commit(i)` for i in [0, n) on `threads` threads; per-commit latencies and the total time.
template <typename F>
Figures Drive(int n, int threads, F commit) {
  std::vector<std::vector<double>> lat(static_cast<size_t>(threads));
  auto start = SteadyClock::now();
  std::vector<std::thread> pool;
  pool.reserve(static_cast<size_t>(threads));
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      auto& mine = lat[static_cast<size_t>(t)];
      for (int i = t; i < n; i += threads) {
        auto t0 = SteadyClock::now();
        commit(i);
        mine.push_back(std::chrono::duration<double, std::micro>(SteadyClock::now() - t0).count());
      }
    });
  }
  for (auto& th : pool) th.join();
  double total = std::chrono::duration<double>(SteadyClock::now() - start).count();
  std::vector<double> all;
  for (auto& v : lat) all.insert(all.end(), v.begin(), v.end());
  return Summarize(std::move(all), total);
}

Figures RawRocks(int n, int threads, bool sync) {
  std::string dir = TempDir();
  rocksdb::Options opts;
  opts.create_if_missing = true;
  rocksdb::DB* raw = nullptr;
  if (!rocksdb::DB::Open(opts, dir, &raw).ok()) std::abort();
  std::unique_ptr<rocksdb::DB> db(raw);
  rocksdb::WriteOptions wo;
  wo.sync = sync;
  Figures f = Drive(n, threads, [&](int i) {
    rocksdb::WriteBatch batch;
    batch.Put(tmcd::store::EncodeKey({"root", "apps", "deployments", "default", "d" + std::to_string(i)}), Body(i));
    if (!db->Write(wo, &batch).ok()) std::abort();
  });
  db.reset();
  std::filesystem::remove_all(dir);
  return f;
}

Figures StoreCommits(int n, int threads, bool sync) {
  std::string dir = TempDir();
  tmcd::RealClock clock;
  tmcd::store::StoreOptions so;
  so.path = dir;
  so.sync_writes = sync;
  so.keep_revisions = kKeepRevisions;
  so.compaction_interval = std::chrono::milliseconds(1000);
  so.watch_queue_limit = static_cast<size_t>(n) + 1;  // a watcher that lags is never closed as slow
  so.watch_queue_bytes = SIZE_MAX;
  auto store = std::move(tmcd::store::Store::Open(so, clock)).value();
  std::atomic<bool> done{false};
  std::vector<std::thread> drains;
  for (int w = 0; w < kWatchers; ++w) {
    auto watcher = store->Watch("", store->CurrentRevision());
    if (!watcher.ok()) std::abort();
    drains.emplace_back([&done, watcher = std::move(watcher).value()] {
      while (!done.load()) {
        if (!watcher->Next(std::chrono::milliseconds(50)).ok()) std::abort();
      }
    });
  }
  Figures f = Drive(n, threads, [&](int i) {
    if (!store->Create({"root", "apps", "deployments", "default", "d" + std::to_string(i)}, Body(i)).ok()) std::abort();
  });
  done = true;
  for (auto& d : drains) d.join();
  store.reset();
  std::filesystem::remove_all(dir);
  return f;
}

void Row(const std::string& what, int n, const Figures& f, double ratio) {
  std::printf("%-52s %8d %12.0f %12.1f %12.1f %8.2f\n", what.c_str(), n, f.per_sec, f.median_us, f.p99_us, ratio);
}

// One case: the baseline, then the store, the same commits, fsync setting and writers.
void Case(int n, int threads, bool sync, const std::string& suffix = "") {
  const Figures base = RawRocks(n, threads, sync);
  const Figures ours = StoreCommits(n, threads, sync);
  const std::string mode =
      std::string(sync ? "fsync" : "no fsync") + ", " + std::to_string(threads) + " writer(s)" + suffix;
  Row("raw RocksDB WriteBatch, " + mode, n, base, 1.0);
  Row("tmcd Store::Create, " + mode, n, ours, ours.per_sec / base.per_sec);
}

}  // namespace

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::max(100, std::atoi(argv[1])) : 2000;
  const int threads = argc > 2 ? std::max(1, std::atoi(argv[2])) : 8;
  const int flush = argc > 3 ? std::max(100, std::atoi(argv[3])) : 100000;
  std::printf("%-52s %8s %12s %12s %12s %8s\n", "what", "n", "commits/s", "median_us", "p99_us", "ratio");
  for (bool sync : {true, false}) {
    for (int t : {1, threads}) Case(n, t, sync);
  }
  Case(flush, threads, false, ", flushing");
  return 0;
}
