#include <doctest/doctest.h>

#include "apis/meta/names.h"
#include "apis/meta/time.h"

namespace tmcd::apis {
namespace {

TEST_CASE("name rules") {
  for (const std::string& ok : {std::string("a"), std::string("abc-123"), std::string("0a"), std::string(63, 'a')}) {
    CHECK(CheckDNS1123Label(ok).empty());
  }
  for (const char* bad : {"", "-a", "a-", "A", "a_b", "a.b"}) CHECK_FALSE(CheckDNS1123Label(bad).empty());
  CHECK_FALSE(CheckDNS1123Label(std::string(64, 'a')).empty());
  for (const char* ok : {"a.b", "a-1.b-2", "example.com"}) CHECK(CheckDNS1123Subdomain(ok).empty());
  for (const char* bad : {"", ".a", "a..b", "A.b", "a_b"}) CHECK_FALSE(CheckDNS1123Subdomain(bad).empty());
  for (const char* ok : {"app", "example.com/team", "A_b.C-d", "kubernetes.io/os"})
    CHECK(CheckQualifiedName(ok).empty());
  for (const char* bad : {"", "/a", "a/", "a/b/c", "-a", "Example.com/a", "a b"}) {
    CAPTURE(bad);
    CHECK_FALSE(CheckQualifiedName(bad).empty());
  }
  CHECK(CheckLabelValue("").empty());
  CHECK(CheckLabelValue("v1.2_3-x").empty());
  CHECK_FALSE(CheckLabelValue("-x").empty());
  CHECK_FALSE(CheckLabelValue(std::string(64, 'a')).empty());
  CHECK(CheckServerURL("https://a:6443/prefix", false).empty());
  CHECK_FALSE(CheckServerURL("http://a", false).empty());
  CHECK(CheckServerURL("http://a", true).empty());
  CHECK_FALSE(CheckServerURL("https://user@a", false).empty());
}

TEST_CASE("RFC 3339 times") {
  auto t = Time::Parse("2026-11-27T10:00:00Z");
  REQUIRE(t.ok());
  CHECK(t->seconds == 1795773600);
  CHECK(t->ToString() == "2026-11-27T10:00:00Z");
  CHECK(Time::Parse("2026-11-27T12:00:00+02:00")->seconds == 1795773600);
  CHECK(Time::Parse("2026-11-27T10:00:00.123456Z")->ToString() == "2026-11-27T10:00:00Z");
  for (const char* bad : {"", "2026-11-27", "2026-11-27 10:00:00Z", "2026-13-01T00:00:00Z", "2026-11-27T10:00:00",
                          "2026-11-27T10:00:00Zjunk", "2026-11-27T25:00:00Z", "2026-11-27T10:00:00.Z"}) {
    CAPTURE(bad);
    CHECK_FALSE(Time::Parse(bad).ok());
  }
  CHECK(Time{}.ToString().empty());
}

}  // namespace
}  // namespace tmcd::apis
