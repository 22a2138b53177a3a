#include "security/audit.h"

#include <fcntl.h>
#include <openssl/rand.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <ctime>

#include "common/strings.h"

namespace tmcd::security {
namespace {

std::string MicroTime(std::chrono::system_clock::time_point t) {
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
  const std::time_t secs = us / 1000000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  std::array<char, 40> buf{};
  const size_t n = std::strftime(buf.data(), buf.size(), "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf.data() + n, buf.size() - n, ".%06lldZ", static_cast<long long>(us % 1000000));
  return buf.data();
}

std::string NewAuditId() {
  std::array<unsigned char, 16> b{};
  RAND_bytes(b.data(), static_cast<int>(b.size()));
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);
  std::array<char, 37> out{};
  std::snprintf(out.data(), out.size(), "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
                b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
  return out.data();
}

}  // namespace

nlohmann::json AuditLog::EventFor(const AuditRecord& r, const std::string& level, const std::string& audit_id) {
  using Json = nlohmann::json;
  Json ev = {{"kind", "Event"},
             {"apiVersion", "audit.k8s.io/v1"},
             {"level", level},
             {"auditID", audit_id},
             {"stage", "ResponseComplete"},
             {"requestURI", r.uri},
             {"verb", r.attrs != nullptr ? r.attrs->verb : r.method},
             {"sourceIPs", Json::array({r.source})},
             {"responseStatus", {{"metadata", Json::object()}, {"code", r.code}}},
             {"requestReceivedTimestamp", MicroTime(r.received)},
             {"stageTimestamp", MicroTime(r.finished)}};
  if (r.user != nullptr) {
    ev["user"] = {{"username", r.user->name}, {"groups", r.user->groups}};
    if (!r.user->uid.empty()) ev["user"]["uid"] = r.user->uid;
  }
  if (!r.user_agent.empty()) ev["userAgent"] = r.user_agent;
  Json annotations = {{"authorization.k8s.io/decision", r.allowed ? "allow" : "forbid"}};
  if (!r.decision_reason.empty()) annotations["authorization.k8s.io/reason"] = r.decision_reason;
  if (r.attrs != nullptr) {
    annotations["tmc.kcp.io/workspace"] = r.attrs->workspace;
    if (r.attrs->resource_request) {
      Json ref = {{"resource", r.attrs->resource}, {"apiGroup", r.attrs->group}};
      if (!r.attrs->namespace_.empty()) ref["namespace"] = r.attrs->namespace_;
      if (!r.attrs->name.empty()) ref["name"] = r.attrs->name;
      if (!r.attrs->subresource.empty()) ref["subresource"] = r.attrs->subresource;
      ev["objectRef"] = ref;
    }
  }
  ev["annotations"] = annotations;
  const bool secret = r.attrs != nullptr && r.attrs->resource == "secrets" && r.attrs->group.empty();
  if (level == "Request" && r.body != nullptr && !r.body->empty() && !secret) {
    Json body = JsonTooDeep(*r.body) ? Json(nullptr) : Json::parse(*r.body, nullptr, false);
    if (!body.is_discarded() && !body.is_null()) ev["requestObject"] = std::move(body);
  }
  return ev;
}

Result<std::unique_ptr<AuditLog>> AuditLog::Open(AuditOptions options) {
  if (options.level != "None" && options.level != "Metadata" && options.level != "Request") {
    return Invalid("audit level " + options.level + ": want None, Metadata or Request");
  }
  std::unique_ptr<AuditLog> log(new AuditLog(std::move(options)));
  if (log->options_.level == "None") return log;
  const int fd = ::open(log->options_.path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0)
    return Internal("cannot open the audit log " + log->options_.path + ": " + std::strerror(errno));  // NOLINT
  log->file_ = ::fdopen(fd, "a");
  struct stat st {};
  if (::fstat(fd, &st) == 0) log->size_ = static_cast<size_t>(st.st_size);
  log->writer_ = std::thread([l = log.get()] { l->Run(); });
  return log;
}

AuditLog::~AuditLog() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (writer_.joinable()) writer_.join();
  if (file_ != nullptr) std::fclose(file_);
}

void AuditLog::Record(const AuditRecord& r) {
  if (options_.level == "None") return;
  std::string line =
      EventFor(r, options_.level, NewAuditId()).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  line += '\n';
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (queue_.size() >= options_.queue_limit) {
      ++dropped_;
      return;
    }
    queue_.push_back(std::move(line));
  }
  cv_.notify_one();
}

uint64_t AuditLog::dropped() const {
  std::lock_guard<std::mutex> lock(mu_);
  return dropped_;
}

void AuditLog::Flush() {
  std::unique_lock<std::mutex> lock(mu_);
  // Not file_: the writer thread replaces it on rotation without the lock (ThreadSanitizer found the
  // read here racing with Rotate). Level None has no writer thread and nothing to wait for.
  idle_cv_.wait(lock, [&] { return options_.level == "None" || (queue_.empty() && !writing_); });
}

void AuditLog::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
    if (queue_.empty() && stop_) break;
    std::deque<std::string> batch;
    batch.swap(queue_);
    writing_ = true;
    lock.unlock();
    for (const auto& line : batch) Write(line);
    std::fflush(file_);
    lock.lock();
    writing_ = false;
    idle_cv_.notify_all();
  }
}

void AuditLog::Write(const std::string& line) {
  if (size_ + line.size() > options_.max_bytes && size_ > 0) Rotate();
  if (std::fwrite(line.data(), 1, line.size(), file_) == line.size()) size_ += line.size();
}

void AuditLog::Rotate() {
  std::fclose(file_);
  const std::string& p = options_.path;
  for (size_t i = options_.max_backups; i > 0; --i) {
    const std::string from = i == 1 ? p : p + "." + std::to_string(i - 1);
    std::rename(from.c_str(), (p + "." + std::to_string(i)).c_str());  // a missing one is fine
  }
  if (options_.max_backups == 0) ::unlink(p.c_str());
  const int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  file_ = fd >= 0 ? ::fdopen(fd, "a") : nullptr;
  size_ = 0;
  if (file_ == nullptr) {
    spdlog::error("audit log {} cannot be reopened after rotation: {}", p, std::strerror(errno));  // NOLINT
    file_ = std::fopen("/dev/null", "a");
  }
}

}  // namespace tmcd::security
