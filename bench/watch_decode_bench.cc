// Watch-stream decode throughput: kube::WatchDecoder (incremental framing, simdjson parse, object
// re-serialized as text, metadata extracted) against the baseline of raw simdjson parsing the same
// lines (already split, nothing extracted), and nlohmann::json parsing them, in one run.
//   watch_decode_bench [EVENTS] [OBJECT_BYTES]
#include <simdjson.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "kube/watch_decoder.h"

namespace {

using SteadyClock = std::chrono::steady_clock;

std::string Event(int i, size_t object_bytes) {
  nlohmann::json obj = {
      {"apiVersion", "apps/v1"},
      {"kind", "Deployment"},
      {"metadata",
       {{"name", "web-" + std::to_string(i)},
        {"namespace", "shop"},
        {"resourceVersion", std::to_string(1000 + i)},
        {"uid", "5f0c7c1e-0000-4000-8000-" + std::to_string(100000000000 + i)},
        {"labels", {{"app", "web"}, {"tier", "frontend"}}},
        {"annotations", {{"kcp.io/cluster", "2x8wf9z"}}}}},
      {"spec", {{"replicas", 3}, {"template", {{"spec", {{"containers", {{{"name", "c"}, {"image", "nginx"}}}}}}}}}},
      {"status", {{"replicas", 3}, {"readyReplicas", 3}}}};
  std::string pad(object_bytes > 400 ? object_bytes - 400 : 0, 'x');
  obj["metadata"]["annotations"]["pad"] = pad;
  return nlohmann::json{{"type", i % 3 == 0 ? "ADDED" : "MODIFIED"}, {"object", obj}}.dump();
}

double Seconds(SteadyClock::time_point t0) {
  return std::chrono::duration<double>(SteadyClock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 50000;
  const size_t object_bytes = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 1024;
  std::vector<std::string> lines;
  std::string stream;
  for (int i = 0; i < n; ++i) {
    lines.push_back(Event(i, object_bytes));
    stream += lines.back() + "\n";
  }
  const double mib = static_cast<double>(stream.size()) / (1024.0 * 1024.0);

  auto t0 = SteadyClock::now();
  simdjson::dom::parser parser;
  size_t parsed = 0;
  for (const auto& l : lines) {
    simdjson::padded_string p(l);
    simdjson::dom::element e;
    if (parser.parse(p).get(e) == simdjson::SUCCESS) ++parsed;
  }
  const double raw = Seconds(t0);

  t0 = SteadyClock::now();
  size_t nl_parsed = 0;
  for (const auto& l : lines) nl_parsed += nlohmann::json::parse(l).is_object() ? 1 : 0;
  const double nl = Seconds(t0);

  t0 = SteadyClock::now();
  tmcd::kube::WatchDecoder decoder;
  size_t decoded = 0;
  for (size_t off = 0; off < stream.size(); off += 16384) {  // 16 KiB reads, as from a socket
    tmcd::Status s = decoder.Feed(std::string_view(stream).substr(off, 16384), [&](tmcd::kube::WatchEvent& ev) {
      decoded += ev.resource_version.empty() ? 0 : 1;
      return true;
    });
    if (!s.ok()) {
      std::fprintf(stderr, "decode failed: %s\n", s.ToString().c_str());
      return 1;
    }
  }
  const double dec = Seconds(t0);

  std::printf("%d events of ~%zu bytes (%.1f MiB)\n", n, object_bytes, mib);
  std::printf("%-34s %12s %10s %8s\n", "what", "events/s", "MiB/s", "ratio");
  std::printf("%-34s %12.0f %10.1f %8.2f\n", "raw simdjson parse (baseline)", parsed / raw, mib / raw, 1.0);
  std::printf("%-34s %12.0f %10.1f %8.2f\n", "nlohmann::json parse", nl_parsed / nl, mib / nl, raw / nl);
  std::printf("%-34s %12.0f %10.1f %8.2f\n", "kube::WatchDecoder (full decode)", decoded / dec, mib / dec, raw / dec);
  return decoded == static_cast<size_t>(n) ? 0 : 1;
}
