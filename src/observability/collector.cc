#include "observability/collector.h"

#include <malloc.h>
#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace tmcd::observability {

void CallbackCollector::Add(std::string name, std::string help, prometheus::MetricType type, Many fn) {
  std::lock_guard<std::mutex> lock(mu_);
  families_.push_back({std::move(name), std::move(help), type, std::move(fn)});
}

void CallbackCollector::Gauge(std::string name, std::string help, One fn) {
  Add(std::move(name), std::move(help), prometheus::MetricType::Gauge, [fn = std::move(fn)] {
    return std::vector<Sample>{{{}, fn()}};
  });
}

void CallbackCollector::Counter(std::string name, std::string help, One fn) {
  Add(std::move(name), std::move(help), prometheus::MetricType::Counter, [fn = std::move(fn)] {
    return std::vector<Sample>{{{}, fn()}};
  });
}

void CallbackCollector::Gauges(std::string name, std::string help, Many fn) {
  Add(std::move(name), std::move(help), prometheus::MetricType::Gauge, std::move(fn));
}

void CallbackCollector::Counters(std::string name, std::string help, Many fn) {
  Add(std::move(name), std::move(help), prometheus::MetricType::Counter, std::move(fn));
}

void CallbackCollector::OnCollect(std::function<void()> fn) {
  std::lock_guard<std::mutex> lock(mu_);
  before_.push_back(std::move(fn));
}

std::vector<prometheus::MetricFamily> CallbackCollector::Collect() const {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& fn : before_) fn();
  std::vector<prometheus::MetricFamily> out;
  out.reserve(families_.size());
  for (const Family& f : families_) {
    prometheus::MetricFamily family;
    family.name = f.name;
    family.help = f.help;
    family.type = f.type;
    for (Sample& s : f.fn()) {
      prometheus::ClientMetric m;
      for (auto& [k, v] : s.labels) m.label.push_back({std::move(k), std::move(v)});
      if (f.type == prometheus::MetricType::Counter) {
        m.counter.value = s.value;
      } else {
        m.gauge.value = s.value;
      }
      family.metric.push_back(std::move(m));
    }
    out.push_back(std::move(family));
  }
  return out;
}

namespace {

struct ProcStat {
  double cpu_seconds = 0;
  double start_time = 0;  // seconds since the epoch
  double virtual_bytes = 0;
  double resident_bytes = 0;
  double threads = 0;
};

double BootTime() {
  std::ifstream in("/proc/stat");
  std::string key;
  double value = 0;
  while (in >> key) {
    if (key == "btime" && (in >> value)) return value;
    in.ignore(1 << 16, '\n');
  }
  return 0;
}

// /proc/self/stat (proc(5)): the fields after the parenthesised command name, which may hold spaces.
ProcStat ReadProcStat() {
  ProcStat st;
  std::ifstream in("/proc/self/stat");
  std::string line;
  if (!std::getline(in, line)) return st;
  const auto close = line.rfind(')');
  if (close == std::string::npos) return st;
  std::istringstream fields(line.substr(close + 2));
  std::vector<std::string> f;
  for (std::string x; fields >> x;) f.push_back(x);
  // f[0] is field 3 (state): utime 14, stime 15, num_threads 20, starttime 22, vsize 23, rss 24.
  if (f.size() < 22) return st;
  const double tick = static_cast<double>(::sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(::sysconf(_SC_PAGESIZE));
  st.cpu_seconds = (std::stod(f[11]) + std::stod(f[12])) / tick;
  st.threads = std::stod(f[17]);
  static const double kBoot = BootTime();
  st.start_time = kBoot + std::stod(f[19]) / tick;
  st.virtual_bytes = std::stod(f[20]);
  st.resident_bytes = std::stod(f[21]) * page;
  return st;
}

double OpenFds() {
  std::error_code ec;
  double n = 0;
  for (std::filesystem::directory_iterator it("/proc/self/fd", ec), end; !ec && it != end; it.increment(ec)) ++n;
  return n > 0 ? n - 1 : 0;  // the directory's own descriptor
}

double MaxFds() {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) return 0;
  return static_cast<double>(rl.rlim_cur);
}

}  // namespace

void AddProcessMetrics(CallbackCollector& collector) {
  collector.Counter("process_cpu_seconds_total", "User and system CPU time spent, in seconds.",
                    [] { return ReadProcStat().cpu_seconds; });
  collector.Gauge("process_resident_memory_bytes", "Resident memory size in bytes.",
                  [] { return ReadProcStat().resident_bytes; });
  collector.Gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.",
                  [] { return ReadProcStat().virtual_bytes; });
  collector.Gauge("process_start_time_seconds", "Start time of the process since the Unix epoch, in seconds.",
                  [] { return ReadProcStat().start_time; });
  collector.Gauge("process_open_fds", "Open file descriptors.", [] { return OpenFds(); });
  collector.Gauge("process_max_fds", "The open file descriptor limit (RLIMIT_NOFILE).", [] { return MaxFds(); });
  collector.Gauge("tmcd_process_threads", "Threads of the tmcd process.", [] { return ReadProcStat().threads; });
  // What of the resident memory is live data and what the allocator keeps after it was freed (glibc's
  // mallinfo2: one walk over its arenas per scrape).
  collector.Gauges("tmcd_malloc_bytes",
                   "Heap memory by state: in_use (allocated and not freed, mmapped blocks included) and free "
                   "(freed, kept by the allocator for reuse; part of the resident size while its pages are touched).",
                   [] {
                     const struct mallinfo2 mi = ::mallinfo2();
                     // Not glibc's heap (a sanitizer's allocator answers zeros): nothing to report.
                     if (mi.arena == 0 && mi.hblkhd == 0) return std::vector<Sample>{};
                     return std::vector<Sample>{{{{"state", "in_use"}}, static_cast<double>(mi.uordblks + mi.hblkhd)},
                                                {{{"state", "free"}}, static_cast<double>(mi.fordblks)}};
                   });
}

}  // namespace tmcd::observability
