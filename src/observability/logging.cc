#include "observability/logging.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <memory>

#include "common/strings.h"

namespace tmcd::observability {
namespace {

// One JSON object per line: {"ts":"...","level":"info","logger":"tmcd","msg":"..."}.
class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    using std::chrono::duration_cast;
    auto since = msg.time.time_since_epoch();
    auto secs = duration_cast<std::chrono::seconds>(since);
    auto micros = duration_cast<std::chrono::microseconds>(since - secs).count();
    std::time_t t = secs.count();
    std::tm tm{};
    gmtime_r(&t, &tm);
    char ts[40];
    size_t n = std::strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
    std::snprintf(ts + n, sizeof(ts) - n, ".%06lldZ", static_cast<long long>(micros));
    std::string line = std::string(R"({"ts":")") + ts + R"(","level":")" +
                       std::string(spdlog::level::to_string_view(msg.level).data()) + R"(","logger":")" +
                       JsonEscape({msg.logger_name.data(), msg.logger_name.size()}) + R"(","msg":")" +
                       JsonEscape({msg.payload.data(), msg.payload.size()}) + "\"}\n";
    dest.append(line.data(), line.data() + line.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<JsonFormatter>(); }
};

}  // namespace

Status SetLogLevel(std::string_view level) {
  auto lvl = spdlog::level::from_str(std::string(level));
  if (lvl == spdlog::level::off && level != "off") return Invalid("unknown log level " + std::string(level));
  spdlog::set_level(lvl);
  return Status::Ok();
}

Status SetupLogging(std::string_view format, std::string_view level) {
  spdlog::drop("tmcd");
  auto logger = spdlog::stderr_logger_mt("tmcd");
  if (format == "json") {
    logger->set_formatter(std::make_unique<JsonFormatter>());
  } else if (format == "text") {
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%fZ %^%-5l%$ %v", spdlog::pattern_time_type::utc);
  } else {
    return Invalid("unknown log format " + std::string(format));
  }
  spdlog::set_default_logger(logger);
  return SetLogLevel(level);
}

}  // namespace tmcd::observability
