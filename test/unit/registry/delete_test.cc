// Delete against a concurrent writer: a write that lands between Delete's read and its own write (a
// controller adding a finalizer or writing status) must not turn an unconditional DELETE into a 409,
// while a DELETE with a resourceVersion precondition must still fail. The race is made
// deterministic by a clock that performs the other write the first time Delete asks for the time.
#include <doctest/doctest.h>

#include <functional>

#include "common/clock.h"
#include "create_object.h"
#include "registry/objects.h"
#include "temp_store.h"

namespace tmcd::registry {
namespace {

using Json = nlohmann::json;
using store::testing::OpenAt;
using store::testing::TempDir;

// Runs `race` once, on the first Now() after it is armed.
class RacingClock final : public Clock {
 public:
  TimePoint Now() const override {
    if (race) {
      auto once = std::move(race);
      race = nullptr;
      once();
    }
    return std::chrono::system_clock::now();
  }
  mutable std::function<void()> race;
};

Json HeldConfigMap() {
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata", {{"name", "held"}, {"finalizers", Json::array({"example.com/hold"})}}},
          {"data", {{"v", "1"}}}};
}

TEST_CASE("an unconditional delete retries over a concurrent write; a pinned one does not") {
  TempDir dir;
  auto s = OpenAt(dir.path());
  RacingClock clock;
  RealClock real;
  ObjectService objects(*s, clock);
  ObjectService other(*s, real);  // the concurrent writer, on the same store
  Request req;
  req.workspace = "root";
  req.namespace_ = "default";
  req.name = "held";
  const auto cms = objects.catalog().Find("root", "", "v1", "configmaps");
  REQUIRE(cms != nullptr);
  auto write = [&](const std::string& v) {
    auto patched = other.Patch(req, *cms, "application/merge-patch+json", R"({"data":{"v":")" + v + R"("}})", false);
    REQUIRE_MESSAGE(patched.ok(), patched.status().ToString());
  };

  SUBCASE("without preconditions the delete marks the object as it is after the other write") {
    testing::CreateObject(objects, "root", "", "v1", "configmaps", "default", HeldConfigMap());
    clock.race = [&] { write("2"); };
    auto marked = objects.Delete(req, *cms, Json::object());
    REQUIRE_MESSAGE(marked.ok(), marked.status().ToString());
    CHECK((*marked)["metadata"].contains("deletionTimestamp"));
    CHECK((*marked)["data"]["v"] == "2");  // the concurrent write is kept, not overwritten
  }
  SUBCASE("a resourceVersion precondition is still a precondition") {
    auto made = testing::CreateObject(objects, "root", "", "v1", "configmaps", "default", HeldConfigMap());
    clock.race = [&] { write("3"); };
    const Json options = {{"preconditions", {{"resourceVersion", made["metadata"]["resourceVersion"]}}}};
    auto refused = objects.Delete(req, *cms, options);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.status().reason() == Reason::kConflict);
    auto still = objects.Get(req, *cms);
    REQUIRE(still.ok());
    CHECK_FALSE((*still)["metadata"].contains("deletionTimestamp"));
  }
  SUBCASE("a uid precondition that does not match is answered at once") {
    testing::CreateObject(objects, "root", "", "v1", "configmaps", "default", HeldConfigMap());
    auto refused = objects.Delete(req, *cms, {{"preconditions", {{"uid", "not-this-one"}}}});
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.status().message().find("Precondition failed: UID") != std::string::npos);
  }
}

}  // namespace
}  // namespace tmcd::registry
