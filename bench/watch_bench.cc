// Watch fan-out: N concurrent watch streams on one collection; per round one object is created and the
// time until each stream has delivered its event is recorded. Reported for 1 watcher (the baseline) and
// for N watchers, in one run against the same tmcd. The client side is one epoll thread over raw
// sockets, so the measurement is not limited by the client (a thread or a select() per stream).
//   watch_bench HOST PORT N ROUNDS [NAMESPACE]   (tmcd must allow N+1 watches: --api-max-watches)
// $TMCD_TOKEN, when set, is sent as a bearer token on every request. With WATCH_TLS=1 every connection
// is TLS (handshake and request blocking, then the stream's reads non-blocking under the same epoll
// thread), as kube-apiserver requires: bench/watch_ratio.sh compares tmcd with a kube-apiserver that way.
// Without it, plain HTTP (tmcd with --insecure-http=true). NAMESPACE must exist (default: bench-PID,
// which tmcd without namespace checks accepts).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

using SteadyClock = std::chrono::steady_clock;
// Each run uses its own namespace, so the bench can run again against the same tmcd.
std::string kPath;  // NOLINT: set once in main

SSL_CTX* Tls() {
  static SSL_CTX* ctx = [] {
    const char* on = std::getenv("WATCH_TLS");  // NOLINT(concurrency-mt-unsafe): one thread
    if (on == nullptr || std::string(on) != "1") return static_cast<SSL_CTX*>(nullptr);
    SSL_CTX* c = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_verify(c, SSL_VERIFY_NONE, nullptr);  // the same for both servers; the cost is the server's
    return c;
  }();
  return ctx;
}

// One connection, plain or TLS.
struct Conn {
  int fd = -1;
  SSL* ssl = nullptr;
  // > 0: bytes read; 0: closed; -1: nothing to read now (non-blocking).
  ssize_t Read(char* buf, size_t n) const {
    if (ssl == nullptr) {
      ssize_t r = ::read(fd, buf, n);
      return r < 0 && errno == EAGAIN ? -1 : std::max<ssize_t>(r, 0);
    }
    int r = SSL_read(ssl, buf, static_cast<int>(n));
    if (r > 0) return r;
    const int e = SSL_get_error(ssl, r);
    return e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE ? -1 : 0;
  }
  void Close() {
    if (ssl != nullptr) SSL_free(ssl);
    ::close(fd);
  }
};

Conn Connect(const std::string& host, int port) {
  Conn c;
  c.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  ::inet_pton(AF_INET, host.c_str(), &addr.sin_addr);
  if (::connect(c.fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {  // NOLINT: sockets API
    std::perror("connect");
    std::exit(1);
  }
  int one = 1;
  ::setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  if (Tls() != nullptr) {
    c.ssl = SSL_new(Tls());
    SSL_set_fd(c.ssl, c.fd);
    if (SSL_connect(c.ssl) != 1) {
      ERR_print_errors_fp(stderr);
      std::exit(1);
    }
  }
  return c;
}

void NonBlocking(const Conn& c) {
  ::fcntl(c.fd, F_SETFL, ::fcntl(c.fd, F_GETFL) | O_NONBLOCK);  // NOLINT: fcntl is variadic
}

std::string AuthHeader() {
  const char* token = std::getenv("TMCD_TOKEN");  // NOLINT(concurrency-mt-unsafe): read before threads start
  return token != nullptr && *token != '\0' ? "Authorization: Bearer " + std::string(token) + "\r\n" : "";
}

void SendAll(const Conn& c, const std::string& s) {
  for (size_t off = 0; off < s.size();) {
    ssize_t n = c.ssl != nullptr ? SSL_write(c.ssl, s.data() + off, static_cast<int>(s.size() - off))
                                 : ::send(c.fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
    if (n <= 0) {
      std::perror("send");
      std::exit(1);
    }
    off += static_cast<size_t>(n);
  }
}

// POSTs one ConfigMap on a keep-alive connection and reads the whole response.
void Create(const Conn& fd, const std::string& name) {
  std::string body = R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":")" + name + R"("}})";
  SendAll(fd, "POST " + kPath + " HTTP/1.1\r\nHost: bench\r\n" + AuthHeader() +
                  "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
                  body);
  std::string got;
  char buf[4096];
  while (true) {
    size_t head = got.find("\r\n\r\n");
    if (head != std::string::npos) {
      size_t cl = got.find("Content-Length: ");
      if (cl != std::string::npos && got.size() >= head + 4 + std::strtoull(got.c_str() + cl + 16, nullptr, 10)) break;
    }
    ssize_t n = fd.Read(buf, sizeof(buf));
    if (n <= 0) std::exit(1);
    got.append(buf, static_cast<size_t>(n));
  }
  if (got.compare(0, 12, "HTTP/1.1 201") != 0) {
    std::fprintf(stderr, "create failed: %s\n", got.c_str());
    std::exit(1);
  }
}

struct Stream {
  Conn conn;
  std::string buf;
  bool open = false;
};

void Measure(const std::string& host, int port, int n, int rounds, int first_round) {
  int ep = ::epoll_create1(EPOLL_CLOEXEC);
  std::vector<Stream> streams(static_cast<size_t>(n));
  std::vector<std::vector<SteadyClock::time_point>> seen(
      static_cast<size_t>(n), std::vector<SteadyClock::time_point>(static_cast<size_t>(first_round + rounds)));
  for (size_t i = 0; i < streams.size(); ++i) {
    streams[i].conn = Connect(host, port);
    SendAll(streams[i].conn, "GET " + kPath + "?watch=1&resourceVersion=0&timeoutSeconds=600 HTTP/1.1\r\nHost: b\r\n" +
                                 AuthHeader() + "\r\n");
    NonBlocking(streams[i].conn);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = i;
    ::epoll_ctl(ep, EPOLL_CTL_ADD, streams[i].conn.fd, &ev);
  }
  std::array<epoll_event, 512> events{};
  char buf[65536];
  int watching = 0;
  // Reads whatever arrived; records the first time each stream shows probe-<pid>-<round> (the pid: runs
  // against the same namespace do not collide).
  const std::string probe = "probe-" + std::to_string(::getpid()) + "-";
  const std::string marker = "\"name\":\"" + probe;
  auto poll_once = [&](int timeout_ms) {
    int got = ::epoll_wait(ep, events.data(), static_cast<int>(events.size()), timeout_ms);
    const auto now = SteadyClock::now();
    for (int e = 0; e < got; ++e) {
      const size_t i = events[static_cast<size_t>(e)].data.u64;
      Stream& s = streams[i];
      ssize_t r = 0;
      while ((r = s.conn.Read(buf, sizeof(buf))) > 0) s.buf.append(buf, static_cast<size_t>(r));
      if (!s.open && s.buf.find("\r\n\r\n") != std::string::npos) {
        s.open = s.buf.compare(0, 12, "HTTP/1.1 200") == 0;
        if (!s.open) std::fprintf(stderr, "watch %zu refused: %.200s\n", i, s.buf.c_str());
        watching++;
      }
      size_t nl;
      while ((nl = s.buf.find('\n')) != std::string::npos) {
        auto at = s.buf.find(marker);
        if (at != std::string::npos && at < nl) {
          int round = std::atoi(s.buf.c_str() + at + marker.size());
          if (round >= 0 && round < first_round + rounds &&
              seen[i][static_cast<size_t>(round)] == SteadyClock::time_point{})
            seen[i][static_cast<size_t>(round)] = now;
        }
        s.buf.erase(0, nl + 1);
      }
    }
  };
  while (watching < n) poll_once(100);
  const auto settle = SteadyClock::now() + std::chrono::milliseconds(300);
  while (SteadyClock::now() < settle) poll_once(50);
  const Conn writer = Connect(host, port);
  std::vector<double> lat_ms;
  for (int r = first_round; r < first_round + rounds; ++r) {
    const auto t0 = SteadyClock::now();
    Create(writer, probe + std::to_string(r));
    const auto give_up = t0 + std::chrono::seconds(10);
    auto all_seen = [&] {
      return std::all_of(seen.begin(), seen.end(),
                         [&](const auto& v) { return v[static_cast<size_t>(r)] != SteadyClock::time_point{}; });
    };
    while (!all_seen() && SteadyClock::now() < give_up) poll_once(10);
    for (const auto& v : seen) {
      if (v[static_cast<size_t>(r)] != SteadyClock::time_point{})
        lat_ms.push_back(std::chrono::duration<double, std::milli>(v[static_cast<size_t>(r)] - t0).count());
    }
  }
  for (auto& s : streams) s.conn.Close();
  Conn(writer).Close();
  ::close(ep);
  std::sort(lat_ms.begin(), lat_ms.end());
  const size_t expected = static_cast<size_t>(n) * static_cast<size_t>(rounds);
  if (lat_ms.empty()) lat_ms.push_back(-1);
  std::printf("%-22s %8d %8zu/%-8zu %12.2f %12.2f %12.2f\n", (std::to_string(n) + " watcher(s)").c_str(), rounds,
              lat_ms.size(), expected, lat_ms[lat_ms.size() / 2], lat_ms[lat_ms.size() * 99 / 100], lat_ms.back());
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: watch_bench HOST PORT N ROUNDS [NAMESPACE]\n");
    return 2;
  }
  const std::string host = argv[1];
  const int port = std::atoi(argv[2]);
  const int n = std::atoi(argv[3]);
  const int rounds = std::atoi(argv[4]);
  rlimit files{};
  ::getrlimit(RLIMIT_NOFILE, &files);
  files.rlim_cur = files.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &files);
  kPath =
      "/api/v1/namespaces/" + (argc > 5 ? std::string(argv[5]) : "bench-" + std::to_string(::getpid())) + "/configmaps";
  std::printf("%-22s %8s %17s %12s %12s %12s\n", "what", "rounds", "delivered", "median_ms", "p99_ms", "max_ms");
  Measure(host, port, 1, rounds, 0);
  Measure(host, port, n, rounds, rounds);
  return 0;
}
