#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <thread>

#include "temp_store.h"

namespace tmcd::store {
namespace {

using std::chrono::milliseconds;
using testing::Key;
using testing::OpenAt;
using testing::TempDir;

std::vector<Event> Drain(Watcher& w, size_t want, milliseconds timeout = milliseconds(2000)) {
  std::vector<Event> out;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (out.size() < want && std::chrono::steady_clock::now() < deadline) {
    auto e = w.Next(milliseconds(50));
    if (!e.ok()) break;
    if (e->has_value()) out.push_back(***e);
  }
  return out;
}

TEST_CASE("watch replays history after a revision, then follows live, filtered by prefix") {
  TempDir dir;
  auto s = OpenAt(dir.path());
  REQUIRE(s);
  REQUIRE(s->Create(Key("a"), "1").ok());           // rev 1
  REQUIRE(s->Create(Key("b", "other"), "1").ok());  // rev 2, other namespace
  REQUIRE(s->Update(Key("a"), "2", 1).ok());        // rev 3
  auto w = s->Watch(NamespacePrefix("root", "apps", "deployments", "default"), 1);
  REQUIRE(w.ok());
  REQUIRE(s->Delete(Key("a"), 0).ok());  // rev 4, live
  auto events = Drain(**w, 2);
  REQUIRE(events.size() == 2);
  CHECK(events[0].revision == 3);
  CHECK(events[0].type == EventType::kModified);
  CHECK(events[0].object.json == "2");
  CHECK(events[1].revision == 4);
  CHECK(events[1].type == EventType::kDeleted);
  CHECK(events[1].object.json == "2");  // the last state
  CHECK((*w)->Next(milliseconds(20))->has_value() == false);
  CHECK(s->WatcherCount() == 1);
}

TEST_CASE("a watch started during a write storm sees every later event exactly once, in order") {
  TempDir dir;
  auto s = OpenAt(dir.path());
  REQUIRE(s);
  REQUIRE(s->Create(Key("x"), "0").ok());
  std::thread writer([&] {
    for (int i = 1; i <= 400; ++i) REQUIRE(s->Update(Key("x"), std::to_string(i), 0).ok());
  });
  std::this_thread::sleep_for(milliseconds(5));
  const uint64_t from = 10;
  auto w = s->Watch(ResourcePrefix("root", "apps", "deployments"), from);
  writer.join();
  REQUIRE(w.ok());
  const uint64_t last = s->CurrentRevision();
  auto events = Drain(**w, last - from);
  REQUIRE(events.size() == last - from);
  for (size_t i = 0; i < events.size(); ++i) CHECK(events[i].revision == from + 1 + i);
}

TEST_CASE("compaction by count and by age; watching a compacted revision is Expired") {
  TempDir dir;
  StoreOptions opts;
  opts.keep_revisions = 3;
  opts.keep_age = std::chrono::seconds(60);
  auto s = OpenAt(dir.path(), opts);
  REQUIRE(s);
  for (int i = 0; i < 10; ++i) REQUIRE(s->Create(Key("o" + std::to_string(i)), "{}").ok());  // revs 1..10
  // The count keeps the newest 3 events; once they are older than keep_age they go too.
  CHECK(s->CompactOnce().value() == 7);
  testing::TestClock().Advance(std::chrono::seconds(120));
  CHECK(s->CompactOnce().value() == 10);
  CHECK(s->CompactedRevision() == 10);
  auto expired = s->Watch(ResourcePrefix("root", "apps", "deployments"), 5);
  REQUIRE_FALSE(expired.ok());
  CHECK(expired.status().reason() == Reason::kExpired);
  CHECK(expired.status().message() == "too old resource version: 5 (10)");
  CHECK(s->Watch(ResourcePrefix("root", "apps", "deployments"), 10).ok());
  CHECK(s->Get(Key("o3")).ok());  // compaction drops history, never objects
  auto reopened_rev = s->CompactedRevision();
  s.reset();
  auto again = OpenAt(dir.path(), opts);
  REQUIRE(again);
  CHECK(again->CompactedRevision() == reopened_rev);
}

TEST_CASE("a slow watcher is closed, writers never block on it") {
  TempDir dir;
  StoreOptions opts;
  opts.watch_queue_limit = 5;
  auto s = OpenAt(dir.path(), opts);
  REQUIRE(s);
  auto w = s->Watch(ResourcePrefix("root", "apps", "deployments"), 0);
  REQUIRE(w.ok());
  for (int i = 0; i < 20; ++i) REQUIRE(s->Create(Key("o" + std::to_string(i)), "{}").ok());
  auto next = (*w)->Next(milliseconds(10));
  REQUIRE_FALSE(next.ok());
  CHECK(next.status().reason() == Reason::kGone);
  CHECK(s->WatcherCount() == 0);
}

TEST_CASE("watchers share events and are closed by the bytes they hold") {
  TempDir dir;
  StoreOptions opts;
  opts.watch_queue_bytes = size_t{3} << 20;
  auto s = OpenAt(dir.path(), opts);
  REQUIRE(s);
  auto slow = s->Watch("", 0);
  auto fast = s->Watch("", 0);
  REQUIRE(slow.ok());
  REQUIRE(fast.ok());
  const std::string big = "{\"data\":\"" + std::string(size_t{1} << 20, 'x') + "\"}";
  REQUIRE(s->Create(Key("a"), big).ok());
  REQUIRE(s->Create(Key("b"), big).ok());
  CHECK((*slow)->queued_bytes() > (size_t{2} << 20));
  auto from_fast = (*fast)->Next(milliseconds(10));
  REQUIRE(from_fast.ok());
  REQUIRE(from_fast->has_value());
  {
    auto from_slow = (*slow)->Next(milliseconds(10));
    REQUIRE(from_slow.ok());
    REQUIRE(from_slow->has_value());
    CHECK(from_slow->value().get() == from_fast->value().get());  // the same event, not a copy
    CHECK((*slow)->queued_bytes() < (size_t{2} << 20));
  }
  REQUIRE(s->Create(Key("c"), big).ok());
  REQUIRE(s->Create(Key("d"), big).ok());  // the slow watcher now holds more than 3 MiB: closed
  auto next = (*slow)->Next(milliseconds(10));
  REQUIRE_FALSE(next.ok());
  CHECK(next.status().reason() == Reason::kGone);
  CHECK(next.status().message().find("bytes behind") != std::string::npos);
  CHECK((*slow)->queued_bytes() == 0);
}

TEST_CASE("closing the store ends open watches") {
  TempDir dir;
  auto s = OpenAt(dir.path());
  REQUIRE(s);
  auto w = s->Watch("", 0);
  REQUIRE(w.ok());
  auto keep = *w;
  s.reset();
  auto next = keep->Next(milliseconds(10));
  REQUIRE_FALSE(next.ok());
  CHECK(next.status().reason() == Reason::kServiceUnavailable);
}

TEST_CASE("group commit: concurrent fsynced writers get contiguous revisions, each its own result, in watch order") {
  TempDir dir;
  StoreOptions opts;
  opts.path = dir.path();
  opts.sync_writes = true;  // slow commits: writers queue up and share groups
  opts.compaction_interval = milliseconds(0);
  auto opened = Store::Open(opts, testing::TestClock());
  REQUIRE(opened.ok());
  auto store = std::move(opened).value();
  auto w = store->Watch(ResourcePrefix("root", "apps", "deployments"), 0);
  REQUIRE(w.ok());
  REQUIRE(store->Create(Key("shared"), "0").ok());
  const std::string uid = store->Get(Key("shared"))->uid;
  constexpr int kThreads = 8;
  constexpr int kEach = 20;
  std::atomic<int> created_race{0};
  std::vector<std::thread> threads;
  std::vector<std::vector<uint64_t>> revs(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      // Everyone creates the same key once: exactly one wins, in whichever group it lands.
      if (store->Create(Key("race"), std::to_string(t)).ok()) created_race++;
      for (int i = 0; i < kEach; ++i) {
        auto own = store->Create(Key("t" + std::to_string(t) + "-" + std::to_string(i)), "{}");
        REQUIRE(own.ok());
        revs[t].push_back(own->mod_revision);
        // Unconditional updates of one key from every thread: several land in the same group and
        // must each see the previous one (identity and creation revision kept).
        auto up = store->Update(Key("shared"), std::to_string(t), 0);
        REQUIRE(up.ok());
        CHECK(up->uid == uid);
        CHECK(up->create_revision == 1);
        revs[t].push_back(up->mod_revision);
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(created_race.load() == 1);
  const uint64_t total = 1 + 1 + static_cast<uint64_t>(kThreads) * kEach * 2;  // shared, race, own + updates
  CHECK(store->CurrentRevision() == total);
  std::vector<uint64_t> all;
  for (const auto& v : revs) all.insert(all.end(), v.begin(), v.end());
  std::sort(all.begin(), all.end());
  CHECK(std::adjacent_find(all.begin(), all.end()) == all.end());  // every result its own revision
  auto events = Drain(**w, total, milliseconds(10000));
  REQUIRE(events.size() == total);
  for (size_t i = 0; i < events.size(); ++i) CHECK(events[i].revision == i + 1);  // contiguous, in order
}

}  // namespace
}  // namespace tmcd::store
