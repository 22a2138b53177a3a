#include "observability/collector.h"

#include <doctest/doctest.h>
#include <malloc.h>
#include <prometheus/text_serializer.h>

#include <map>
#include <sstream>

namespace tmcd::observability {

TEST_CASE("callback metrics are read at each collection, with their type and labels") {
  CallbackCollector c;
  double level = 1;
  c.Gauge("g", "a gauge", [&level] { return level; });
  c.Counter("c_total", "a counter", [] { return 7.0; });
  c.Counters("by_code_total", "by code", [] {
    return std::vector<Sample>{{{{"code", "400"}}, 2}, {{{"code", "413"}}, 3}};
  });
  c.Gauges("none", "no samples", [] { return std::vector<Sample>{}; });
  level = 5;
  auto families = c.Collect();
  REQUIRE(families.size() == 4);
  CHECK(families[0].type == prometheus::MetricType::Gauge);
  CHECK(families[0].metric.at(0).gauge.value == 5);
  CHECK(families[1].type == prometheus::MetricType::Counter);
  CHECK(families[1].metric.at(0).counter.value == 7);
  REQUIRE(families[2].metric.size() == 2);
  CHECK(families[2].metric[1].label.at(0).value == "413");
  CHECK(families[3].metric.empty());
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, families);
  CHECK(out.str().find("by_code_total{code=\"413\"} 3") != std::string::npos);
}

TEST_CASE("one reading per collection serves several families") {
  CallbackCollector c;
  int readings = 0;
  int value = 0;
  c.OnCollect([&] {
    ++readings;
    value = readings * 10;
  });
  c.Gauge("a", "first", [&value] { return value; });
  c.Gauge("b", "second", [&value] { return value + 1; });
  auto first = c.Collect();
  CHECK(readings == 1);
  CHECK(first[0].metric[0].gauge.value == 10);
  CHECK(first[1].metric[0].gauge.value == 11);
  auto second = c.Collect();
  CHECK(readings == 2);
  CHECK(second[1].metric[0].gauge.value == 21);
}

TEST_CASE("process metrics read this process") {
  CallbackCollector c;
  AddProcessMetrics(c);
  std::map<std::string, double> v;
  for (const auto& f : c.Collect()) {
    if (f.metric.empty()) continue;  // tmcd_malloc_bytes under a sanitizer's allocator
    v[f.name] = f.metric.at(0).gauge.value + f.metric.at(0).counter.value;
  }
  CHECK(v.count("tmcd_malloc_bytes") == (::mallinfo2().arena != 0 || ::mallinfo2().hblkhd != 0 ? 1 : 0));
  CHECK(v.at("process_resident_memory_bytes") > 1 << 20);
  CHECK(v.at("process_virtual_memory_bytes") >= v.at("process_resident_memory_bytes"));
  CHECK(v.at("process_open_fds") >= 3);  // stdin, stdout, stderr
  CHECK(v.at("tmcd_process_threads") >= 1);
  CHECK(v.at("process_start_time_seconds") > 1.7e9);
}

}  // namespace tmcd::observability
