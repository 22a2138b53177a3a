#include "net/http_message.h"

#include <doctest/doctest.h>

namespace tmcd::net {
namespace {

using State = ParseResult::State;

TEST_CASE("a complete GET with query and headers") {
  HttpRequest req;
  const std::string wire =
      "GET /api/v1/namespaces/a%2Db/configmaps?labelSelector=app%3Dweb%2Ctier+in+(x)&watch=1&flag HTTP/1.1\r\n"
      "Host: localhost\r\nAccept:  application/json \r\ncontent-type: text/plain\r\n\r\n";
  ParseResult r = ParseRequest(wire, {}, req);
  REQUIRE(r.state == State::kDone);
  CHECK(r.consumed == wire.size());
  CHECK(req.method == "GET");
  CHECK(req.path == "/api/v1/namespaces/a-b/configmaps");
  CHECK(req.Param("labelSelector") == "app=web,tier in (x)");
  CHECK(req.Param("watch") == "1");
  CHECK(req.HasParam("flag"));
  CHECK_FALSE(req.HasParam("limit"));
  CHECK(req.Header("accept") == "application/json");  // case-insensitive, trimmed
  CHECK(req.Header("Content-Type") == "text/plain");
  CHECK(req.KeepAlive());
}

TEST_CASE("incomplete requests ask for more; pipelined requests are parsed one at a time") {
  HttpRequest req;
  const std::string one = "POST /x HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello";
  const std::string two = "DELETE /y HTTP/1.1\r\nConnection: close\r\n\r\n";
  for (size_t cut = 0; cut < one.size(); ++cut) {
    CHECK(ParseRequest(one.substr(0, cut), {}, req).state == State::kNeedMore);
  }
  const std::string both = one + two;
  ParseResult r = ParseRequest(both, {}, req);
  REQUIRE(r.state == State::kDone);
  CHECK(req.body == "hello");
  r = ParseRequest(std::string_view(both).substr(r.consumed), {}, req);
  REQUIRE(r.state == State::kDone);
  CHECK(req.method == "DELETE");
  CHECK_FALSE(req.KeepAlive());
}

TEST_CASE("chunked request bodies are decoded, extensions and trailers ignored") {
  HttpRequest req;
  const std::string wire =
      "PUT /z HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\nB\r\n, chunked!!\r\n0\r\nX-T: "
      "1\r\n\r\n";
  for (size_t cut = 0; cut < wire.size(); ++cut) {
    CHECK(ParseRequest(wire.substr(0, cut), {}, req).state == State::kNeedMore);
  }
  ParseResult r = ParseRequest(wire, {}, req);
  REQUIRE(r.state == State::kDone);
  CHECK(r.consumed == wire.size());
  CHECK(req.body == "hello, chunked!!");
}

TEST_CASE("Expect: 100-continue is reported once the headers are in") {
  HttpRequest req;
  ParseResult r = ParseRequest("POST /x HTTP/1.1\r\nExpect: 100-Continue\r\nContent-Length: 3\r\n\r\n", {}, req);
  CHECK(r.state == State::kNeedMore);
  CHECK(r.headers_complete);
  CHECK(r.expect_continue);
}

TEST_CASE("HTTP/1.0 closes unless keep-alive is asked for") {
  HttpRequest req;
  REQUIRE(ParseRequest("GET / HTTP/1.0\r\n\r\n", {}, req).state == State::kDone);
  CHECK_FALSE(req.KeepAlive());
  REQUIRE(ParseRequest("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", {}, req).state == State::kDone);
  CHECK(req.KeepAlive());
}

TEST_CASE("malformed and oversized requests fail with the right status") {
  struct Row {
    std::string wire;
    int status;
  };
  ParseLimits limits;
  limits.max_header_bytes = 256;
  limits.max_body_bytes = 10;
  for (const Row& row : std::initializer_list<Row>{
           {"GARBAGE\r\n\r\n", 400},
           {"GET /x HTTP/2.0\r\n\r\n", 505},
           {"G(T /x HTTP/1.1\r\n\r\n", 400},
           {"GET /x HTTP/1.1\r\nno-colon\r\n\r\n", 400},
           {"GET /x HTTP/1.1\r\n: empty-name\r\n\r\n", 400},
           {"POST /x HTTP/1.1\r\nContent-Length: 12abc\r\n\r\n", 400},
           {"POST /x HTTP/1.1\r\nContent-Length: 11\r\n\r\n", 413},
           {"POST /x HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 501},
           {"POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400},
           {"POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nb\r\n", 413},
           // A size that wraps around when added to what was already received.
           {"POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\nffffffffffffffff\r\n", 413},
           {"POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000000000\r\n", 413},
           // Framing counts: three 1-byte chunks are 3 bytes of body but 18 of encoding.
           {"POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n1\r\na\r\n1\r\na\r\n", 413},
           {"POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1;" + std::string(20, 'x'), 413},
           {"POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-Trailer: " + std::string(20, 'x'), 413},
           {"GET /x HTTP/1.1\r\nX: " + std::string(300, 'a') + "\r\n\r\n", 431},
           {"GET /x HTTP/1.1\r\nX: " + std::string(300, 'a'), 431},
       }) {
    CAPTURE(row.wire);
    HttpRequest req;
    ParseResult r = ParseRequest(row.wire, limits, req);
    CHECK(r.state == State::kError);
    CHECK(r.error_status == row.status);
  }
}

TEST_CASE("percent decoding") {
  CHECK(PercentDecode("a%20b+c", false) == "a b+c");
  CHECK(PercentDecode("a%20b+c", true) == "a b c");
  CHECK(PercentDecode("100%", false) == "100%");
  CHECK(PercentDecode("%zz%4", false) == "%zz%4");
  CHECK(PercentDecode("%E2%9C%93", false) == "\xE2\x9C\x93");
}

TEST_CASE("response heads carry the framing") {
  HttpResponse res;
  res.status = 201;
  res.SetContent("{}", "application/json");
  res.SetHeader("content-type", "application/yaml");  // replaces, case-insensitively
  CHECK(SerializeHead(res, true) ==
        "HTTP/1.1 201 Created\r\ncontent-type: application/yaml\r\nContent-Length: 2\r\n\r\n");
  CHECK(SerializeHead(res, false).find("Connection: close\r\n") != std::string::npos);
}

}  // namespace
}  // namespace tmcd::net
