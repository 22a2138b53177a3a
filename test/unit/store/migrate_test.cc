// Store format migrations (docs/storage-format.md#format-versions-and-migration) on real RocksDB
// stores. Format 1 is the only released format, so the steps here are the tests' own: they take a
// store to formats 2 and 3 that exist only in these tests.
#include <doctest/doctest.h>
#include <rocksdb/db.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "store/backup.h"
#include "store/codec.h"
#include "temp_store.h"

namespace tmcd::store {
namespace {

using testing::Key;
using testing::OpenAt;
using testing::TempDir;

// A store of format 1 with objects a, b and c.
std::string ThreeObjects(const TempDir& dir) {
  std::string path = dir.path() + "/store";
  auto s = OpenAt(path);
  REQUIRE(s);
  for (const char* n : {"a", "b", "c"}) REQUIRE(s->Create(Key(n), "{}").ok());
  return path;
}

// meta/`key` of the store at `path`, read with RocksDB itself (Store refuses the tests' formats).
std::string RawMeta(const std::string& path, const std::string& key) {
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  for (const auto& name : ColumnFamilyNames()) families.emplace_back(name, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  REQUIRE(rocksdb::DB::OpenForReadOnly(rocksdb::DBOptions(), path, families, &handles, &raw).ok());
  std::string v;
  raw->Get(rocksdb::ReadOptions(), handles[1], key, &v);
  for (auto* h : handles) raw->DestroyColumnFamilyHandle(h);
  delete raw;
  return v;
}

// 1 → 2: drops object b and notes itself in meta, after checking what it reads is the old store.
MigrationStep DropB() {
  return {1, "drop b", [](MigrationBatch& b) {
            int seen = 0;
            TMCD_TRY(b.ForEach("objects", [&](std::string_view key, std::string_view) {
              ++seen;
              if (key == EncodeKey(Key("b"))) b.Delete("objects", key);
              return Status::Ok();
            }));
            if (seen != 3) return Internal("the step saw " + std::to_string(seen) + " objects");
            b.Put("meta", "note", "dropped b");
            return Status::Ok();
          }};
}

TEST_CASE("a migration keeps a checkpoint, then writes its step with the new format in one commit") {
  TempDir dir;
  const std::string path = ThreeObjects(dir);
  auto r = MigrateStore(path, 2, {DropB()}, "t1");
  REQUIRE(r.ok());
  CHECK(r->from == 1);
  CHECK(r->to == 2);
  REQUIRE(r->checkpoints == std::vector<std::string>{path + ".before-format-1-t1"});
  auto now = InspectStore(path);
  CHECK(now->format == 2);
  CHECK(now->objects == 2);
  CHECK(RawMeta(path, "note") == "dropped b");
  auto before = InspectStore(r->checkpoints[0]);  // the store as it was, whole
  CHECK(before->format == 1);
  CHECK(before->objects == 3);
  CHECK(before->revision == now->revision);
  // Two steps in a row: one checkpoint each.
  MigrationStep two_to_three{2, "note", [](MigrationBatch& b) {
                               b.Put("meta", "note", "at 3");
                               return Status::Ok();
                             }};
  TempDir other;
  const std::string p2 = ThreeObjects(other);
  auto both = MigrateStore(p2, 3, {two_to_three, DropB()}, "t2");
  REQUIRE(both.ok());
  CHECK(both->to == 3);
  CHECK(both->checkpoints.size() == 2);
  CHECK(InspectStore(both->checkpoints[1])->format == 2);
  CHECK(RawMeta(p2, "note") == "at 3");
}

TEST_CASE("a failing step leaves the old format and data, and the migration runs again") {
  TempDir dir;
  const std::string path = ThreeObjects(dir);
  MigrationStep broken{1, "broken", [](MigrationBatch& b) {
                         b.Delete("objects", EncodeKey(Key("a")));  // staged, never written
                         return Internal("disk on fire");
                       }};
  auto r = MigrateStore(path, 2, {broken}, "t1");
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message().find("still format 1") != std::string::npos);
  CHECK(r.status().message().find("disk on fire") != std::string::npos);
  CHECK(InspectStore(path)->format == 1);
  CHECK(InspectStore(path)->objects == 3);
  CHECK(OpenAt(path) != nullptr);  // the old tmcd still opens it
  auto again = MigrateStore(path, 2, {DropB()}, "t2");
  REQUIRE(again.ok());
  CHECK(InspectStore(path)->objects == 2);
  CHECK(std::filesystem::exists(path + ".before-format-1-t1"));  // the first attempt's checkpoint is kept
}

TEST_CASE("a missing step, or a store newer than the target, changes nothing") {
  TempDir dir;
  const std::string path = ThreeObjects(dir);
  auto r = MigrateStore(path, 3, {DropB()}, "t1");
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message().find("no migration from format 2 to 3") != std::string::npos);
  CHECK(InspectStore(path)->format == 1);
  CHECK_FALSE(std::filesystem::exists(path + ".before-format-1-t1"));
  auto same = MigrateStore(path, 1, {}, "t1");
  REQUIRE(same.ok());
  CHECK(same->checkpoints.empty());
  CHECK_FALSE(MigrateStore(path, 0, {}, "t1").ok());
  CHECK(MigrateStore(dir.path() + "/none", 1, {}, "t1").status().reason() == Reason::kNotFound);
}

TEST_CASE("every earlier format of this tmcd has its migration step") {
  for (uint32_t f = 1; f < kStoreFormat; ++f) {
    const auto& steps = MigrationSteps();
    CHECK_MESSAGE(std::any_of(steps.begin(), steps.end(), [f](const MigrationStep& m) { return m.from == f; }),
                  "kStoreFormat is ", kStoreFormat, " but no step migrates format ", f);
  }
  for (const auto& m : MigrationSteps()) CHECK(m.from < kStoreFormat);
}

}  // namespace
}  // namespace tmcd::store
