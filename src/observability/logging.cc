#include "observability/logging.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <mutex>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/strings.h"
#include "observability/trace.h"

namespace tmcd::observability {
namespace {

thread_local LogFields t_fields;      // NOLINT(cppcoreguidelines-avoid-non-const-global-variables): per thread
thread_local std::string t_trace_id;  // NOLINT(cppcoreguidelines-avoid-non-const-global-variables): per thread

// with_trace: also the trace id (repeats of a line are the same line whatever trace they are in).
std::vector<std::pair<const char*, const std::string*>> Pairs(const LogFields& f, bool with_trace = true) {
  std::vector<std::pair<const char*, const std::string*>> out;
  for (const auto& p : {std::pair{"controller", &f.controller}, std::pair{"workspace", &f.workspace},
                        std::pair{"namespace", &f.namespace_}, std::pair{"name", &f.name},
                        std::pair{"resource", &f.resource}, std::pair{"cluster", &f.cluster}}) {
    if (!p.second->empty()) out.push_back(p);
  }
  if (!with_trace) return out;
  const SpanContext span = CurrentSpanContext();  // the trace the line belongs to (docs/observability.md#logs)
  t_trace_id = span.valid() ? span.TraceIdHex() : std::string();
  if (!t_trace_id.empty()) out.emplace_back("trace_id", &t_trace_id);
  return out;
}

std::string Timestamp(const spdlog::details::log_msg& msg) {
  using std::chrono::duration_cast;
  const auto since = msg.time.time_since_epoch();
  const auto secs = duration_cast<std::chrono::seconds>(since);
  const auto micros = duration_cast<std::chrono::microseconds>(since - secs).count();
  const std::time_t t = secs.count();
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::array<char, 40> ts{};
  const size_t n = std::strftime(ts.data(), ts.size(), "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(ts.data() + n, ts.size() - n, ".%06lldZ", static_cast<long long>(micros));
  return ts.data();
}

std::string MoreTimes(size_t n) {
  return std::to_string(n) + (n == 1 ? " more time" : " more times");
}

std::string_view LevelName(spdlog::level::level_enum level) {
  const auto v = spdlog::level::to_string_view(level);
  return {v.data(), v.size()};
}

// One JSON object per line: {"ts":"...","level":"info","logger":"tmcd","msg":"...","controller":...}.
class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    std::string line = R"({"ts":")" + Timestamp(msg) + R"(","level":")" + std::string(LevelName(msg.level)) +
                       R"(","logger":")" + JsonEscape({msg.logger_name.data(), msg.logger_name.size()}) +
                       R"(","msg":")" + JsonEscape({msg.payload.data(), msg.payload.size()}) + "\"";
    for (const auto& [key, value] : Pairs(t_fields))
      line += std::string(",\"") + key + "\":\"" + JsonEscape(*value) + "\"";
    line += "}\n";
    dest.append(line.data(), line.data() + line.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<JsonFormatter>(); }
};

// "2026-12-01T11:40:20.294598Z info  text key=value ..."; under journald "<6>text key=value ...".
class TextFormatter final : public spdlog::formatter {
 public:
  explicit TextFormatter(bool journald) : journald_(journald) {}
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    std::string line;
    if (journald_) {
      static constexpr std::array<char, 7> kPriority = {'7', '7', '6', '4', '3', '2', '6'};  // sd-daemon(3)
      line = std::string("<") + kPriority.at(static_cast<size_t>(msg.level)) + ">";
    } else {
      std::string level(LevelName(msg.level));
      level.resize(std::max<size_t>(level.size(), 5), ' ');
      line = Timestamp(msg) + " " + level + " ";
    }
    line.append(msg.payload.data(), msg.payload.size());
    for (const auto& [key, value] : Pairs(t_fields)) {
      const bool plain = value->find_first_of(" =\"\\") == std::string::npos;
      line += std::string(" ") + key + "=" + (plain ? *value : "\"" + JsonEscape(*value) + "\"");
    }
    line += "\n";
    dest.append(line.data(), line.data() + line.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<TextFormatter>(journald_); }

 private:
  bool journald_;
};

// Passes lines to `out`, holding back warnings and errors identical (level, text, fields) to one printed
// less than kRepeatWindow ago; the count goes out with the next print of that line, or as a summary
// with the first line logged after the window ends.
class RepeatFilterSink final : public spdlog::sinks::sink {
 public:
  explicit RepeatFilterSink(std::shared_ptr<spdlog::sinks::sink> out) : out_(std::move(out)) {}

  void log(const spdlog::details::log_msg& msg) override {
    std::string key;
    if (msg.level >= spdlog::level::warn) {
      key = std::string(LevelName(msg.level)) + '\n' + std::string(msg.payload.data(), msg.payload.size());
      for (const auto& [k, v] : Pairs(t_fields, false)) key += std::string("\n") + k + "=" + *v;
    }
    std::vector<Held> due;
    size_t repeats = 0;
    bool hold = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (msg.time >= next_sweep_) Sweep(msg.time, key, due);
      if (!key.empty()) {
        auto [it, fresh] = held_.try_emplace(key);
        if (!fresh && msg.time - it->second.printed < kRepeatWindow) {
          ++it->second.suppressed;
          it->second.last = msg.time;
          hold = true;
        } else {
          repeats = it->second.suppressed;
          it->second =
              Held{msg.time, msg.time, 0, msg.level, std::string(msg.payload.data(), msg.payload.size()), t_fields};
        }
      }
    }
    for (const Held& h : due) Summarize(h, msg);
    if (hold) return;
    if (repeats == 0) return out_->log(msg);
    std::string text(msg.payload.data(), msg.payload.size());
    text += " (" + MoreTimes(repeats) + " since the last report)";
    spdlog::details::log_msg copy(msg);
    copy.payload = text;
    out_->log(copy);
  }
  void flush() override { out_->flush(); }
  void set_pattern(const std::string& pattern) override { out_->set_pattern(pattern); }
  void set_formatter(std::unique_ptr<spdlog::formatter> f) override { out_->set_formatter(std::move(f)); }

 private:
  struct Held {
    spdlog::log_clock::time_point printed;
    spdlog::log_clock::time_point last;  // the latest held-back repeat
    size_t suppressed = 0;
    spdlog::level::level_enum level = spdlog::level::warn;
    std::string text;
    LogFields fields;
  };

  // Under mu_: ends the windows that are over; those with held-back repeats are summarized by the caller.
  void Sweep(spdlog::log_clock::time_point now, const std::string& current, std::vector<Held>& due) {
    next_sweep_ = now + std::chrono::seconds(1);
    for (auto it = held_.begin(); it != held_.end();) {
      if (it->first == current || now - it->second.printed < kRepeatWindow) {
        ++it;
        continue;
      }
      if (it->second.suppressed > 0) due.push_back(std::move(it->second));
      it = held_.erase(it);
    }
    if (held_.size() > kMaxHeld) held_.clear();  // bounded: a flood of distinct lines passes unfiltered
  }

  void Summarize(const Held& h, const spdlog::details::log_msg& now) {
    const std::string text =
        h.text + " (" + MoreTimes(h.suppressed) + " in the " +
        std::to_string(std::chrono::duration_cast<std::chrono::seconds>(h.last - h.printed).count()) +
        " s after it was printed)";
    spdlog::details::log_msg m(now.time, {}, now.logger_name, h.level, text);
    const LogFields mine = std::exchange(t_fields, h.fields);
    out_->log(m);
    t_fields = mine;
  }

  static constexpr size_t kMaxHeld = 4096;
  std::shared_ptr<spdlog::sinks::sink> out_;
  std::mutex mu_;
  std::unordered_map<std::string, Held> held_;  // guarded by mu_
  spdlog::log_clock::time_point next_sweep_{};  // guarded by mu_
};

// systemd sets JOURNAL_STREAM to the device and inode of the journal stream it connected stderr to.
bool StderrIsJournal() {
  const char* env = std::getenv("JOURNAL_STREAM");  // NOLINT(concurrency-mt-unsafe): read before threads start
  struct stat st {};
  if (env == nullptr || ::fstat(STDERR_FILENO, &st) != 0) return false;
  return std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino) == env;
}

}  // namespace

ScopedLogFields::ScopedLogFields(const LogFields& fields) : saved_(t_fields) {
  for (auto [mine, theirs] :
       {std::pair{&t_fields.controller, &fields.controller}, std::pair{&t_fields.workspace, &fields.workspace},
        std::pair{&t_fields.namespace_, &fields.namespace_}, std::pair{&t_fields.name, &fields.name},
        std::pair{&t_fields.resource, &fields.resource}, std::pair{&t_fields.cluster, &fields.cluster}}) {
    if (!theirs->empty()) *mine = *theirs;
  }
}

ScopedLogFields::~ScopedLogFields() {
  t_fields = std::move(saved_);
}

LogFields CurrentLogFields() {
  return t_fields;
}

LogFields FieldsFromKey(std::string_view controller, std::string_view key) {
  LogFields f;
  f.controller = controller;
  const auto bar = key.find('|');
  if (bar == std::string_view::npos) return f;
  f.workspace = key.substr(0, bar);
  std::string_view rest = key.substr(bar + 1);
  if (const auto bar2 = rest.find('|'); bar2 != std::string_view::npos) {
    f.resource = rest.substr(0, bar2);
    rest = rest.substr(bar2 + 1);
  }
  if (const auto slash = rest.find('/'); slash != std::string_view::npos) {
    f.namespace_ = rest.substr(0, slash);
    f.name = rest.substr(slash + 1);
  } else {
    f.name = rest;
    if (f.resource.empty()) f.cluster = rest;  // "ws|name": the cluster controller's key
  }
  return f;
}

std::shared_ptr<spdlog::sinks::sink> MakeLogSink(std::string_view format, std::shared_ptr<spdlog::sinks::sink> out,
                                                 bool journald) {
  auto sink = std::make_shared<RepeatFilterSink>(std::move(out));
  if (format == "json") {
    sink->set_formatter(std::make_unique<JsonFormatter>());
  } else {
    sink->set_formatter(std::make_unique<TextFormatter>(journald));
  }
  return sink;
}

Status SetLogLevel(std::string_view level) {
  auto lvl = spdlog::level::from_str(std::string(level));
  if (lvl == spdlog::level::off && level != "off") return Invalid("unknown log level " + std::string(level));
  spdlog::set_level(lvl);
  return Status::Ok();
}

Status SetupLogging(std::string_view format, std::string_view level) {
  if (format != "json" && format != "text") return Invalid("unknown log format " + std::string(format));
  spdlog::drop("tmcd");
  auto sink = MakeLogSink(format, std::make_shared<spdlog::sinks::stderr_sink_mt>(), StderrIsJournal());
  auto logger = std::make_shared<spdlog::logger>("tmcd", std::move(sink));
  spdlog::set_default_logger(logger);
  return SetLogLevel(level);
}

}  // namespace tmcd::observability
