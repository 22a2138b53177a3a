#include "kube/watch_decoder.h"

#include <doctest/doctest.h>

#include <vector>

namespace tmcd::kube {
namespace {

const std::string kStream =
    R"({"type":"ADDED","object":{"kind":"ConfigMap","metadata":{"name":"a","namespace":"n","resourceVersion":"5","annotations":{"kcp.io/cluster":"2x8w"}}}})"
    "\n"
    R"({"type":"MODIFIED","object":{"kind":"ConfigMap","metadata":{"name":"a","namespace":"n","resourceVersion":"6"}}})"
    "\r\n\n"
    R"({"type":"BOOKMARK","object":{"kind":"ConfigMap","metadata":{"resourceVersion":"9"}}})"
    "\n"
    R"({"type":"DELETED","object":{"kind":"ConfigMap","metadata":{"name":"a","namespace":"n","resourceVersion":"10"}}})"
    "\n";

std::vector<WatchEvent> DecodeInPieces(const std::string& bytes, size_t piece, Status& status) {
  WatchDecoder d;
  std::vector<WatchEvent> out;
  status = Status::Ok();
  for (size_t i = 0; i < bytes.size() && status.ok(); i += piece) {
    status = d.Feed(std::string_view(bytes).substr(i, piece), [&](WatchEvent& e) {
      out.push_back(e);
      return true;
    });
  }
  return out;
}

TEST_CASE("events decode the same whatever the read boundaries") {
  for (size_t piece : {size_t{1}, size_t{2}, size_t{7}, size_t{64}, kStream.size()}) {
    CAPTURE(piece);
    Status s;
    auto ev = DecodeInPieces(kStream, piece, s);
    REQUIRE(s.ok());
    REQUIRE(ev.size() == 4);
    CHECK(ev[0].type == WatchEventType::kAdded);
    CHECK(ev[0].name == "a");
    CHECK(ev[0].namespace_ == "n");
    CHECK(ev[0].resource_version == "5");
    CHECK(ev[0].cluster == "2x8w");
    CHECK(ev[1].type == WatchEventType::kModified);
    CHECK(ev[1].object == R"({"kind":"ConfigMap","metadata":{"name":"a","namespace":"n","resourceVersion":"6"}})");
    CHECK(ev[2].type == WatchEventType::kBookmark);
    CHECK(ev[2].resource_version == "9");
    CHECK(ev[3].type == WatchEventType::kDeleted);
  }
}

TEST_CASE("a truncated stream leaves a partial event; ERROR events carry the Status") {
  WatchDecoder d;
  int n = 0;
  REQUIRE(d.Feed(kStream.substr(0, kStream.size() - 10), [&](WatchEvent&) { return ++n, true; }).ok());
  CHECK(n == 3);
  CHECK(d.HasPartial());
  WatchDecoder e;
  WatchEvent got;
  REQUIRE(
      e.Feed(
           R"J({"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","status":"Failure","message":"too old resource version: 1 (5)","reason":"Expired","code":410}})J"
           "\n",
           [&](WatchEvent& ev) { return got = ev, true; })
          .ok());
  CHECK(got.type == WatchEventType::kError);
  CHECK(got.error.reason() == Reason::kExpired);
  CHECK(got.error.message() == "too old resource version: 1 (5)");
  CHECK_FALSE(e.HasPartial());
}

TEST_CASE("garbage is an error, not a crash") {
  for (const char* bad : {"not json\n", "{\"type\":\"ADDED\"}\n", "{\"type\":\"WHAT\",\"object\":{}}\n",
                          "{\"type\":\"ADDED\",\"object\":{\"metadata\":{}}}\n", "[1,2]\n", "{\"type\":1}\n"}) {
    CAPTURE(bad);
    WatchDecoder d;
    Status s = d.Feed(bad, [](WatchEvent&) { return true; });
    CHECK(s.reason() == Reason::kBadRequest);
    CHECK(s.message().find("malformed watch event") == 0);
  }
}

TEST_CASE("a handler returning false stops decoding") {
  WatchDecoder d;
  int n = 0;
  REQUIRE(d.Feed(kStream, [&](WatchEvent&) { return ++n < 2; }).ok());
  CHECK(n == 2);
}

}  // namespace
}  // namespace tmcd::kube
