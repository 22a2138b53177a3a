#include "observability/logging.h"

#include <doctest/doctest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "observability/trace.h"

namespace tmcd::observability {
namespace {

struct Capture {
  std::ostringstream out;
  std::shared_ptr<spdlog::sinks::sink> sink;
  explicit Capture(std::string_view format, bool journald = false)
      : sink(MakeLogSink(format, std::make_shared<spdlog::sinks::ostream_sink_mt>(out), journald)) {}
  void Log(spdlog::level::level_enum level, std::string_view text, std::chrono::seconds at) {
    sink->log(spdlog::details::log_msg(spdlog::log_clock::time_point(at), {}, "tmcd", level, text));
  }
  std::vector<std::string> Lines() const {
    std::vector<std::string> lines;
    std::istringstream in(out.str());
    for (std::string l; std::getline(in, l);) lines.push_back(l);
    return lines;
  }
};

}  // namespace

TEST_CASE("a controller key's fields go on every line logged while it is reconciled") {
  Capture json("json");
  {
    const ScopedLogFields f(FieldsFromKey("sync", "root:team|deployments.apps|shop/web"));
    {
      const ScopedLogFields c({.cluster = "east"});
      json.Log(spdlog::level::info, "applied", std::chrono::seconds(1000));
    }
    json.Log(spdlog::level::info, "status written", std::chrono::seconds(1000));
  }
  json.Log(spdlog::level::info, "idle", std::chrono::seconds(1000));
  const auto lines = json.Lines();
  REQUIRE(lines.size() == 3);
  const auto first = nlohmann::json::parse(lines[0]);
  CHECK(first["msg"] == "applied");
  CHECK(first["controller"] == "sync");
  CHECK(first["workspace"] == "root:team");
  CHECK(first["resource"] == "deployments.apps");
  CHECK(first["namespace"] == "shop");
  CHECK(first["name"] == "web");
  CHECK(first["cluster"] == "east");
  CHECK(first["ts"] == "1970-01-01T00:16:40.000000Z");
  CHECK_FALSE(nlohmann::json::parse(lines[1]).contains("cluster"));
  CHECK_FALSE(nlohmann::json::parse(lines[2]).contains("controller"));

  const auto cluster = FieldsFromKey("clusters", "root|east");
  CHECK(cluster.cluster == "east");
  CHECK(cluster.name == "east");
  CHECK(FieldsFromKey("placement", "root|shop/web").cluster.empty());
}

TEST_CASE("a line logged inside a span carries its trace id; repeats in other traces are still repeats") {
  Capture json("json");
  auto parent = ParseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  REQUIRE(parent.has_value());
  {
    const ScopedSpanContext in(*parent);
    json.Log(spdlog::level::warn, "apply failed", std::chrono::seconds(1000));
  }
  {
    const ScopedSpanContext other(*ParseTraceparent("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"));
    json.Log(spdlog::level::warn, "apply failed", std::chrono::seconds(1001));  // held back: same line
  }
  json.Log(spdlog::level::info, "outside", std::chrono::seconds(1002));
  const auto lines = json.Lines();
  REQUIRE(lines.size() == 2);
  CHECK(nlohmann::json::parse(lines[0])["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736");
  CHECK_FALSE(nlohmann::json::parse(lines[1]).contains("trace_id"));
}

TEST_CASE("text lines put the fields after the message, quoted when they must be; journald gets priorities") {
  Capture text("text");
  {
    const ScopedLogFields f({.controller = "clusters", .name = "a b"});
    text.Log(spdlog::level::warn, "probe failed", std::chrono::seconds(0));
  }
  CHECK(text.Lines().at(0) == R"(1970-01-01T00:00:00.000000Z warning probe failed controller=clusters name="a b")");
  Capture journal("text", true);
  journal.Log(spdlog::level::err, "store not writable", std::chrono::seconds(0));
  journal.Log(spdlog::level::info, "ready", std::chrono::seconds(0));
  CHECK(journal.Lines() == std::vector<std::string>{"<3>store not writable", "<6>ready"});
}

TEST_CASE("identical warnings are held back within the window and counted") {
  Capture text("text", true);
  for (int i = 0; i < 5; ++i) text.Log(spdlog::level::warn, "cluster east unreachable", std::chrono::seconds(i));
  text.Log(spdlog::level::info, "info lines are never held back", std::chrono::seconds(5));
  text.Log(spdlog::level::info, "info lines are never held back", std::chrono::seconds(5));
  text.Log(spdlog::level::warn, "another warning", std::chrono::seconds(6));
  {
    const ScopedLogFields f({.cluster = "west"});  // other fields: another line
    text.Log(spdlog::level::warn, "cluster east unreachable", std::chrono::seconds(7));
  }
  text.Log(spdlog::level::warn, "cluster east unreachable", std::chrono::seconds(61));
  text.Log(spdlog::level::warn, "cluster east unreachable", std::chrono::seconds(62));
  CHECK(text.Lines() == std::vector<std::string>{
                            "<4>cluster east unreachable",
                            "<6>info lines are never held back",
                            "<6>info lines are never held back",
                            "<4>another warning",
                            "<4>cluster east unreachable cluster=west",
                            "<4>cluster east unreachable (4 more times since the last report)",
                        });
  // A line that stops repeating is summarized by the first line logged after its window.
  text.Log(spdlog::level::info, "later", std::chrono::seconds(200));
  const auto lines = text.Lines();
  REQUIRE(lines.size() == 8);
  CHECK(lines[6] == "<4>cluster east unreachable (1 more time in the 1 s after it was printed)");
  CHECK(lines[7] == "<6>later");
}

}  // namespace tmcd::observability
