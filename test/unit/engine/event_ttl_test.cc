// Event expiry (engine/event_ttl.h): an Event goes once the TTL has passed since its latest time
// field, not before; a write in between (a repeat's new lastTimestamp) moves the expiry; the delete
// carries the revision it read, so a concurrent update is never lost. Real RocksDB, fake clock.
#include "engine/event_ttl.h"

#include <doctest/doctest.h>

#include <chrono>

#include "temp_store.h"

namespace tmcd::engine {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

std::string EventAt(const std::string& last) {
  return R"({"apiVersion":"v1","kind":"Event","metadata":{"name":"web.1","namespace":"shop",)"
         R"("creationTimestamp":"2026-11-29T10:00:00Z"},"involvedObject":{"kind":"Deployment","name":"web"},)"
         R"("firstTimestamp":"2026-11-29T10:00:00Z","lastTimestamp":")" +
         last + R"("})";
}

const store::ObjectKey kKey{"root", "", "events", "shop", "web.1"};

TEST_CASE("an Event expires ttl after its latest time, and a later write moves that") {
  store::testing::TempDir dir;
  auto s = store::testing::OpenAt(dir.path());
  REQUIRE(s != nullptr);
  const auto start = Clock::TimePoint(std::chrono::sys_days(std::chrono::year(2026) / 11 / 29)) + hours(10);
  FakeClock clock(start);
  EventExpiry ttl(*s, clock, hours(1));
  REQUIRE(s->Create(kKey, EventAt("2026-11-29T10:30:00Z")).ok());
  CHECK(ttl.ExpiresAt(EventAt("2026-11-29T10:30:00Z")) == start + minutes(90));
  // Garbage or missing times: the creation time counts, else the epoch (gone at once).
  CHECK(ttl.ExpiresAt("{}") == Clock::TimePoint(hours(1)));
  CHECK(ttl.ExpiresAt("not json") == Clock::TimePoint(hours(1)));

  auto r = ttl.Reconcile("root|shop/web.1");
  REQUIRE(r.ok());
  CHECK(r->requeue_after == minutes(90));  // not yet: asks to be called when it expires
  CHECK(s->Get(kKey).ok());

  clock.Advance(minutes(80));  // a repeat 80 minutes in: seen again at 11:20
  auto cur = s->Get(kKey);
  REQUIRE(cur.ok());
  REQUIRE(s->Update(kKey, EventAt("2026-11-29T11:20:00Z"), cur->mod_revision).ok());
  clock.Advance(minutes(10));  // 11:30, the first expiry: the repeat keeps it
  r = ttl.Reconcile("root|shop/web.1");
  REQUIRE(r.ok());
  CHECK(r->requeue_after == minutes(50));
  CHECK(s->Get(kKey).ok());

  clock.Advance(minutes(50));  // 12:20
  r = ttl.Reconcile("root|shop/web.1");
  REQUIRE(r.ok());
  CHECK(r->requeue_after == std::chrono::milliseconds(0));
  CHECK(s->Get(kKey).status().reason() == Reason::kNotFound);
  CHECK(ttl.Reconcile("root|shop/web.1").ok());  // already gone: nothing to do
  CHECK(ttl.Reconcile("garbage").ok());
}

TEST_CASE("a clock just behind the event's own time asks again a second later, not at once") {
  store::testing::TempDir dir;
  auto s = store::testing::OpenAt(dir.path());
  REQUIRE(s != nullptr);
  const auto start = Clock::TimePoint(std::chrono::sys_days(std::chrono::year(2026) / 11 / 29)) + hours(11);
  FakeClock clock(start - std::chrono::milliseconds(200));
  EventExpiry ttl(*s, clock, minutes(1));
  REQUIRE(s->Create(kKey, EventAt("2026-11-29T10:59:00Z")).ok());
  auto r = ttl.Reconcile("root|shop/web.1");
  REQUIRE(r.ok());
  CHECK(r->requeue_after == seconds(1));
  CHECK(s->Get(kKey).ok());
}

}  // namespace
}  // namespace tmcd::engine
