// Scheduling benchmark (issue 16; docs/performance.md#placement-scheduling). Two parts:
//  algorithm   Schedule() of advanced placement (scored strategies, a quarter of the placements with a
//              zone spread constraint, Balance fed by the decisions made so far) on N clusters, against
//              the basic round-robin algorithm on the same placements stripped of their advanced fields
//              (the baseline), in alternating rounds; decisions/s and per-decision p50/p99; then the
//              advanced placements again with a capacity demand and reservations (the capacity arm).
//  controller  PlacementController::Reconcile with the gate on, on a real RocksDB store through the
//              registry (as tmcd runs in embedded mode): every placement's first decision, each one a
//              status write, then a pass where nothing changes; the algorithm at the same size is the
//              baseline for the controller's overhead (listing clusters and placements, decoding, writing).
// Usage: build/bench/schedule_bench [rounds=5] [clusters=100,1000,5000] [placements=10000]
//                                   [controller clusters=100,1000,5000] [controller placements=1000,10000]
// (controller sizes whose clusters × placements exceed 10^7 are skipped).
#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "apis/tmc/v1alpha1/register.h"
#include "common/clock.h"
#include "engine/placement.h"
#include "engine/placement_capacity.h"
#include "engine/placement_schedule.h"
#include "registry/objects.h"
#include "store/store.h"
#include "upstream/upstream.h"

namespace {

using namespace tmcd;  // NOLINT(google-build-using-namespace): a benchmark's main file
using Json = nlohmann::json;
using Steady = std::chrono::steady_clock;
namespace v1 = apis::v1alpha1;

double Ms(Steady::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

// Heap bytes in use (glibc): RSS deltas miss what the allocator reuses from freed memory.
double HeapKiB() {
  const auto m = mallinfo2();
  return static_cast<double>(m.uordblks + m.hblkhd) / 1024.0;  // small chunks and mmapped blocks
}

std::vector<size_t> ParseList(const char* s) {
  std::vector<size_t> out;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, ',');) out.push_back(std::stoul(item));
  return out;
}

apis::Quantity Q(int64_t cores) {
  return *apis::Quantity::Parse(std::to_string(cores));
}

// 10 locations × 3 zones, 3 providers, 16..128 cores of which a random part is free.
Json ClusterBody(size_t i, std::mt19937& rng) {
  static const char* const kProviders[] = {"aws", "gcp", "onprem"};
  return {{"apiVersion", "tmc.kcp.io/v1alpha1"},
          {"kind", "ClusterRegistration"},
          {"metadata", {{"name", "c-" + std::to_string(i)}, {"labels", {{"tier", rng() % 2 ? "gold" : "silver"}}}}},
          {"spec",
           {{"location", "loc-" + std::to_string(i % 10)},
            {"zone", "z-" + std::to_string(i % 30)},
            {"provider", kProviders[rng() % 3]},
            {"endpoint", {{"server", "https://c-" + std::to_string(i) + ".example:6443"}}}}}};
}

void SetStatus(v1::ClusterRegistration& c, std::mt19937& rng) {
  const int64_t cores = 16 + static_cast<int64_t>(rng() % 113);
  c.status.allocatable["cpu"] = Q(cores);
  c.status.available["cpu"] = Q(1 + static_cast<int64_t>(rng() % static_cast<uint32_t>(cores)));
  c.status.synced_resources = {{"apps", "deployments", {"v1"}, "Accepted"}};
  apis::Condition ready;
  ready.type = "Ready";
  ready.status = "True";
  ready.reason = "Probed";
  c.status.conditions = {ready};
}

Json PlacementBody(size_t i, bool advanced) {
  static const char* const kStrategies[] = {"Spread", "LeastLoaded", "Binpack", "LocationAware"};
  Json spec = {{"numberOfClusters", 2 + static_cast<int>(i % 2)},
               {"workloadSelector", {{"labelSelector", {{"matchLabels", {{"app", "w" + std::to_string(i)}}}}}}}};
  if (advanced) {
    spec["strategy"] = kStrategies[i % 4];
    if (i % 4 == 3) {
      spec["clusterSelector"] = {
          {"locations", {"loc-" + std::to_string(i % 10), "loc-" + std::to_string((i + 3) % 10)}}};
    }
    if (i % 4 == 1) spec["spreadConstraints"] = Json::array({{{"topologyKey", "zone"}, {"maxSkew", 1}}});
  }
  return {{"apiVersion", "tmc.kcp.io/v1alpha1"},
          {"kind", "WorkloadPlacement"},
          {"metadata", {{"name", "p-" + std::to_string(i)}, {"namespace", "shop"}}},
          {"spec", spec}};
}

struct Figures {
  double per_s = 0;
  double p50_ms = 0;
  double p99_ms = 0;
};

Figures Summarize(std::vector<double>& lat, Steady::duration total) {
  std::sort(lat.begin(), lat.end());
  Figures f;
  f.per_s = static_cast<double>(lat.size()) / std::chrono::duration<double>(total).count();
  f.p50_ms = lat[lat.size() / 2];
  f.p99_ms = lat[std::min(lat.size() - 1, lat.size() * 99 / 100)];
  return f;
}

// One round: `count` decisions (placements taken in turn), Balance fed by the decisions made so far.
// With `demand`, every placement needs it (the capacity filter) and each decision reserves it on its
// clusters for the decisions after it, as the controller's reservation book does.
Figures AlgorithmRound(const std::vector<v1::WorkloadPlacement>& placements,
                       const std::vector<v1::ClusterRegistration>& clusters, bool advanced, size_t count,
                       const engine::PlacementDemand* demand = nullptr) {
  engine::ScheduleOptions options{advanced, {}};
  options.demand = demand;
  std::vector<double> lat;
  lat.reserve(count);
  const auto start = Steady::now();
  for (size_t k = 0; k < count; ++k) {
    const auto& p = placements[k % placements.size()];
    const auto t0 = Steady::now();
    auto r = engine::Schedule(p, "root/shop/" + p.metadata.name, clusters, options);
    lat.push_back(Ms(Steady::now() - t0));
    for (const auto& d : r.decisions) {
      ++options.load[d.cluster_name];
      if (demand != nullptr) engine::Add(options.reserved[d.cluster_name], demand->per_copy);
    }
  }
  return Summarize(lat, Steady::now() - start);
}

std::string Spread3(std::vector<double> v, const char* fmt) {
  std::sort(v.begin(), v.end());
  char buf[128];
  std::string out;
  for (double x : {v.front(), v[v.size() / 2], v.back()}) {
    std::snprintf(buf, sizeof buf, fmt, x);
    out += (out.empty() ? "" : " / ") + std::string(buf);
  }
  return out;
}

void Algorithm(size_t rounds, size_t n, size_t placements_n) {
  std::mt19937 rng(42);
  const double heap0 = HeapKiB();
  std::vector<v1::ClusterRegistration> clusters;
  for (size_t i = 0; i < n; ++i) {
    auto c = v1::DecodeStored<v1::ClusterRegistration>(ClusterBody(i, rng).dump());
    SetStatus(*c, rng);
    clusters.push_back(std::move(*c));
  }
  const double heap1 = HeapKiB();
  std::vector<v1::WorkloadPlacement> advanced, basic;
  for (size_t i = 0; i < placements_n; ++i) {
    advanced.push_back(*v1::DecodeStored<v1::WorkloadPlacement>(PlacementBody(i, true).dump()));
    basic.push_back(*v1::DecodeStored<v1::WorkloadPlacement>(PlacementBody(i, false).dump()));
  }
  const double heap2 = HeapKiB();
  // Decisions per round: all placements at small sizes, fewer at large ones (each round ≈ seconds).
  const size_t count = std::min(placements_n, std::max<size_t>(200, 2'000'000 / n));
  // Capacity: every copy requests 50 millicores (small enough that the clusters do not fill up within
  // a round: the figure is the filter's and the reservations' cost, not that of unschedulable placements).
  engine::PlacementDemand demand;
  demand.per_copy = {{"cpu", 50}};
  demand.largest_pod = demand.per_copy;
  demand.workloads = 1;
  std::vector<double> adv_s, basic_s, ratio, adv_p99, basic_p99, cap_s, cap_p99, cap_ratio;
  for (size_t r = 0; r < rounds; ++r) {
    const Figures b = AlgorithmRound(basic, clusters, false, count);
    const Figures a = AlgorithmRound(advanced, clusters, true, count);
    const Figures c = AlgorithmRound(advanced, clusters, true, count, &demand);
    basic_s.push_back(b.per_s);
    adv_s.push_back(a.per_s);
    ratio.push_back(a.per_s / b.per_s);
    adv_p99.push_back(a.p99_ms);
    basic_p99.push_back(b.p99_ms);
    cap_s.push_back(c.per_s);
    cap_p99.push_back(c.p99_ms);
    cap_ratio.push_back(c.per_s / a.per_s);
  }
  std::printf("algorithm  %5zu clusters, %zu placements (%zu decisions per round, %zu rounds; min / median / max)\n", n,
              placements_n, count, rounds);
  std::printf("  advanced  decisions/s %s   p99 ms %s\n", Spread3(adv_s, "%.0f").c_str(),
              Spread3(adv_p99, "%.3f").c_str());
  std::printf("  basic     decisions/s %s   p99 ms %s\n", Spread3(basic_s, "%.0f").c_str(),
              Spread3(basic_p99, "%.3f").c_str());
  std::printf("  ratio advanced/basic  %s\n", Spread3(ratio, "%.2f").c_str());
  std::printf("  capacity  decisions/s %s   p99 ms %s   ratio capacity/advanced %s\n", Spread3(cap_s, "%.0f").c_str(),
              Spread3(cap_p99, "%.3f").c_str(), Spread3(cap_ratio, "%.2f").c_str());
  std::printf("  memory    %.1f KiB per cluster, %.1f KiB per placement (heap in use, decoded objects)\n",
              (heap1 - heap0) / static_cast<double>(n), (heap2 - heap1) / 2.0 / static_cast<double>(placements_n));
}

// The placement controller with the gate on, on a real store: objects created through the registry.
void Controller(size_t n, size_t placements_n) {
  const std::string dir = "/tmp/schedule_bench." + std::to_string(::getpid());
  std::filesystem::remove_all(dir);
  RealClock clock;
  store::StoreOptions so;
  so.path = dir;
  so.sync_writes = false;
  auto st = store::Store::Open(so, clock);
  if (!st.ok()) {
    std::fprintf(stderr, "store: %s\n", st.status().ToString().c_str());
    return;
  }
  auto& s = **st;
  registry::ObjectService objects(s, clock);
  objects.set_advanced_placement(true);
  upstream::EmbeddedUpstream up(s, objects);
  prometheus::Registry metrics;
  engine::PlacementController ctl(up, s, clock, metrics, {{"apps", "deployments"}}, /*advanced=*/true);
  auto create = [&](const std::string& resource, const std::string& ns, const Json& body) {
    registry::Request req;
    req.workspace = "root";
    req.namespace_ = ns;
    auto made = objects.Create(req, *objects.catalog().Find("root", "tmc.kcp.io", "v1alpha1", resource), body);
    if (!made.ok()) std::fprintf(stderr, "create: %s\n", made.status().ToString().c_str());
  };
  std::mt19937 rng(42);
  for (size_t i = 0; i < n; ++i) {
    create("clusterregistrations", "", ClusterBody(i, rng));
    (void)up.MutateStatus<v1::ClusterRegistration>(
        {"root", "tmc.kcp.io", "v1alpha1", "clusterregistrations", "", "c-" + std::to_string(i)},
        [&](v1::ClusterRegistration& c) {
          SetStatus(c, rng);
          return Result<bool>(true);
        });
  }
  for (size_t i = 0; i < placements_n; ++i) create("workloadplacements", "shop", PlacementBody(i, true));
  for (const char* pass : {"first decisions (status writes)", "nothing changed (no writes)"}) {
    std::vector<double> lat;
    const auto start = Steady::now();
    for (size_t i = 0; i < placements_n; ++i) {
      const auto t0 = Steady::now();
      auto r = ctl.Reconcile(engine::PlacementController::KeyFor("root", "shop", "p-" + std::to_string(i)));
      lat.push_back(Ms(Steady::now() - t0));
      if (!r.ok()) std::fprintf(stderr, "reconcile: %s\n", r.status().ToString().c_str());
    }
    const Figures f = Summarize(lat, Steady::now() - start);
    std::printf("controller %5zu clusters, %5zu placements, %-32s %8.0f decisions/s  p50 %.2f ms  p99 %.2f ms\n", n,
                placements_n, pass, f.per_s, f.p50_ms, f.p99_ms);
  }
  std::filesystem::remove_all(dir);
}

}  // namespace

int main(int argc, char** argv) {
  const size_t rounds = argc > 1 ? std::stoul(argv[1]) : 5;
  const auto sizes = ParseList(argc > 2 ? argv[2] : "100,1000,5000");
  const size_t placements = argc > 3 ? std::stoul(argv[3]) : 10000;
  const auto ctl_sizes = ParseList(argc > 4 ? argv[4] : "100,1000,5000");
  const auto ctl_placements = ParseList(argc > 5 ? argv[5] : "1000,10000");
  std::printf("schedule_bench on %ld cores\n", sysconf(_SC_NPROCESSORS_ONLN));
  for (size_t n : sizes) Algorithm(rounds, n, placements);
  for (size_t n : ctl_sizes) {
    for (size_t p : ctl_placements) {
      if (n * p <= 10'000'000) Controller(n, p);  // 5,000 × 10,000 would take minutes per pass
    }
  }
  return 0;
}
