#include "kube/errors.h"

#include <doctest/doctest.h>

namespace tmcd::kube {
namespace {

TEST_CASE("Status bodies decode to the same reason, message and causes") {
  Status s = DecodeStatus(422, R"({"kind":"Status","apiVersion":"v1","status":"Failure","message":"bad spec",
    "reason":"Invalid","details":{"causes":[{"reason":"FieldValueInvalid","message":"must be positive","field":"spec.x"}]},
    "code":422})");
  CHECK(s.reason() == Reason::kInvalid);
  CHECK(s.message() == "bad spec");
  REQUIRE(s.causes().size() == 1);
  CHECK(s.causes()[0] == Cause{"FieldValueInvalid", "must be positive", "spec.x"});
  CHECK(DecodeStatus(410, R"({"kind":"Status","reason":"Expired","message":"too old","code":410})").reason() ==
        Reason::kExpired);
  CHECK(DecodeStatus(409, R"({"kind":"Status","reason":"AlreadyExists","code":409})").reason() ==
        Reason::kAlreadyExists);
  CHECK(DecodeStatus(500, R"({"kind":"Status","reason":"ServerTimeout","code":500})").reason() == Reason::kTimeout);
}

TEST_CASE("bodies that are not a Status get a reason from the code") {
  CHECK(DecodeStatus(401, "Unauthorized").reason() == Reason::kUnauthorized);
  CHECK(DecodeStatus(401, "Unauthorized").message() == "HTTP 401: Unauthorized");
  CHECK(DecodeStatus(502, "<html>bad gateway</html>").reason() == Reason::kInternalError);
  CHECK(DecodeStatus(404, R"({"kind":"Other"})").reason() == Reason::kNotFound);
  CHECK(DecodeStatus(409, R"({"kind":"Status","reason":"SomethingNew","code":409})").reason() == Reason::kConflict);
}

TEST_CASE("a Status whose fields have the wrong JSON types decodes without throwing") {
  // Found by fuzz_watch_decoder: a peer's ERROR event with "kind" as an object aborted the process.
  CHECK(DecodeStatus(500, R"({"kind":{"x":1},"message":"m"})").reason() == Reason::kInternalError);
  Status s = DecodeStatus(409, R"({"kind":"Status","reason":7,"message":["m"],
    "details":{"causes":[{"reason":{},"message":1,"field":null}]}})");
  CHECK(s.reason() == Reason::kConflict);
  CHECK(s.message() == "HTTP 409");
  REQUIRE(s.causes().size() == 1);
  CHECK(s.causes()[0] == Cause{"", "", ""});
}

TEST_CASE("retriable and expired") {
  CHECK(IsRetriable(Status(Reason::kTooManyRequests, "")));
  CHECK(IsRetriable(Status(Reason::kServiceUnavailable, "")));
  CHECK_FALSE(IsRetriable(Status(Reason::kForbidden, "")));
  CHECK_FALSE(IsRetriable(Status(Reason::kConflict, "")));
  CHECK(IsExpired(Status(Reason::kGone, "")));
  CHECK(IsExpired(Status(Reason::kExpired, "")));
}

}  // namespace
}  // namespace tmcd::kube
