// The HTTP server over real loopback sockets: framing, keep-alive, pipelining, 100-continue,
// timeouts, streamed bodies, more connections than select() could ever watch, and stop.
#include "net/http_server.h"

#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

namespace tmcd::net {
namespace {

using namespace std::chrono_literals;

class Client {
 public:
  explicit Client(int port) : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;  // NOLINT: sockets API
  }
  ~Client() { ::close(fd_); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;
  bool connected() const { return connected_; }
  void Send(std::string_view s) const { REQUIRE(::send(fd_, s.data(), s.size(), MSG_NOSIGNAL) == ssize_t(s.size())); }
  // Reads until `until` appears in what was received (or EOF / 5 s); returns everything read so far.
  std::string ReadUntil(std::string_view until) {
    pollfd p{fd_, POLLIN, 0};
    while (buf_.find(until) == std::string::npos && ::poll(&p, 1, 5000) > 0) {
      char tmp[4096];
      ssize_t n = ::read(fd_, tmp, sizeof(tmp));
      if (n <= 0) break;
      buf_.append(tmp, static_cast<size_t>(n));
    }
    return buf_;
  }
  bool Closed() {
    ReadUntil("\x01never");
    char c = 0;
    return ::recv(fd_, &c, 1, MSG_DONTWAIT) == 0;
  }

 private:
  int fd_;
  bool connected_ = false;
  std::string buf_;
};

// A stream fed from a test thread through Push; records Close.
class TestStream : public StreamSource {
 public:
  void Attach(std::function<void()> wake) override {
    std::lock_guard<std::mutex> lock(mu_);
    wake_ = std::move(wake);
  }
  bool Pull(std::string& out, size_t, TimePoint) override {
    std::lock_guard<std::mutex> lock(mu_);
    out += pending_;
    pending_.clear();
    return !ended_;
  }
  TimePoint NextTimer() const override { return TimePoint::max(); }
  void Close() override {
    std::lock_guard<std::mutex> lock(mu_);
    wake_ = nullptr;
    closes_++;
  }
  void Push(std::string s, bool end = false) {
    std::lock_guard<std::mutex> lock(mu_);
    pending_ += s;
    ended_ = end;
    if (wake_) wake_();
  }
  int closes() {
    std::lock_guard<std::mutex> lock(mu_);
    return closes_;
  }

 private:
  std::mutex mu_;
  std::function<void()> wake_;
  std::string pending_;
  bool ended_ = false;
  int closes_ = 0;
};

struct Fixture {
  std::shared_ptr<TestStream> stream = std::make_shared<TestStream>();
  std::atomic<int> handled{0};
  HttpServerOptions options;
  std::unique_ptr<HttpServer> server;
  int port = 0;

  void Start() {
    server = std::make_unique<HttpServer>(
        options,
        [this](const HttpRequest& req) {
          handled++;
          HttpResponse res;
          if (req.path == "/stream") {
            res.stream = stream;
          } else if (req.path == "/slow") {
            std::this_thread::sleep_for(100ms);
            res.SetContent("slow", "text/plain");
          } else {
            res.SetContent(req.method + " " + req.path + " " + req.body, "text/plain");
          }
          return res;
        },
        [](int code, const std::string& msg) {
          HttpResponse res;
          res.status = code;
          res.SetContent(msg, "text/plain");
          return res;
        });
    auto p = server->Start();
    REQUIRE(p.ok());
    port = *p;
  }
};

TEST_CASE("keep-alive with pipelined requests answers in order") {
  Fixture f;
  f.Start();
  Client c(f.port);
  c.Send("GET /slow HTTP/1.1\r\n\r\nPOST /b HTTP/1.1\r\nContent-Length: 2\r\n\r\nhiGET /c HTTP/1.1\r\n\r\n");
  std::string got = c.ReadUntil("GET /c ");
  CHECK(got.find("slow") < got.find("POST /b hi"));
  CHECK(got.find("POST /b hi") < got.find("GET /c "));
  CHECK(f.handled == 3);
}

TEST_CASE("100-continue, then the body") {
  Fixture f;
  f.Start();
  Client c(f.port);
  c.Send("PUT /x HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n");
  CHECK(c.ReadUntil("\r\n\r\n") == "HTTP/1.1 100 Continue\r\n\r\n");
  c.Send("body");
  CHECK(c.ReadUntil("PUT /x body").find("HTTP/1.1 200 OK") != std::string::npos);
}

TEST_CASE("protocol errors are answered and the connection closed") {
  Fixture f;
  f.options.limits.max_body_bytes = 8;
  f.Start();
  Client c(f.port);
  c.Send("POST /x HTTP/1.1\r\nContent-Length: 9\r\n\r\n");
  CHECK(c.ReadUntil("too large").find("HTTP/1.1 413 Payload Too Large") == 0);
  CHECK(c.Closed());
  CHECK(f.handled == 0);
}

TEST_CASE("a request that does not arrive in time gets 408; idle connections are closed") {
  Fixture f;
  f.options.request_timeout = 200ms;
  f.options.idle_timeout = 300ms;
  f.Start();
  Client slow(f.port);
  Client idle(f.port);
  slow.Send("GET /x HTTP/1.1\r\nHost: a\r\n");
  CHECK(slow.ReadUntil("in time").find("HTTP/1.1 408") == 0);
  CHECK(slow.Closed());
  CHECK(idle.Closed());
}

TEST_CASE("streams are chunked, woken from other threads, and closed when the client leaves") {
  Fixture f;
  f.Start();
  {
    Client c(f.port);
    c.Send("GET /stream HTTP/1.1\r\n\r\n");
    CHECK(c.ReadUntil("\r\n\r\n").find("Transfer-Encoding: chunked") != std::string::npos);
    std::thread([&] { f.stream->Push("event-1\n"); }).join();
    CHECK(c.ReadUntil("event-1").find("8\r\nevent-1\n\r\n") != std::string::npos);
    f.stream->Push("last\n", true);
    CHECK(c.ReadUntil("0\r\n\r\n").find("5\r\nlast\n\r\n0\r\n\r\n") != std::string::npos);
    CHECK(f.stream->closes() == 1);
  }
  f.stream = std::make_shared<TestStream>();
  {
    Client c(f.port);
    c.Send("GET /stream HTTP/1.1\r\n\r\n");
    c.ReadUntil("\r\n\r\n");
  }  // the client hangs up
  for (int i = 0; i < 100 && f.stream->closes() == 0; ++i) std::this_thread::sleep_for(10ms);
  CHECK(f.stream->closes() == 1);
}

TEST_CASE("stop ends open streams with their final chunk") {
  Fixture f;
  f.Start();
  Client c(f.port);
  c.Send("GET /stream HTTP/1.1\r\n\r\n");
  c.ReadUntil("\r\n\r\n");
  f.server->Stop(1s);
  CHECK(c.ReadUntil("0\r\n\r\n").find("0\r\n\r\n") != std::string::npos);
  CHECK(c.Closed());
  CHECK(f.stream->closes() == 1);
}

TEST_CASE("more open connections than select() can handle") {
  rlimit files{};
  REQUIRE(::getrlimit(RLIMIT_NOFILE, &files) == 0);
  if (files.rlim_max < 2600) {
    MESSAGE("skipped: the hard open-file limit is below 2,600");
    return;
  }
  files.rlim_cur = files.rlim_max;
  REQUIRE(::setrlimit(RLIMIT_NOFILE, &files) == 0);
  Fixture f;
  f.Start();
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 1200; ++i) {
    clients.push_back(std::make_unique<Client>(f.port));
    REQUIRE(clients.back()->connected());
  }
  // The newest connections have descriptors above 1,023 on both sides; all of them are served.
  for (auto& c : clients) c->Send("GET /n HTTP/1.1\r\n\r\n");
  int answered = 0;
  for (auto& c : clients) answered += c->ReadUntil("GET /n ").find("200 OK") != std::string::npos ? 1 : 0;
  CHECK(answered == 1200);
}

TEST_CASE("memory budgets: half-sent bodies share one budget, stalled streams are closed") {
  Fixture f;
  f.options.max_buffered_request_bytes = size_t{1} << 20;
  f.options.max_stream_bytes = size_t{1} << 20;
  f.options.stall_grace = 100ms;
  f.Start();
  {
    Client a(f.port);
    Client b(f.port);
    Client c(f.port);
    const std::string head = "POST /x HTTP/1.1\r\nContent-Length: 2000000\r\n\r\n";
    a.Send(head + std::string(450000, 'a'));
    b.Send(head + std::string(450000, 'b'));
    std::this_thread::sleep_for(100ms);
    c.Send(head + std::string(450000, 'c'));  // 1.35 MB buffered in all: this one is refused
    CHECK(c.ReadUntil("retry").find("HTTP/1.1 503") == 0);
    CHECK(f.server->refused_requests() == 1);
    CHECK(f.handled == 0);
  }
  Client reader(f.port);
  reader.Send("GET /stream HTTP/1.1\r\n\r\n");
  reader.ReadUntil("\r\n\r\n");
  // Never read again: once the kernel's buffers are full, tmcd's own output grows past the budget.
  for (int i = 0; i < 24 && f.stream->closes() == 0; ++i) {
    f.stream->Push(std::string(size_t{2} << 20, 'x'));
    std::this_thread::sleep_for(50ms);
  }
  for (int i = 0; i < 100 && f.stream->closes() == 0; ++i) std::this_thread::sleep_for(10ms);
  CHECK(f.stream->closes() == 1);
  CHECK(f.server->evicted_streams() == 1);
  Client after(f.port);  // the server still serves
  after.Send("GET /ok HTTP/1.1\r\n\r\n");
  CHECK(after.ReadUntil("GET /ok").find("HTTP/1.1 200") == 0);
}

}  // namespace
}  // namespace tmcd::net
