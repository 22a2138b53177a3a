#pragma once
// A store in a fresh temp directory, removed at scope end. Real RocksDB; a fake clock.

#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>

#include "common/clock.h"
#include "store/store.h"

namespace tmcd::store::testing {

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/tmcd-store-XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline FakeClock& TestClock() {
  static FakeClock clock(std::chrono::system_clock::time_point(std::chrono::seconds(1795773600)));
  return clock;
}

inline std::unique_ptr<Store> OpenAt(const std::string& path, StoreOptions opts = {}) {
  opts.path = path;
  opts.sync_writes = false;
  opts.compaction_interval = std::chrono::milliseconds(0);
  auto s = Store::Open(opts, TestClock());
  if (!s.ok()) return nullptr;
  return std::move(s).value();
}

inline ObjectKey Key(std::string name, std::string ns = "default", std::string ws = "root") {
  return {std::move(ws), "apps", "deployments", std::move(ns), std::move(name)};
}

}  // namespace tmcd::store::testing
