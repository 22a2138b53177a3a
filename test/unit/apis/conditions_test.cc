#include <doctest/doctest.h>

#include "apis/meta/condition.h"

namespace tmcd::apis {
namespace {

Time T(int64_t s) {
  return {s, true};
}

TEST_CASE("SetCondition moves lastTransitionTime only on a status transition") {
  std::vector<Condition> list;
  CHECK(SetCondition(list, {"Ready", "False", 1, {}, "Probing", "first probe pending"}, T(100)));
  REQUIRE(list.size() == 1);
  CHECK(list[0].last_transition_time == T(100));

  // Same status, new reason/message/generation: updated in place, time kept.
  CHECK(SetCondition(list, {"Ready", "False", 2, {}, "Unreachable", "dial tcp: refused"}, T(200)));
  CHECK(list[0].last_transition_time == T(100));
  CHECK(list[0].reason == "Unreachable");
  CHECK(list[0].observed_generation == 2);

  // Identical: no change reported.
  CHECK_FALSE(SetCondition(list, {"Ready", "False", 2, {}, "Unreachable", "dial tcp: refused"}, T(300)));
  CHECK(list[0].last_transition_time == T(100));

  // Transition: time moves.
  CHECK(SetCondition(list, {"Ready", "True", 2, {}, "Healthy", ""}, T(400)));
  CHECK(list[0].last_transition_time == T(400));
  CHECK(IsConditionTrue(list, "Ready"));

  CHECK(SetCondition(list, {"Reachable", "True", 2, {}, "Probed", ""}, T(500)));
  CHECK(list.size() == 2);
  CHECK(FindCondition(list, "Reachable")->last_transition_time == T(500));
  CHECK(FindCondition(list, "Missing") == nullptr);
  CHECK_FALSE(IsConditionTrue(list, "Missing"));
  CHECK(RemoveCondition(list, "Reachable"));
  CHECK_FALSE(RemoveCondition(list, "Reachable"));
  CHECK(list.size() == 1);
}

}  // namespace
}  // namespace tmcd::apis

#include "apis/meta/codec.h"

namespace tmcd::apis {
namespace {

TEST_CASE("conditions decode strictly and encode with message kept even when empty") {
  std::string_view json =
      R"({"type":"Ready","status":"True","observedGeneration":2,"lastTransitionTime":"2026-11-27T10:00:00Z",)"
      R"("reason":"Healthy","message":""})";
  Condition c;
  FieldErrors errs;
  REQUIRE(DecodeJson(json, c, errs).ok());
  CHECK(errs.empty());
  CHECK(c.observed_generation == 2);
  CHECK(EncodeJson(c) == json);
  std::vector<Condition> list;
  REQUIRE(DecodeJson(R"([{"type":"A","status":1,"x":true}])", list, errs).ok());
  REQUIRE(errs.size() == 2);
  CHECK(errs.errors()[0].Message() == "[0].status: Invalid value: 1: must be of type string");
  CHECK(errs.errors()[1].Message() == "unknown field \"[0].x\"");
}

}  // namespace
}  // namespace tmcd::apis
