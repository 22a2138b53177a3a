// Failover of advanced placement: tolerations' seconds on NoExecute taints and on the not-ready taint,
// evictions that end only when the new copies are Ready (or the grace period ends), the workspace's
// budget of moves, and how the schedule keeps, evicts or holds a cluster it uses.
#include "engine/placement_failover.h"

#include <doctest/doctest.h>

#include "apis/tmc/v1alpha1/register.h"
#include "engine/placement_schedule.h"
#include "schedule_helpers.h"

namespace tmcd::engine {
namespace {

using std::chrono::seconds;
using testing::Chosen;
using testing::ReadyCluster;
using testing::VerdictOf;
using testing::WebPlacement;

const TimePoint kT0 = TimePoint(seconds(1795773600));

v1::ClusterRegistration NotReady(const std::string& name, TimePoint since) {
  auto c = ReadyCluster(name, "lab");
  c.status.conditions[0].status = "False";
  c.status.conditions[0].reason = "Unreachable";
  c.status.conditions[0].last_transition_time = apis::Time::FromTimePoint(since);
  return c;
}

v1::Toleration NotReadyToleration(std::optional<int64_t> secs) {
  return {std::string(v1::kNotReadyTaint), "Exists", "", "NoExecute", secs};
}

TEST_CASE("tolerance: the not-ready taint by tolerationSeconds, counted from the Ready transition") {
  CHECK_FALSE(NoExecuteTolerance(ReadyCluster("a", "lab"), {}, kT0).has_value());
  const auto c = NotReady("a", kT0);
  auto none = NoExecuteTolerance(c, {}, kT0 + seconds(1));
  REQUIRE(none);
  CHECK(none->evict);
  CHECK(none->reason == "ClusterNotReady");
  CHECK(none->message.find("not tolerated") != std::string::npos);

  auto within = NoExecuteTolerance(c, {NotReadyToleration(300)}, kT0 + seconds(100));
  REQUIRE(within);
  CHECK_FALSE(within->evict);
  CHECK_FALSE(within->ready);
  REQUIRE(within->until);
  CHECK(*within->until == kT0 + seconds(300));
  auto beyond = NoExecuteTolerance(c, {NotReadyToleration(300)}, kT0 + seconds(300));
  REQUIRE(beyond);
  CHECK(beyond->evict);
  CHECK(beyond->message.find("beyond its tolerationSeconds (300)") != std::string::npos);

  // The smallest matching toleration decides; one without seconds tolerates for ever; negative is 0.
  auto two = NoExecuteTolerance(c, {NotReadyToleration(300), {"", "Exists", "", "NoExecute", 30}}, kT0 + seconds(40));
  CHECK((two && two->evict));
  auto forever = NoExecuteTolerance(c, {NotReadyToleration(std::nullopt)}, kT0 + seconds(100000));
  REQUIRE(forever);
  CHECK_FALSE(forever->evict);
  CHECK_FALSE(forever->until.has_value());
  auto negative = NoExecuteTolerance(c, {NotReadyToleration(-5)}, kT0);
  CHECK((negative && negative->evict));
  // A NoSchedule-only toleration does not match a NoExecute taint.
  auto other = NoExecuteTolerance(c, {{std::string(v1::kNotReadyTaint), "Exists", "", "NoSchedule", std::nullopt}},
                                  kT0 + seconds(1));
  CHECK((other && other->evict));
}

TEST_CASE("tolerance: NoExecute taints from timeAdded, or from when they were first seen") {
  auto c = ReadyCluster("a", "lab");
  c.spec.taints.push_back({"maintenance", "yes", "NoExecute", apis::Time::FromTimePoint(kT0)});
  const v1::Toleration tol{"maintenance", "Equal", "yes", "NoExecute", 60};
  auto t = NoExecuteTolerance(c, {tol}, kT0 + seconds(59));
  REQUIRE(t);
  CHECK_FALSE(t->evict);
  CHECK(t->ready);
  auto later = NoExecuteTolerance(c, {tol}, kT0 + seconds(60));
  CHECK((later && later->evict && later->reason == "NoExecuteTaint"));
  // Untolerated: at once. A NoSchedule taint is not this function's business.
  CHECK(NoExecuteTolerance(c, {}, kT0)->evict);
  c.spec.taints[0].time_added = {};
  int asked = 0;
  TaintClock first_seen = [&](const std::string& cluster, const v1::Taint& taint) {
    ++asked;
    CHECK(cluster == "a");
    CHECK(taint.key == "maintenance");
    return kT0 + seconds(30);
  };
  auto seen = NoExecuteTolerance(c, {tol}, kT0 + seconds(80), first_seen);
  CHECK(asked == 1);
  CHECK((seen && !seen->evict && *seen->until == kT0 + seconds(90)));
}

TEST_CASE("evictions: added once, kept until every chosen cluster holds Ready copies or the grace period ends") {
  const std::map<std::string, std::pair<std::string, std::string>> evicted = {{"a", {"ClusterNotReady", "down"}}};
  const std::vector<v1::ClusterDecision> decisions = {{"b", "lab", std::nullopt, 0, "", std::nullopt}};
  const std::vector<std::string> clusters = {"a", "b"};
  std::vector<std::string> finished;
  EvictionProgress waiting{{{"b", 1}}, 2};
  auto e = UpdateEvictions({}, evicted, decisions, clusters, waiting, kT0, seconds(600), finished);
  REQUIRE(e.size() == 1);
  CHECK(e[0].cluster_name == "a");
  CHECK(e[0].reason == "ClusterNotReady");
  CHECK(e[0].start_time == apis::Time::FromTimePoint(kT0));
  // Evicted again later: the move keeps its start time.
  auto again = UpdateEvictions(e, evicted, decisions, clusters, waiting, kT0 + seconds(10), seconds(600), finished);
  REQUIRE(again.size() == 1);
  CHECK(again[0].start_time == e[0].start_time);
  CHECK(finished.empty());

  EvictionProgress done{{{"b", 2}}, 2};
  CHECK(UpdateEvictions(e, {}, decisions, clusters, done, kT0 + seconds(20), seconds(600), finished).empty());
  CHECK(finished.back().find("Ready copy") != std::string::npos);
  CHECK(UpdateEvictions(e, {}, decisions, clusters, waiting, kT0 + seconds(600), seconds(600), finished).empty());
  CHECK(finished.back().find("grace period") != std::string::npos);
  const std::vector<v1::ClusterDecision> back = {{"a", "lab", std::nullopt, 0, "", std::nullopt}};
  CHECK(UpdateEvictions(e, {}, back, clusters, waiting, kT0, seconds(600), finished).empty());
  CHECK(finished.back().find("chosen again") != std::string::npos);
  CHECK(UpdateEvictions(e, {}, decisions, {"b"}, waiting, kT0, seconds(600), finished).empty());
  CHECK(finished.back().find("gone") != std::string::npos);
}

TEST_CASE("budget: at most max moves per sliding interval, per workspace; a retried move counts once") {
  FailoverBudget b(2, seconds(60));
  CHECK(b.Take("root", "p/a", kT0));
  CHECK(b.Take("root", "p/b", kT0 + seconds(10)));
  CHECK_FALSE(b.Take("root", "q/a", kT0 + seconds(20)));
  CHECK(b.Take("root", "p/a", kT0 + seconds(20)));  // the same move again
  CHECK(b.Take("root:other", "q/a", kT0 + seconds(20)));
  CHECK(b.NextFree("root", kT0 + seconds(20)) == kT0 + seconds(60));
  CHECK(b.Take("root", "q/a", kT0 + seconds(60)));
  FailoverBudget unlimited(0, seconds(60));
  for (int i = 0; i < 100; ++i) CHECK(unlimited.Take("root", std::to_string(i), kT0));
}

TEST_CASE("schedule with failover: a used NotReady cluster stays while tolerated, then is evicted and replaced") {
  auto p = WebPlacement("Spread", 1);
  p.spec.tolerations.push_back(NotReadyToleration(60));
  p.status.decisions.push_back({"a", "lab", std::nullopt, 0, "", std::nullopt});
  const std::vector<v1::ClusterRegistration> clusters = {NotReady("a", kT0), ReadyCluster("b", "lab")};
  ScheduleOptions o{true, {}, kT0 + seconds(30), {}, nullptr};
  auto within = Schedule(p, "root/shop/web", clusters, o);
  CHECK(Chosen(within) == std::vector<std::string>{"a"});
  CHECK(VerdictOf(within, "a").sticky);
  CHECK(within.evicted.empty());
  REQUIRE(within.requeue_at);
  CHECK(*within.requeue_at == kT0 + seconds(60));

  o.now = kT0 + seconds(61);
  auto beyond = Schedule(p, "root/shop/web", clusters, o);
  CHECK(Chosen(beyond) == std::vector<std::string>{"b"});
  CHECK(VerdictOf(beyond, "a").evict == "ClusterNotReady");
  REQUIRE(beyond.evicted.count("a") == 1);

  o.hold = {"a"};  // the budget says wait
  auto held = Schedule(p, "root/shop/web", clusters, o);
  CHECK(Chosen(held) == std::vector<std::string>{"a"});
  CHECK(held.held == std::vector<std::string>{"a"});
  CHECK(held.evicted.empty());

  // Left for another reason too (here: being deleted), it is no failover: it goes at once.
  auto deleted = clusters;
  deleted[0].metadata.deletion_timestamp = apis::Time::FromTimePoint(kT0);
  auto gone = Schedule(p, "root/shop/web", deleted, o);
  CHECK(Chosen(gone) == std::vector<std::string>{"b"});
  CHECK(gone.evicted.empty());
  CHECK(gone.held.empty());

  // A NotReady cluster, even tolerated, takes no new placement.
  p.status.decisions.clear();
  o.now = kT0 + seconds(30);
  o.hold.clear();
  CHECK(Chosen(Schedule(p, "root/shop/web", clusters, o)) == std::vector<std::string>{"b"});
}

TEST_CASE("schedule without the gate: NotReady leaves at once, tolerationSeconds is refused") {
  auto p = WebPlacement("Spread", 1);
  p.status.decisions.push_back({"a", "lab", std::nullopt, 0, "", std::nullopt});
  const std::vector<v1::ClusterRegistration> clusters = {NotReady("a", kT0), ReadyCluster("b", "lab")};
  auto r = Schedule(p, "root/shop/web", clusters);
  CHECK(Chosen(r) == std::vector<std::string>{"b"});
  CHECK(r.evicted.empty());
  p.spec.tolerations.push_back(NotReadyToleration(60));
  auto refused = v1::UnimplementedFields(p.spec, false);
  REQUIRE(refused.size() == 1);
  CHECK(refused[0].path == "spec.tolerations[0].tolerationSeconds");
  CHECK(v1::UnimplementedFields(p.spec, true).empty());
}

}  // namespace
}  // namespace tmcd::engine
