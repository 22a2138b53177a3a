#include "store/backup.h"

#include <doctest/doctest.h>
#include <rocksdb/db.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "store/codec.h"
#include "temp_store.h"

namespace tmcd::store {
namespace {

using testing::Key;
using testing::OpenAt;
using testing::TempDir;

TEST_CASE("a checkpoint holds every commit up to its revision and none after") {
  TempDir dir;
  const std::string live = dir.path() + "/store";
  auto s = OpenAt(live);
  REQUIRE(s);
  for (int i = 0; i < 50; ++i) REQUIRE(s->Create(Key("w" + std::to_string(i)), "{}").ok());
  REQUIRE(s->Checkpoint(dir.path() + "/cp").ok());
  REQUIRE(s->Create(Key("after"), "{}").ok());
  CHECK_FALSE(s->Checkpoint(dir.path() + "/cp").ok());  // never over an existing one

  auto info = InspectStore(dir.path() + "/cp");
  REQUIRE(info.ok());
  CHECK(info->format == kStoreFormat);
  CHECK(info->revision == 50);
  CHECK(info->objects == 50);
  CHECK(info->instance == s->InstanceId());
  s.reset();
  // The checkpoint opens as a store by itself (no WAL needed) and serves the same objects and versions.
  auto copy = OpenAt(dir.path() + "/cp");
  REQUIRE(copy);
  CHECK(copy->Get(Key("w7"))->mod_revision == 8);
  CHECK(copy->Get(Key("after")).status().reason() == Reason::kNotFound);
}

// Bytes in the store's write-ahead log files: what the next open replays.
uintmax_t WalBytes(const std::string& path) {
  uintmax_t n = 0;
  for (const auto& f : std::filesystem::directory_iterator(path)) {
    if (f.path().extension() == ".log") n += f.file_size();
  }
  return n;
}

TEST_CASE("a flushed store closes with nothing in its write-ahead log") {
  TempDir dir;
  for (const bool flush : {false, true}) {
    CAPTURE(flush);
    const std::string path = dir.path() + (flush ? "/flushed" : "/plain");
    {
      auto s = OpenAt(path);
      REQUIRE(s);
      for (int i = 0; i < 200; ++i) REQUIRE(s->Create(Key("w" + std::to_string(i)), std::string(500, 'x')).ok());
      if (flush) {
        REQUIRE(s->Flush().ok());
        CHECK(s->Stats().flush_write_bytes > 0);  // compressed: the values repeat one byte
      }
    }
    if (flush) {
      CHECK(WalBytes(path) < 1'000);
    } else {
      CHECK(WalBytes(path) > 100'000);  // 200 commits of 500 bytes wait in the log
    }
    auto again = OpenAt(path);
    REQUIRE(again);
    CHECK(again->Get(Key("w199")).ok());
  }
}

TEST_CASE("a closed store is checkpointed without its writer") {
  TempDir dir;
  const std::string live = dir.path() + "/store";
  {
    auto s = OpenAt(live);
    REQUIRE(s);
    REQUIRE(s->Create(Key("a"), "{}").ok());
  }
  REQUIRE(CheckpointClosedStore(live, dir.path() + "/cp").ok());
  CHECK(InspectStore(dir.path() + "/cp")->objects == 1);
  CHECK(InspectStore(dir.path() + "/none").status().reason() == Reason::kNotFound);
  // tmcd's start reads the format and the revision only: no pass over the objects.
  auto quick = InspectStore(dir.path() + "/cp", /*count_objects=*/false);
  REQUIRE(quick.ok());
  CHECK(quick->objects == 0);
  CHECK(quick->format == kStoreFormat);
  CHECK(quick->revision == InspectStore(dir.path() + "/cp")->revision);
}

TEST_CASE("fencing a restored store expires every revision from before the restore") {
  TempDir dir;
  const std::string path = dir.path() + "/store";
  {
    auto s = OpenAt(path);
    REQUIRE(s);
    for (int i = 0; i < 5; ++i) REQUIRE(s->Create(Key("w" + std::to_string(i)), "{}").ok());
  }
  // The replaced store had reached revision 40: the fence passes it.
  auto fenced = FenceRestored(path, 40);
  REQUIRE(fenced.ok());
  CHECK(*fenced == 41);
  auto s = OpenAt(path);
  REQUIRE(s);
  CHECK(s->CurrentRevision() == 41);
  CHECK(s->CompactedRevision() == 41);
  CHECK(s->Get(Key("w2"))->mod_revision == 3);  // objects keep their resourceVersions
  CHECK(s->Watch("", 5).status().reason() == Reason::kExpired);
  CHECK(s->Watch("", 40).status().reason() == Reason::kExpired);
  CHECK(s->Watch("", 41).ok());
  auto next = s->Create(Key("new"), "{}");
  REQUIRE(next.ok());
  CHECK(next->mod_revision == 42);
  CHECK_FALSE(FenceRestored(path, 0).ok());  // never under a running writer (RocksDB's lock)
  s.reset();
  auto again = FenceRestored(path, 0);
  REQUIRE(again.ok());
  CHECK(*again == 43);  // its own revision when that is higher
}

TEST_CASE("a store from a newer tmcd is recognised and refused") {
  TempDir dir;
  const std::string path = dir.path() + "/store";
  { REQUIRE(OpenAt(path)); }
  {  // what a future format would write
    rocksdb::DBOptions o;
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
    for (const auto& n : ColumnFamilyNames()) cfs.emplace_back(n, rocksdb::ColumnFamilyOptions());
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* raw = nullptr;
    REQUIRE(rocksdb::DB::Open(o, path, cfs, &handles, &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    std::string v;
    PutU32(v, kStoreFormat + 1);
    REQUIRE(db->Put(rocksdb::WriteOptions(), handles[1], "format", v).ok());
    for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
  }
  CHECK(InspectStore(path)->format == kStoreFormat + 1);
  StoreOptions opts;
  opts.path = path;
  auto s = Store::Open(opts, testing::TestClock());
  REQUIRE_FALSE(s.ok());
  CHECK(s.status().message().find("written by a newer tmcd") != std::string::npos);
}

}  // namespace
}  // namespace tmcd::store
