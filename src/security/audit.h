#pragma once
// The audit log (docs/security.md "Audit log"): one JSON line per request in the audit.k8s.io/v1
// Event format (kube-apiserver's log backend), so existing audit tooling reads it. Levels: None,
// Metadata (who, what, where, answer, timing), Request (plus the request body — never for Secrets).
// Lines are queued and written by one background thread; the queue is bounded (events beyond it are
// dropped and counted, so a slow disk never blocks the API). The file rotates by size: tmcd.log →
// .1 → .2 …, keeping `max_backups`. Thread-safe.

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "common/status.h"
#include "security/authn.h"
#include "security/rbac.h"

namespace tmcd::security {

struct AuditOptions {
  std::string path;
  std::string level = "Metadata";  // None, Metadata, Request
  size_t max_bytes = size_t{100} * 1024 * 1024;
  size_t max_backups = 5;
  size_t queue_limit = 10000;
};

// What the API server knows about one finished request.
struct AuditRecord {
  const UserInfo* user = nullptr;
  const Attributes* attrs = nullptr;
  std::string method;
  std::string uri;
  std::string source;  // remote address or "unix"
  std::string user_agent;
  int code = 0;
  bool allowed = false;
  std::string decision_reason;
  std::chrono::system_clock::time_point received;
  std::chrono::system_clock::time_point finished;
  const std::string* body = nullptr;  // the request body (Request level)
};

class AuditLog {
 public:
  static Result<std::unique_ptr<AuditLog>> Open(AuditOptions options);
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  void Record(const AuditRecord& r);
  uint64_t dropped() const;
  // Blocks until every queued line is written (tests, shutdown).
  void Flush();

  // The audit.k8s.io/v1 Event for a record at a level (exposed for tests).
  static nlohmann::json EventFor(const AuditRecord& r, const std::string& level, const std::string& audit_id);

 private:
  explicit AuditLog(AuditOptions options) : options_(std::move(options)) {}
  void Run();
  void Write(const std::string& line);  // writer thread only
  void Rotate();                        // writer thread only

  AuditOptions options_;
  std::FILE* file_ = nullptr;  // writer thread only after Open
  size_t size_ = 0;            // writer thread only
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable idle_cv_;
  std::deque<std::string> queue_;  // guarded by mu_
  bool writing_ = false;           // guarded by mu_
  bool stop_ = false;              // guarded by mu_
  uint64_t dropped_ = 0;           // guarded by mu_
  std::thread writer_;
};

}  // namespace tmcd::security
