// Watch fan-out: N concurrent watch streams on one collection; per round one object is created and the
// time until each stream has delivered its event is recorded. Reported for 1 watcher (the baseline) and
// for N watchers, in one run against the same tmcd. The client side is one epoll thread over raw
// sockets, so the measurement is not limited by the client (a thread or a select() per stream).
//   watch_bench HOST PORT N ROUNDS     (tmcd must allow N+1 watches: --api-max-watches)
// tmcd speaks TLS on its TCP port; run it with --insecure-http=true --token-auth-file FILE and pass an
// administrator's token in $TMCD_TOKEN (sent as a bearer token on every request).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

using SteadyClock = std::chrono::steady_clock;
// Each run uses its own namespace, so the bench can run again against the same tmcd.
std::string kPath;  // NOLINT: set once in main

int Connect(const std::string& host, int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  ::inet_pton(AF_INET, host.c_str(), &addr.sin_addr);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {  // NOLINT: sockets API
    std::perror("connect");
    std::exit(1);
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return fd;
}

std::string AuthHeader() {
  const char* token = std::getenv("TMCD_TOKEN");  // NOLINT(concurrency-mt-unsafe): read before threads start
  return token != nullptr && *token != '\0' ? "Authorization: Bearer " + std::string(token) + "\r\n" : "";
}

void SendAll(int fd, const std::string& s) {
  for (size_t off = 0; off < s.size();) {
    ssize_t n = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
    if (n <= 0) {
      std::perror("send");
      std::exit(1);
    }
    off += static_cast<size_t>(n);
  }
}

// POSTs one ConfigMap on a keep-alive connection and reads the whole response.
void Create(int fd, const std::string& name) {
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
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n <= 0) std::exit(1);
    got.append(buf, static_cast<size_t>(n));
  }
  if (got.compare(0, 12, "HTTP/1.1 201") != 0) {
    std::fprintf(stderr, "create failed: %s\n", got.c_str());
    std::exit(1);
  }
}

struct Stream {
  int fd = -1;
  std::string buf;
  bool open = false;
};

void Measure(const std::string& host, int port, int n, int rounds, int first_round) {
  int ep = ::epoll_create1(EPOLL_CLOEXEC);
  std::vector<Stream> streams(static_cast<size_t>(n));
  std::vector<std::vector<SteadyClock::time_point>> seen(
      static_cast<size_t>(n), std::vector<SteadyClock::time_point>(static_cast<size_t>(first_round + rounds)));
  for (size_t i = 0; i < streams.size(); ++i) {
    streams[i].fd = Connect(host, port);
    SendAll(streams[i].fd, "GET " + kPath + "?watch=1&resourceVersion=0&timeoutSeconds=600 HTTP/1.1\r\nHost: b\r\n" +
                               AuthHeader() + "\r\n");
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = i;
    ::epoll_ctl(ep, EPOLL_CTL_ADD, streams[i].fd, &ev);
  }
  std::array<epoll_event, 512> events{};
  char buf[65536];
  int watching = 0;
  // Reads whatever arrived; records the first time each stream shows probe-<round>.
  auto poll_once = [&](int timeout_ms) {
    int got = ::epoll_wait(ep, events.data(), static_cast<int>(events.size()), timeout_ms);
    const auto now = SteadyClock::now();
    for (int e = 0; e < got; ++e) {
      const size_t i = events[static_cast<size_t>(e)].data.u64;
      Stream& s = streams[i];
      ssize_t r = ::read(s.fd, buf, sizeof(buf));
      if (r <= 0) continue;
      s.buf.append(buf, static_cast<size_t>(r));
      if (!s.open && s.buf.find("\r\n\r\n") != std::string::npos) {
        s.open = s.buf.compare(0, 12, "HTTP/1.1 200") == 0;
        if (!s.open) std::fprintf(stderr, "watch %zu refused: %.200s\n", i, s.buf.c_str());
        watching++;
      }
      size_t nl;
      while ((nl = s.buf.find('\n')) != std::string::npos) {
        auto at = s.buf.find("\"name\":\"probe-");
        if (at != std::string::npos && at < nl) {
          int round = std::atoi(s.buf.c_str() + at + 14);
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
  int writer = Connect(host, port);
  std::vector<double> lat_ms;
  for (int r = first_round; r < first_round + rounds; ++r) {
    const auto t0 = SteadyClock::now();
    Create(writer, "probe-" + std::to_string(r));
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
  for (auto& s : streams) ::close(s.fd);
  ::close(writer);
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
    std::fprintf(stderr, "usage: watch_bench HOST PORT N ROUNDS\n");
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
  kPath = "/api/v1/namespaces/bench-" + std::to_string(::getpid()) + "/configmaps";
  std::printf("%-22s %8s %17s %12s %12s %12s\n", "what", "rounds", "delivered", "median_ms", "p99_ms", "max_ms");
  Measure(host, port, 1, rounds, 0);
  Measure(host, port, n, rounds, rounds);
  return 0;
}
