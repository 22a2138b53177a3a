#include "app/app.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <mutex>
#include <thread>

#include "app/notify.h"
#include "observability/logging.h"
#include "tmcd_build_config.h"

namespace tmcd::app {
namespace {

sigset_t HandledSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  return set;
}

std::string Errno(int err) {
  char buf[256];
  return strerror_r(err, buf, sizeof(buf));  // GNU variant: returns the message pointer
}

}  // namespace

void BlockSignals() {
  sigset_t set = HandledSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

App::App(Config config, ConfigLoader loader) : config_(std::move(config)), loader_(std::move(loader)) {}

App::~App() {
  Stop();
}

Status App::Start() {
  std::error_code ec;
  std::filesystem::create_directories(config_.data_dir, ec);
  if (ec) return Internal("cannot create data directory " + config_.data_dir + ": " + ec.message());
  const std::string lock_path = config_.data_dir + "/tmcd.lock";
  lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock_fd_ < 0) return Internal("cannot open " + lock_path + ": " + Errno(errno));
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    ::close(lock_fd_);
    lock_fd_ = -1;
    if (err == EWOULDBLOCK) {
      return {Reason::kConflict, "data directory " + config_.data_dir + " is in use by another tmcd process"};
    }
    return Internal("cannot lock " + lock_path + ": " + Errno(err));
  }
  std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(lock_fd_, 0) != 0 || ::write(lock_fd_, pid.data(), pid.size()) < 0) {
    spdlog::warn("cannot write pid to {}: {}", lock_path, Errno(errno));
  }
  std::string gates;
  for (const auto& [name, on] : config_.gates.Effective()) gates += name + "=" + (on ? "true " : "false ");
  spdlog::info("tmcd {} starting: dataDir={} config={} gates: {}", TMCD_VERSION, config_.data_dir,
               config_.source_file.empty() ? "(none)" : config_.source_file, gates);
  return Status::Ok();
}

int App::Run() {
  const sigset_t set = HandledSignals();
  const auto watchdog = WatchdogInterval();
  NotifyReady("serving");
  spdlog::info("tmcd ready");
  while (true) {
    auto wait = watchdog.value_or(std::chrono::milliseconds(1000));
    timespec ts{static_cast<time_t>(wait.count() / 1000), static_cast<long>((wait.count() % 1000) * 1000000)};
    int sig = sigtimedwait(&set, nullptr, &ts);
    if (sig < 0) {
      if (watchdog) NotifyWatchdog();
      continue;  // EAGAIN (timeout) or EINTR
    }
    if (sig == SIGHUP) {
      Reload();
      continue;
    }
    spdlog::info("received {}, stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    break;
  }
  NotifyStopping();
  // A stop that hangs must not keep a unit in "deactivating" forever: give up after shutdownTimeout.
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  std::thread guard([&] {
    std::unique_lock<std::mutex> lock(mu);
    if (!cv.wait_for(lock, config_.shutdown_timeout, [&] { return done; })) {
      spdlog::critical("graceful stop exceeded {} ms, exiting", config_.shutdown_timeout.count());
      std::_Exit(1);
    }
  });
  Stop();
  {
    std::lock_guard<std::mutex> lock(mu);
    done = true;
  }
  cv.notify_one();
  guard.join();
  spdlog::info("tmcd stopped");
  return 0;
}

void App::Reload() {
  NotifyReloading();
  auto fresh = loader_.Load();
  if (!fresh.ok()) {
    spdlog::error("reload failed, keeping the current settings: {}", fresh.status().message());
  } else if (fresh->log_level != config_.log_level) {
    Status s = observability::SetLogLevel(fresh->log_level);
    if (s.ok()) {
      spdlog::info("reload: log level {} -> {}", config_.log_level, fresh->log_level);
      config_.log_level = fresh->log_level;
    }
  } else {
    spdlog::info("reload: nothing to change");
  }
  NotifyReady("serving");
}

void App::Stop() {
  // Components are stopped here in reverse construction order as they are added.
  if (lock_fd_ >= 0) {
    ::close(lock_fd_);
    lock_fd_ = -1;
  }
}

}  // namespace tmcd::app
