#include "observability/logging.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <memory>

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

std::string JsonEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out;
}

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
