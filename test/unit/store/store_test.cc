#include <doctest/doctest.h>

#include <atomic>
#include <thread>

#include "temp_store.h"

namespace tmcd::store {
namespace {

using testing::Key;
using testing::OpenAt;
using testing::TempDir;

TEST_CASE("create, get, update with optimistic concurrency, delete") {
  TempDir dir;
  auto s = OpenAt(dir.path());
  REQUIRE(s);
  CHECK(s->CurrentRevision() == 0);
  auto a = s->Create(Key("web"), R"({"v":1})");
  REQUIRE(a.ok());
  CHECK(a->create_revision == 1);
  CHECK(a->mod_revision == 1);
  CHECK(a->uid.size() == 16);
  CHECK(s->Create(Key("web"), "{}").status().reason() == Reason::kAlreadyExists);
  CHECK(s->Get(Key("web"))->json == R"({"v":1})");

  auto stale = s->Update(Key("web"), R"({"v":2})", 99);
  CHECK(stale.status().reason() == Reason::kConflict);
  CHECK(stale.status().message().find("the object has been modified") != std::string::npos);
  auto b = s->Update(Key("web"), R"({"v":2})", 1);
  REQUIRE(b.ok());
  CHECK(b->mod_revision == 2);
  CHECK(b->create_revision == 1);
  CHECK(b->uid == a->uid);
  CHECK(s->Update(Key("web"), R"({"v":3})", 0)->mod_revision == 3);  // 0 = unconditional

  CHECK(s->Delete(Key("web"), 2).status().reason() == Reason::kConflict);
  auto d = s->Delete(Key("web"), 3);
  REQUIRE(d.ok());
  CHECK(d->mod_revision == 4);
  CHECK(s->Get(Key("web")).status().reason() == Reason::kNotFound);
  CHECK(s->Update(Key("web"), "{}", 0).status().reason() == Reason::kNotFound);
  CHECK(s->Delete(Key("web"), 0).status().reason() == Reason::kNotFound);
  CHECK(s->CurrentRevision() == 4);
  CHECK(s->Create({"root", "", "r", "", std::string("a\0b", 3)}, "{}").status().reason() == Reason::kBadRequest);
}

TEST_CASE("Mutate: independent results in order, one WAL sync for the whole batch, watchers see each") {
  TempDir dir;
  StoreOptions o;
  o.path = dir.path();
  o.sync_writes = true;  // what is counted: the syncs
  o.compaction_interval = std::chrono::milliseconds(0);
  auto opened = Store::Open(o, testing::TestClock());
  REQUIRE(opened.ok());
  auto& s = *opened;
  REQUIRE(s->Create(Key("old"), R"({"v":0})").ok());  // revision 1
  auto w = s->Watch("", 1);
  REQUIRE(w.ok());
  const uint64_t syncs = s->Stats().wal_syncs;
  using Op = Store::Mutation::Op;
  std::vector<Store::Mutation> batch;
  batch.reserve(56);
  for (int i = 0; i < 50; ++i)
    batch.push_back({Op::kCreate, Key("w" + std::to_string(i)), R"({"n":)" + std::to_string(i) + "}"});
  batch.push_back({Op::kCreate, Key("old"), "{}"});                                     // exists: fails alone
  batch.push_back({Op::kUpdate, Key("old"), R"({"v":1})", 99});                         // stale: fails alone
  batch.push_back({Op::kUpdate, Key("w0"), R"({"n":"again"})", 0});                     // sees the batch's create
  batch.push_back({Op::kCreate, {"root", "", "r", "", std::string("a\0b", 3)}, "{}"});  // bad key
  batch.push_back({Op::kDelete, Key("old"), "", 1});
  batch.push_back({Op::kCreate, Key("uid"), "{}", 0, std::string(16, 'u')});
  auto results = s->Mutate(std::move(batch));
  REQUIRE(results.size() == 56);
  for (int i = 0; i < 50; ++i) REQUIRE(results[i].ok());
  CHECK(results[0]->mod_revision == 2);
  CHECK(results[49]->mod_revision == 51);
  CHECK(results[50].status().reason() == Reason::kAlreadyExists);
  CHECK(results[51].status().reason() == Reason::kConflict);
  REQUIRE(results[52].ok());
  CHECK(results[52]->create_revision == 2);
  CHECK(results[52]->mod_revision == 52);
  CHECK(results[53].status().reason() == Reason::kBadRequest);
  CHECK(results[54].ok());
  CHECK(results[55]->uid == std::string(16, 'u'));
  CHECK(s->Stats().wal_syncs - syncs == 1);  // 53 writes, one sync
  CHECK(s->CurrentRevision() == 54);
  CHECK(s->Get(Key("old")).status().reason() == Reason::kNotFound);
  CHECK(s->Get(Key("w0"))->json == R"({"n":"again"})");
  int seen = 0;
  while (seen < 53) {
    auto e = (*w)->Next(std::chrono::milliseconds(200));
    REQUIRE(e.ok());
    if (!e->has_value()) break;
    CHECK((**e)->revision == static_cast<uint64_t>(seen + 2));  // every write, in the batch's order
    ++seen;
  }
  CHECK(seen == 53);
  CHECK(s->Mutate({}).empty());
}

TEST_CASE("lists: snapshot revision, limit and continue, namespace and workspace isolation") {
  TempDir dir;
  auto s = OpenAt(dir.path());
  REQUIRE(s);
  for (const char* n : {"a", "b", "c", "d", "e"}) REQUIRE(s->Create(Key(n), "{}").ok());
  REQUIRE(s->Create(Key("z", "other"), "{}").ok());
  REQUIRE(s->Create(Key("a", "default", "root:tenant-b"), "{}").ok());
  auto all = s->List(ResourcePrefix("root", "apps", "deployments"), 0, "");
  REQUIRE(all.ok());
  CHECK(all->revision == 7);
  CHECK(all->items.size() == 6);  // not the other workspace's object
  auto page1 = s->List(NamespacePrefix("root", "apps", "deployments", "default"), 2, "");
  REQUIRE(page1.ok());
  CHECK(page1->items.size() == 2);
  REQUIRE_FALSE(page1->next_key.empty());
  auto page2 = s->List(NamespacePrefix("root", "apps", "deployments", "default"), 2, page1->next_key);
  CHECK(DecodeKey(page2->items[0].first)->name == "c");
  auto page3 = s->List(NamespacePrefix("root", "apps", "deployments", "default"), 2, page2->next_key);
  CHECK(page3->items.size() == 1);
  CHECK(page3->next_key.empty());
  auto other_ws = s->List(ResourcePrefix("root:tenant-b", "apps", "deployments"), 0, "");
  CHECK(other_ws->items.size() == 1);
}

TEST_CASE("concurrent writers lose no update; revisions are unique and increasing") {
  TempDir dir;
  auto s = OpenAt(dir.path());
  REQUIRE(s);
  REQUIRE(s->Create(Key("counter"), "0").ok());
  constexpr int kThreads = 4;
  constexpr int kIncrements = 50;
  std::atomic<int> conflicts{0};
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kIncrements; ++i) {
        while (true) {  // read-modify-write with the resourceVersion precondition, retried on conflict
          auto cur = s->Get(Key("counter"));
          int v = std::stoi(cur->json);
          auto r = s->Update(Key("counter"), std::to_string(v + 1), cur->mod_revision);
          if (r.ok()) break;
          if (r.status().reason() == Reason::kConflict) conflicts++;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(std::stoi(s->Get(Key("counter"))->json) == kThreads * kIncrements);
  CHECK(s->CurrentRevision() == 1 + kThreads * kIncrements);
  MESSAGE("conflicts retried: " << conflicts.load());
}

TEST_CASE("reopen keeps objects, revision and instance; newer formats and unknown families are refused") {
  TempDir dir;
  std::string instance;
  {
    auto s = OpenAt(dir.path());
    REQUIRE(s);
    REQUIRE(s->Create(Key("a"), R"({"x":1})").ok());
    REQUIRE(s->Update(Key("a"), R"({"x":2})", 0).ok());
    instance = s->InstanceId();
  }
  {
    auto s = OpenAt(dir.path());
    REQUIRE(s);
    CHECK(s->CurrentRevision() == 2);
    CHECK(s->InstanceId() == instance);
    CHECK(s->Get(Key("a"))->json == R"({"x":2})");
    CHECK(s->Create(Key("b"), "{}")->mod_revision == 3);
  }
  // Simulate a newer tmcd with RocksDB directly: first a newer format version, then an extra family.
  auto tamper = [&](bool add_family) {
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
    for (const auto& n : ColumnFamilyNames()) cfs.emplace_back(n, rocksdb::ColumnFamilyOptions());
    std::vector<rocksdb::ColumnFamilyHandle*> hs;
    rocksdb::DB* db = nullptr;
    REQUIRE(rocksdb::DB::Open(rocksdb::DBOptions(), dir.path(), cfs, &hs, &db).ok());
    std::string v;
    PutU32(v, kStoreFormat + 1);
    REQUIRE(db->Put(rocksdb::WriteOptions(), hs[1], "format", v).ok());
    if (add_family) {
      rocksdb::ColumnFamilyHandle* extra = nullptr;
      REQUIRE(db->CreateColumnFamily(rocksdb::ColumnFamilyOptions(), "future", &extra).ok());
      hs.push_back(extra);
    }
    for (auto* h : hs) REQUIRE(db->DestroyColumnFamilyHandle(h).ok());
    delete db;  // NOLINT(cppcoreguidelines-owning-memory): RocksDB's raw-pointer API
  };
  StoreOptions opts;
  opts.path = dir.path();
  opts.compaction_interval = std::chrono::milliseconds(0);
  tamper(false);
  auto newer = Store::Open(opts, testing::TestClock());
  REQUIRE_FALSE(newer.ok());
  CHECK(newer.status().message().find("written by a newer tmcd; this tmcd reads format 1") != std::string::npos);
  tamper(true);
  auto unknown = Store::Open(opts, testing::TestClock());
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.status().message().find("unknown column family \"future\"") != std::string::npos);
}

}  // namespace
}  // namespace tmcd::store
