#include "common/status.h"

#include <doctest/doctest.h>

namespace tmcd {
namespace {

Result<int> Half(int x) {
  if (x % 2 != 0) return Invalid("odd");
  return x / 2;
}

Result<int> Quarter(int x) {
  TMCD_ASSIGN_OR_RETURN(int h, Half(x));
  return Half(h);
}

Status Check(int x) {
  TMCD_TRY(Half(x).status());
  return Status::Ok();
}

TEST_CASE("reasons map to Kubernetes names and HTTP codes") {
  struct Row {
    Reason reason;
    std::string_view name;
    int code;
  };
  for (const Row& r :
       {Row{Reason::kNotFound, "NotFound", 404}, Row{Reason::kConflict, "Conflict", 409},
        Row{Reason::kAlreadyExists, "AlreadyExists", 409}, Row{Reason::kExpired, "Expired", 410},
        Row{Reason::kInvalid, "Invalid", 422}, Row{Reason::kTooManyRequests, "TooManyRequests", 429},
        Row{Reason::kUnsupportedMediaType, "UnsupportedMediaType", 415},
        Row{Reason::kRequestEntityTooLarge, "RequestEntityTooLarge", 413}, Row{Reason::kTimeout, "Timeout", 504}}) {
    CHECK(ReasonName(r.reason) == r.name);
    CHECK(HttpCode(r.reason) == r.code);
  }
}

TEST_CASE("Result and the propagation macros") {
  CHECK(*Quarter(8) == 2);
  CHECK(Quarter(6).status().message() == "odd");
  CHECK(Quarter(6).status().reason() == Reason::kInvalid);
  CHECK(Check(4).ok());
  CHECK_FALSE(Check(3).ok());
  CHECK(Invalid("x").Annotate("loading y").ToString() == "Invalid: loading y: x");
  CHECK(Status::Ok().Annotate("z").ok());
}

}  // namespace
}  // namespace tmcd

namespace tmcd {
namespace {

TEST_CASE("reason names map back to reasons") {
  CHECK(ReasonFromName("Conflict") == Reason::kConflict);
  CHECK(ReasonFromName("Expired") == Reason::kExpired);
  CHECK(ReasonFromName("TooManyRequests") == Reason::kTooManyRequests);
  CHECK_FALSE(ReasonFromName("").has_value());  // kOk has no name on the wire
  CHECK_FALSE(ReasonFromName("SomethingNew").has_value());
  for (Reason r : {Reason::kBadRequest, Reason::kGone, Reason::kTimeout}) CHECK(ReasonFromName(ReasonName(r)) == r);
}

}  // namespace
}  // namespace tmcd
