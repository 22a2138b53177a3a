// The client against a hand-written FAULT-INJECTING server (net::HttpServer with scripted answers):
// behaviour a real apiserver will not produce on demand — 429 with and without Retry-After, 503
// storms, watch streams that break off mid-event or carry garbage.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include "kube/client.h"
#include "kube/errors.h"
#include "test_server.h"

namespace tmcd::kube {
namespace {

using namespace std::chrono_literals;

class StaticStream : public net::StreamSource {
 public:
  explicit StaticStream(std::string data) : data_(std::move(data)) {}
  void Attach(std::function<void()>) override {}
  bool Pull(std::string& out, size_t, TimePoint) override {
    out += data_;
    data_.clear();
    return false;
  }
  TimePoint NextTimer() const override { return TimePoint::max(); }
  void Close() override {}

 private:
  std::string data_;
};

struct FaultServer {
  std::function<net::HttpResponse(const net::HttpRequest&, int)> script;
  std::atomic<int> requests{0};
  std::unique_ptr<net::testing::TestServer> server;
  std::unique_ptr<Client> client;

  explicit FaultServer(std::function<net::HttpResponse(const net::HttpRequest&, int)> s, int max_retries = 10)
      : script(std::move(s)) {
    server =
        std::make_unique<net::testing::TestServer>([this](const net::HttpRequest& r) { return script(r, requests++); });
    RestConfig cfg;
    cfg.server = server->Url();
    ClientOptions o;
    o.max_retries = max_retries;
    auto c = Client::Create(cfg, o);
    REQUIRE(c.ok());
    client = std::move(*c);
  }
};

net::HttpResponse Answer(int code, const std::string& body, const std::string& retry_after = "") {
  net::HttpResponse r;
  r.status = code;
  r.SetContent(body, "application/json");
  if (!retry_after.empty()) r.SetHeader("Retry-After", retry_after);
  return r;
}

const ResourceRef kCms{"", "v1", "configmaps", "x", ""};
const std::string kTooMany = R"({"kind":"Status","reason":"TooManyRequests","message":"slow down","code":429})";

TEST_CASE("429 with Retry-After is waited out and retried") {
  FaultServer f([](const net::HttpRequest&, int n) {
    return n < 2 ? Answer(429, kTooMany, "1") : Answer(200, R"({"metadata":{"name":"a"}})");
  });
  const auto t0 = std::chrono::steady_clock::now();
  auto got = f.client->Get(kCms, "a");
  REQUIRE(got.ok());
  CHECK((*got)["metadata"]["name"] == "a");
  CHECK(f.requests == 3);
  CHECK(std::chrono::steady_clock::now() - t0 >= 1900ms);  // honoured twice, not hammered
}

TEST_CASE("429 without Retry-After, and exhausted retries, surface TooManyRequests / the last error") {
  FaultServer no_hint([](const net::HttpRequest&, int) { return Answer(429, kTooMany); });
  CHECK(no_hint.client->Get(kCms, "a").status().reason() == Reason::kTooManyRequests);
  CHECK(no_hint.requests == 1);
  FaultServer storm([](const net::HttpRequest&, int) { return Answer(503, "upstream down", "0"); }, 2);
  auto s = storm.client->Get(kCms, "a").status();
  CHECK(s.reason() == Reason::kServiceUnavailable);
  CHECK(s.message() == "HTTP 503: upstream down");
  CHECK(storm.requests == 6);  // 1 + 2 told to retry + 3 blind retries of the read
}

TEST_CASE("fail_fast: after a request without an answer, callers fail at once until a trial is answered") {
  std::atomic<bool> hang{true};
  std::atomic<int> requests{0};
  std::atomic<int> trials{0};
  net::testing::TestServer server([&](const net::HttpRequest& r) {
    ++requests;
    if (r.path == "/readyz") ++trials;
    if (hang) std::this_thread::sleep_for(1500ms);  // longer than the client's 1 s timeout
    return Answer(200, R"({"metadata":{"name":"a"}})");
  });
  RestConfig cfg;
  cfg.server = server.Url();
  ClientOptions o;
  o.timeout = std::chrono::seconds(1);
  o.fail_fast = true;
  o.retry_reads = false;
  auto c = Client::Create(cfg, o);
  REQUIRE(c.ok());
  std::atomic<int> closed{0};
  (*c)->OnBreakerClosed([&] { ++closed; });
  const Json cm = {{"metadata", {{"name", "a"}}}};
  auto first = (*c)->Create(kCms, cm).status();
  CHECK(IsTransportError(first));
  CHECK((*c)->FailingFast());
  const auto t0 = std::chrono::steady_clock::now();
  auto second = (*c)->Create(kCms, cm).status();
  CHECK(std::chrono::steady_clock::now() - t0 < 100ms);
  CHECK(IsTransportError(second));  // so callers treat it like the timeout it stands for
  CHECK(second.message().find("failing fast") != std::string::npos);
  CHECK(requests == 1);  // never sent
  // The backoff (1 s) ends: the client's own trial (GET /readyz) hangs too and times out (1 s); callers
  // meanwhile still fail at once, none of them waits on the hung server.
  std::this_thread::sleep_for(1500ms);
  const auto t1 = std::chrono::steady_clock::now();
  CHECK(IsTransportError((*c)->Create(kCms, cm).status()));
  CHECK(std::chrono::steady_clock::now() - t1 < 100ms);
  CHECK(trials == 1);
  CHECK(requests == 2);
  hang = false;
  // The next trial (2 s after the failed one) is answered: the breaker closes without any caller.
  for (int i = 0; i < 60 && (*c)->FailingFast(); ++i) std::this_thread::sleep_for(100ms);
  CHECK_FALSE((*c)->FailingFast());
  CHECK(closed == 1);
  CHECK(trials == 2);
  CHECK((*c)->Create(kCms, cm).ok());
  CHECK(requests == 4);
}

TEST_CASE("reads are retried after a bare 5xx with backoff; writes are not") {
  FaultServer flaky([](const net::HttpRequest&, int n) {
    return n < 2 ? Answer(500, R"({"kind":"Status","reason":"InternalError","code":500})")
                 : Answer(200, R"({"metadata":{"name":"a"}})");
  });
  CHECK(flaky.client->Get(kCms, "a").ok());
  CHECK(flaky.requests == 3);
  FaultServer down([](const net::HttpRequest&, int) { return Answer(502, "bad gateway"); });
  CHECK(down.client->Get(kCms, "a").status().reason() == Reason::kInternalError);
  CHECK(down.requests == 4);  // the first try and three retries
  FaultServer write([](const net::HttpRequest&, int) { return Answer(500, "boom"); });
  CHECK(write.client->Create(kCms, {{"metadata", {{"name", "a"}}}}).status().reason() == Reason::kInternalError);
  CHECK(write.requests == 1);
}

TEST_CASE("a watch that breaks off inside an event, or carries garbage, is an error") {
  const std::string one = R"({"type":"ADDED","object":{"metadata":{"name":"a","resourceVersion":"1"}}})";
  FaultServer cut([&](const net::HttpRequest&, int) {
    net::HttpResponse r;
    r.stream = std::make_shared<StaticStream>(one + "\n" + one.substr(0, 20));
    return r;
  });
  int events = 0;
  Status s = cut.client->Watch(kCms, {}, [&](WatchEvent&) { return ++events, true; });
  CHECK(events == 1);
  CHECK(s.reason() == Reason::kServiceUnavailable);
  CHECK(s.message().find("broke off inside an event") != std::string::npos);

  FaultServer garbage([](const net::HttpRequest&, int) {
    net::HttpResponse r;
    r.stream = std::make_shared<StaticStream>("<html>proxy error</html>\n");
    return r;
  });
  CHECK(garbage.client->Watch(kCms, {}, [](WatchEvent&) { return true; }).reason() == Reason::kBadRequest);

  FaultServer refused([](const net::HttpRequest& req, int) {
    CHECK(req.Param("watch") == "1");
    CHECK(req.Param("allowWatchBookmarks") == "true");
    return Answer(403, R"({"kind":"Status","reason":"Forbidden","message":"no","code":403})");
  });
  CHECK(refused.client->Watch(kCms, {}, [](WatchEvent&) { return true; }).reason() == Reason::kForbidden);
}

TEST_CASE("request paths: kcp workspace prefixes are replaced, other server paths kept") {
  std::vector<std::string> paths;
  std::mutex mu;
  FaultServer f([&](const net::HttpRequest& r, int) {
    std::lock_guard<std::mutex> lock(mu);
    paths.push_back(r.target);
    return Answer(200, R"({"items":[],"metadata":{"resourceVersion":"1"}})");
  });
  const std::string base = f.client->config().server;
  auto at = [&](const std::string& server) {
    RestConfig cfg;
    cfg.server = server;
    auto c = Client::Create(cfg);
    REQUIRE(c.ok());
    return std::move(*c);
  };
  ResourceRef ws{"apps", "v1", "deployments", "shop", "root:org"};
  ResourceRef all{"", "v1", "configmaps", "", "*"};
  CHECK(at(base + "/clusters/root")->List(ws, {}).ok());
  CHECK(at(base + "/services/apiexport/root/tmc.kcp.io")->List(all, {"a=b", "", "", 2, ""}).ok());
  CHECK(at(base + "/clusters/root")->Get({"", "v1", "namespaces", "", ""}, "default").ok());
  std::lock_guard<std::mutex> lock(mu);
  CHECK(paths == std::vector<std::string>{
                     "/clusters/root:org/apis/apps/v1/namespaces/shop/deployments",
                     "/services/apiexport/root/tmc.kcp.io/clusters/*/api/v1/configmaps?labelSelector=a%3Db&limit=2",
                     "/clusters/root/api/v1/namespaces/default",
                 });
}

}  // namespace
}  // namespace tmcd::kube

namespace tmcd::kube {
namespace {

// `total` bytes without a newline, 1 MiB per pull (one HTTP chunk each).
class EndlessLine : public net::StreamSource {
 public:
  explicit EndlessLine(size_t total) : left_(total) {}
  void Attach(std::function<void()>) override {}
  bool Pull(std::string& out, size_t, TimePoint) override {
    const size_t n = std::min(left_, size_t{1} << 20);
    out.append(n, 'y');
    left_ -= n;
    return left_ > 0;
  }
  TimePoint NextTimer() const override { return TimePoint::min(); }
  void Close() override {}

 private:
  size_t left_;
};

TEST_CASE("a server cannot make the client hold unbounded data: response size, list items, watch events") {
  const std::string big(3 << 20, 'x');
  auto server = std::make_unique<net::testing::TestServer>([&](const net::HttpRequest& r) {
    if (r.path == "/big") return Answer(200, "{\"pad\":\"" + big + "\"}");
    if (!r.Param("watch").empty()) {
      net::HttpResponse res;
      res.stream = std::make_shared<EndlessLine>(size_t{66} << 20);
      return res;
    }
    const std::string cont = r.Param("continue");
    const int page = cont.empty() ? 0 : std::stoi(cont);
    std::string items;
    for (int i = 0; i < 3; ++i)
      items += std::string(i ? "," : "") + "{\"metadata\":{\"name\":\"n" + std::to_string(page * 3 + i) + "\"}}";
    return Answer(200, R"({"metadata":{"continue":")" + std::to_string(page + 1) + R"("},"items":[)" + items + "]}");
  });
  RestConfig cfg;
  cfg.server = server->Url();
  ClientOptions o;
  o.max_retries = 0;
  o.max_response_bytes = size_t{1} << 20;
  o.max_list_items = 10;
  auto c = Client::Create(cfg, o);
  REQUIRE(c.ok());
  auto big_get = (*c)->GetPath("/big");
  REQUIRE_FALSE(big_get.ok());
  CHECK(big_get.status().message().find("larger than 1 MiB") != std::string::npos);
  auto list = (*c)->ListAll({"", "v1", "configmaps", "", ""}, {});
  REQUIRE_FALSE(list.ok());
  CHECK(list.status().message().find("more than 10 items") != std::string::npos);
  Status w = (*c)->Watch({"", "v1", "configmaps", "", ""}, {}, [](WatchEvent&) { return true; });
  REQUIRE_FALSE(w.ok());
  CHECK(w.message().find("larger than 64 MiB") != std::string::npos);
}

}  // namespace
}  // namespace tmcd::kube
