// Store commit throughput and latency against raw RocksDB WriteBatch commits with the same fsync
// setting and the same number of concurrent writer threads, in one run on one machine. Prints a
// table; not a test (no pass/fail on timings).
//
//   build/bench/store_bench [N] [THREADS]    (default N = 2000 per case, THREADS = 8 for the
//                                              concurrent cases; 1 writer is always measured)
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>
#include <unistd.h>

#include <algorithm>
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
  so.compaction_interval = std::chrono::milliseconds(0);
  auto store = std::move(tmcd::store::Store::Open(so, clock)).value();
  Figures f = Drive(n, threads, [&](int i) {
    if (!store->Create({"root", "apps", "deployments", "default", "d" + std::to_string(i)}, Body(i)).ok()) std::abort();
  });
  store.reset();
  std::filesystem::remove_all(dir);
  return f;
}

}  // namespace

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::max(100, std::atoi(argv[1])) : 2000;
  const int threads = argc > 2 ? std::max(1, std::atoi(argv[2])) : 8;
  std::printf("%-44s %8s %12s %12s %12s %8s\n", "what", "n", "commits/s", "median_us", "p99_us", "ratio");
  for (bool sync : {true, false}) {
    for (int t : {1, threads}) {
      Figures base = RawRocks(n, t, sync);
      Figures ours = StoreCommits(n, t, sync);
      const std::string mode = std::string(sync ? "fsync" : "no fsync") + ", " + std::to_string(t) + " writer(s)";
      std::printf("%-44s %8d %12.0f %12.1f %12.1f %8s\n", ("raw RocksDB WriteBatch, " + mode).c_str(), n, base.per_sec,
                  base.median_us, base.p99_us, "1.00");
      std::printf("%-44s %8d %12.0f %12.1f %12.1f %8.2f\n", ("tmcd Store::Create, " + mode).c_str(), n, ours.per_sec,
                  ours.median_us, ours.p99_us, ours.per_sec / base.per_sec);
    }
  }
  return 0;
}
