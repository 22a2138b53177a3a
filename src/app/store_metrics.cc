#include "app/store_metrics.h"

#include <memory>
#include <mutex>

namespace tmcd::app {
namespace {

// One read of RocksDB's properties per scrape serves every store family (CallbackCollector::OnCollect).
class StatsCache {
 public:
  explicit StatsCache(const store::Store& store) : store_(store) {}
  void Refresh() {
    const store::EngineStats fresh = store_.Stats();
    std::lock_guard<std::mutex> lock(mu_);
    stats_ = fresh;
  }
  store::EngineStats Get() {
    std::lock_guard<std::mutex> lock(mu_);
    return stats_;
  }

 private:
  const store::Store& store_;
  std::mutex mu_;
  store::EngineStats stats_;  // guarded by mu_
};

}  // namespace

void AddStoreMetrics(observability::CallbackCollector& c, const store::Store& store) {
  const store::Store* s = &store;
  auto cache = std::make_shared<StatsCache>(store);
  c.OnCollect([cache] { cache->Refresh(); });
  auto stat = [cache](uint64_t store::EngineStats::*field) {
    return [cache, field] { return static_cast<double>(cache->Get().*field); };
  };
  c.Gauge("tmcd_store_compacted_revision", "Oldest revision a watch can still resume after (older: 410 Gone).",
          [s] { return static_cast<double>(s->CompactedRevision()); });
  c.Gauge("tmcd_store_watchers", "Store watchers (local API watches and the controllers' sources).",
          [s] { return static_cast<double>(s->WatcherCount()); });
  c.Gauge("tmcd_store_sst_bytes", "Size of RocksDB's SST files, including ones kept only by an open snapshot.",
          stat(&store::EngineStats::sst_bytes));
  c.Gauge("tmcd_store_live_sst_bytes", "Size of the SST files of RocksDB's current version.",
          stat(&store::EngineStats::live_sst_bytes));
  c.Gauge("tmcd_store_memtable_bytes", "Size of RocksDB's memtables (not yet flushed).",
          stat(&store::EngineStats::memtable_bytes));
  c.Gauge("tmcd_store_block_cache_bytes", "Memory of RocksDB's block cache (SST blocks read recently).",
          stat(&store::EngineStats::block_cache_bytes));
  c.Gauge("tmcd_store_table_readers_bytes", "Memory of RocksDB's open SST files' index and filter blocks.",
          stat(&store::EngineStats::table_readers_bytes));
  c.Gauge("tmcd_store_pending_compaction_bytes",
          "Bytes RocksDB estimates compaction must rewrite; writes slow down and stop as this grows.",
          stat(&store::EngineStats::pending_compaction_bytes));
  c.Gauge("tmcd_store_running_compactions", "RocksDB compactions running now.",
          stat(&store::EngineStats::running_compactions));
  c.Gauge("tmcd_store_running_flushes", "RocksDB memtable flushes running now.",
          stat(&store::EngineStats::running_flushes));
  c.Gauge("tmcd_store_write_stopped", "1 while RocksDB stops writes until compaction catches up.",
          [cache] { return cache->Get().write_stopped ? 1.0 : 0.0; });
  c.Gauge("tmcd_store_delayed_write_rate_bytes",
          "Bytes per second RocksDB lets writers write while it slows them down; 0 while it does not.",
          stat(&store::EngineStats::delayed_write_rate));
  c.Counter("tmcd_store_write_stall_seconds_total", "Time writers spent stopped or slowed down by RocksDB.",
            [cache] { return static_cast<double>(cache->Get().stall_micros) / 1e6; });
  c.Counter("tmcd_store_wal_syncs_total",
            "fsyncs of RocksDB's write-ahead log (one per commit group with store.fsync).",
            stat(&store::EngineStats::wal_syncs));
  c.Counter("tmcd_store_wal_written_bytes_total", "Bytes written to RocksDB's write-ahead log.",
            stat(&store::EngineStats::wal_bytes));
  c.Counters("tmcd_store_background_bytes_total", "Bytes RocksDB's background work read and wrote, by operation.",
             [cache] {
               const store::EngineStats st = cache->Get();
               return std::vector<observability::Sample>{
                   {{{"operation", "compaction_read"}}, static_cast<double>(st.compaction_read_bytes)},
                   {{{"operation", "compaction_write"}}, static_cast<double>(st.compaction_write_bytes)},
                   {{{"operation", "flush_write"}}, static_cast<double>(st.flush_write_bytes)}};
             });
}

}  // namespace tmcd::app
