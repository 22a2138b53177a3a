#pragma once
// A net::HttpServer on 127.0.0.1 with an OS-chosen port and plain-text protocol errors, for tests
// that script a server's answers (the net, kube and engine unit tests).

#include <doctest/doctest.h>

#include <memory>

#include "net/http_server.h"

namespace tmcd::net::testing {

struct TestServer {
  std::unique_ptr<HttpServer> server;
  int port = 0;

  explicit TestServer(HttpServer::Handler handler, HttpServerOptions options = {}) {
    server = std::make_unique<HttpServer>(std::move(options), std::move(handler), [](int code, const std::string& m) {
      HttpResponse res;
      res.status = code;
      res.SetContent(m, "text/plain");
      return res;
    });
    auto p = server->Start();
    REQUIRE(p.ok());
    port = *p;
  }
  std::string Url() const { return "http://127.0.0.1:" + std::to_string(port); }
};

}  // namespace tmcd::net::testing
