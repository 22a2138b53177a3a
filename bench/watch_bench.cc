// Watch fan-out: N concurrent watch streams on one collection; per round one object is created and the
// time until each stream has delivered its event is recorded. Reported for 1 watcher (the baseline) and
// for N watchers, in one run against the same tmcd.
//   watch_bench URL N ROUNDS     (tmcd must allow N+1 watches: --api-max-watches)
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

using SteadyClock = std::chrono::steady_clock;
const std::string kPath = "/api/v1/namespaces/bench/configmaps";

struct Watchers {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::vector<SteadyClock::time_point>> seen;  // per watcher, per round
  std::atomic<int> connected{0};
  std::atomic<bool> stop{false};
};

void RunWatcher(const std::string& url, int idx, int rounds, Watchers& w) {
  httplib::Client cli(url);
  cli.set_read_timeout(std::chrono::seconds(120));
  std::string buf;
  cli.Get(
      kPath + "?watch=1&resourceVersion=0&timeoutSeconds=120", httplib::Headers{},
      [&](const httplib::Response&) {
        w.connected++;
        return true;
      },
      [&](const char* data, size_t len) {
        buf.append(data, len);
        size_t nl;
        while ((nl = buf.find('\n')) != std::string::npos) {
          std::string line = buf.substr(0, nl);
          buf.erase(0, nl + 1);
          auto at = line.find("\"name\":\"probe-");
          if (at == std::string::npos) continue;
          int round = std::atoi(line.c_str() + at + 14);
          if (round >= 0 && round < rounds) {
            std::lock_guard<std::mutex> lock(w.mu);
            w.seen[static_cast<size_t>(idx)][static_cast<size_t>(round)] = SteadyClock::now();
          }
          w.cv.notify_all();
        }
        return !w.stop.load();
      });
}

void Measure(const std::string& url, int n, int rounds, int first_round) {
  Watchers w;
  w.seen.assign(static_cast<size_t>(n),
                std::vector<SteadyClock::time_point>(static_cast<size_t>(first_round + rounds)));
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i) threads.emplace_back(RunWatcher, url, i, first_round + rounds, std::ref(w));
  while (w.connected.load() < n) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  httplib::Client writer(url);
  std::vector<double> lat_ms;
  for (int r = first_round; r < first_round + rounds; ++r) {
    auto t0 = SteadyClock::now();
    std::string body =
        R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"probe-)" + std::to_string(r) + R"("}})";
    writer.Post(kPath, body, "application/json");
    std::unique_lock<std::mutex> lock(w.mu);
    w.cv.wait_for(lock, std::chrono::seconds(10), [&] {
      return std::all_of(w.seen.begin(), w.seen.end(),
                         [&](const auto& v) { return v[r] != SteadyClock::time_point{}; });
    });
    for (const auto& v : w.seen) {
      if (v[r] != SteadyClock::time_point{})
        lat_ms.push_back(std::chrono::duration<double, std::milli>(v[r] - t0).count());
    }
  }
  w.stop = true;
  writer.Post(kPath, R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"generateName":"wake-"}})",
              "application/json");
  for (auto& t : threads) t.join();
  std::sort(lat_ms.begin(), lat_ms.end());
  const size_t expected = static_cast<size_t>(n) * static_cast<size_t>(rounds);
  std::printf("%-22s %8d %8zu/%-8zu %12.2f %12.2f %12.2f\n", (std::to_string(n) + " watcher(s)").c_str(), rounds,
              lat_ms.size(), expected, lat_ms[lat_ms.size() / 2], lat_ms[lat_ms.size() * 99 / 100], lat_ms.back());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: watch_bench URL N ROUNDS\n");
    return 2;
  }
  const std::string url = argv[1];
  const int n = std::atoi(argv[2]);
  const int rounds = std::atoi(argv[3]);
  std::printf("%-22s %8s %17s %12s %12s %12s\n", "what", "rounds", "delivered", "median_ms", "p99_ms", "max_ms");
  Measure(url, 1, rounds, 0);
  Measure(url, n, rounds, rounds);
  return 0;
}
