// GET and LIST throughput/latency of a Kubernetes-style API server, driven by C threads with keep-alive
// HTTP clients. Used by bench/api_bench.sh against tmcd and a real kube-apiserver in the same run.
//   api_bench URL PATH SECONDS THREADS [TOKEN]   → one line: requests/s median_us p99_us errors
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: api_bench URL PATH SECONDS THREADS [TOKEN]\n");
    return 2;
  }
  const std::string url = argv[1];
  const std::string path = argv[2];
  const double seconds = std::atof(argv[3]);
  const int threads = std::atoi(argv[4]);
  const std::string token = argc > 5 ? argv[5] : "";
  std::mutex mu;
  std::vector<double> all;
  std::atomic<long> errors{0};
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      httplib::Client cli(url);
      cli.enable_server_certificate_verification(false);
      cli.set_keep_alive(true);
      cli.set_tcp_nodelay(true);
      httplib::Headers headers = {{"Accept", "application/json"}};
      if (!token.empty()) headers.emplace("Authorization", "Bearer " + token);
      std::vector<double> lat;
      while (std::chrono::steady_clock::now() < deadline) {
        auto t0 = std::chrono::steady_clock::now();
        auto res = cli.Get(path, headers);
        if (!res || res->status != 200) {
          errors++;
          continue;
        }
        lat.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
      }
      std::lock_guard<std::mutex> lock(mu);
      all.insert(all.end(), lat.begin(), lat.end());
    });
  }
  for (auto& th : pool) th.join();
  if (all.empty()) {
    std::printf("0 0 0 %ld\n", errors.load());
    return 1;
  }
  std::sort(all.begin(), all.end());
  std::printf("%.0f %.1f %.1f %ld\n", static_cast<double>(all.size()) / seconds, all[all.size() / 2],
              all[all.size() * 99 / 100], errors.load());
  return 0;
}
