#pragma once
// Metrics whose values something else already keeps (RocksDB's properties, the HTTP server's
// counters, /proc/self): read when /metrics is scraped instead of mirrored into prometheus-cpp objects
// (docs/metrics.md). Callbacks run on the scraping thread and must be cheap and thread-safe.

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <functional>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace tmcd::observability {

struct Sample {
  std::vector<std::pair<std::string, std::string>> labels;  // bounded, validated values only
  double value = 0;
};

class CallbackCollector : public prometheus::Collectable {
 public:
  using One = std::function<double()>;
  using Many = std::function<std::vector<Sample>()>;

  void Gauge(std::string name, std::string help, One fn);
  void Counter(std::string name, std::string help, One fn);
  // A family with labels: one sample per returned element (none: the family is listed without samples).
  void Gauges(std::string name, std::string help, Many fn);
  void Counters(std::string name, std::string help, Many fn);

  // Runs at the start of every collection, before the callbacks (one reading shared by several families).
  void OnCollect(std::function<void()> fn);

  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  struct Family {
    std::string name;
    std::string help;
    prometheus::MetricType type;
    Many fn;
  };
  void Add(std::string name, std::string help, prometheus::MetricType type, Many fn);

  mutable std::mutex mu_;
  std::vector<Family> families_;               // guarded by mu_
  std::vector<std::function<void()>> before_;  // guarded by mu_
};

// process_* metrics as Prometheus' client libraries name them (cpu, memory, fds, start time) plus
// tmcd_process_threads, from /proc/self.
void AddProcessMetrics(CallbackCollector& collector);

}  // namespace tmcd::observability
