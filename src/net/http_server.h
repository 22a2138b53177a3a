#pragma once
// tmcd's HTTP/1.1 server: one epoll I/O thread owns every connection (accept, request parsing,
// response writes, streamed bodies), and a fixed pool of handler threads runs the request handlers.
// A watch stream therefore costs a socket and a buffer, not a thread, and there is no descriptor
// ceiling below the process's open-file limit (cpp-httplib as packaged by Debian uses select() and
// a thread per connection; docs/performance.md has the measurement that retired it).
//
// Protocol: keep-alive and pipelining (answered in order), Content-Length and chunked request
// bodies, "Expect: 100-continue", chunked streamed responses. Limits: header and body size (431,
// 413), time to receive one request (408), idle keep-alive time, write progress, connection count.
//
// Threading: Start/Stop from the owner's thread. The handler runs on pool threads, concurrently; a
// StreamSource runs on the I/O thread. Stop waits for in-flight handlers, ends streams with their
// final chunk, flushes what it can within the grace period and closes every connection.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <iterator>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/status.h"
#include "net/http_message.h"
#include "net/tls.h"

namespace tmcd::net {

struct HttpServerOptions {
  bool tcp = true;  // listen on host:port
  std::string host = "127.0.0.1";
  int port = 0;  // 0 = let the OS choose
  // TCP connections speak TLS with this context when set (SetTls replaces it for new connections).
  std::shared_ptr<TlsContext> tls;
  // Also listen on this Unix domain socket ("" = none): created with `unix_mode`, group `unix_gid`
  // (-1 = the process's), a stale socket file replaced; its peers carry SO_PEERCRED credentials.
  std::string unix_path;
  uint32_t unix_mode = 0660;
  int64_t unix_gid = -1;
  size_t threads = 8;
  ParseLimits limits;
  std::chrono::milliseconds request_timeout{60000};  // to receive one request; to make write progress
  std::chrono::milliseconds idle_timeout{120000};    // a keep-alive connection without a request
  size_t max_connections = 20000;
  // Memory budgets over all connections (docs/reliability.md). Request bytes buffered while requests
  // arrive: past it, the connection that would grow the total is answered 503 and closed. Watch
  // output waiting for slow readers: past it, streams that made no write progress for
  // `stall_grace` are closed (oldest first) and the others wait for room.
  size_t max_buffered_request_bytes = size_t{256} << 20;
  size_t max_stream_bytes = size_t{256} << 20;
  std::chrono::milliseconds stall_grace{1000};
};

// What the server did so far, for /metrics (docs/metrics.md#http-server).
struct HttpServerStats {
  uint64_t open_connections = 0;
  uint64_t accepted_connections = 0;
  uint64_t accept_pauses = 0;  // accepting stopped at max_connections or on EMFILE/ENFILE
  uint64_t buffered_request_bytes = 0;
  uint64_t pending_stream_bytes = 0;
  // Requests the server answered itself (framing, 408, 413, 431, 501, 503, 505) by status code.
  std::vector<std::pair<int, uint64_t>> refused_by_status;
};

class HttpServer {
 public:
  using Handler = std::function<HttpResponse(const HttpRequest&)>;
  // Builds the response for a failure the server detects itself (bad framing, 408, 413, 431, 500).
  using ErrorResponder = std::function<HttpResponse(int status, const std::string& message)>;

  HttpServer(HttpServerOptions options, Handler handler, ErrorResponder errors);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds, listens and starts the I/O and handler threads; returns the bound TCP port (0 when
  // only the Unix socket listens).
  Result<int> Start();
  void Stop(std::chrono::milliseconds grace);
  // The TLS context for connections accepted from now on (certificate rotation).
  void SetTls(std::shared_ptr<TlsContext> tls);
  // What the memory budgets did so far (any thread).
  uint64_t evicted_streams() const { return evicted_streams_.load(std::memory_order_relaxed); }
  uint64_t refused_requests() const { return refused_requests_.load(std::memory_order_relaxed); }
  HttpServerStats Stats() const;

 private:
  struct Conn;
  using TimePoint = std::chrono::steady_clock::time_point;

  void Run();
  Status Listen();
  void Accept(size_t listener, TimePoint now);
  void PauseListening();
  void DrainInbox(TimePoint now);
  enum class Io { kOk, kAgain, kEof, kError };
  Io ReadSome(Conn& c, size_t& got);    // into read_buf_
  Io WriteSome(Conn& c, size_t& sent);  // from c.out at c.out_off
  void OnReadable(Conn& c, TimePoint now);
  void TryParse(Conn& c, TimePoint now);
  void Dispatch(Conn& c, HttpRequest req);
  void StartResponse(Conn& c, HttpResponse res, TimePoint now);
  void PullStream(Conn& c, TimePoint now);
  void Flush(Conn& c, TimePoint now);
  void Sweep(TimePoint now);
  void EnforceStreamBudget(TimePoint now);
  void Linger(Conn& c, TimePoint now);
  void BeginStop(TimePoint now);
  void SetEvents(Conn& c, uint32_t events);
  void DropInput(Conn& c, size_t n);  // the only way bytes leave c.in: keeps buffered_in_ exact
  void Refuse(Conn& c, int status, const std::string& why, TimePoint now);
  void CloseConn(uint64_t id);
  void Post(uint64_t id, HttpResponse res);
  void Wake(std::atomic<bool>& woken);
  void Signal();
  void WorkerLoop();

  HttpServerOptions options_;
  Handler handler_;
  ErrorResponder errors_;
  struct Listener {
    int fd = -1;
    bool unix_socket = false;
  };
  std::vector<Listener> listeners_;  // epoll ids 1..n
  int bound_port_ = 0;
  int epoll_fd_ = -1;
  int event_fd_ = -1;
  bool listening_paused_ = false;  // I/O thread only
  size_t buffered_in_ = 0;         // I/O thread only: Σ c.in.size()
  size_t stream_out_ = 0;          // I/O thread only: Σ pending output of streams (exact at each sweep)
  uint64_t next_id_ = 16;          // I/O thread only; 0 = eventfd, 1.. = listeners
  std::mutex tls_mu_;
  std::shared_ptr<TlsContext> tls_;                                    // guarded by tls_mu_
  std::unordered_map<uint64_t, std::unique_ptr<Conn>> conns_;          // I/O thread only
  std::vector<char> read_buf_ = std::vector<char>(size_t{64} * 1024);  // I/O thread only
  std::thread io_thread_;

  std::mutex inbox_mu_;
  std::vector<std::pair<uint64_t, HttpResponse>> responses_;  // guarded by inbox_mu_
  bool signaled_ = false;                                     // guarded by inbox_mu_

  std::mutex jobs_mu_;
  std::condition_variable jobs_cv_;
  std::deque<std::function<void()>> jobs_;  // guarded by jobs_mu_
  bool workers_stop_ = false;               // guarded by jobs_mu_
  std::vector<std::thread> workers_;

  std::atomic<uint64_t> evicted_streams_{0};
  std::atomic<uint64_t> refused_requests_{0};
  // Mirrors of I/O-thread state and counters for Stats() (any thread).
  std::atomic<uint64_t> open_conns_{0};
  std::atomic<uint64_t> accepted_conns_{0};
  std::atomic<uint64_t> accept_pauses_{0};
  std::atomic<uint64_t> buffered_in_seen_{0};
  std::atomic<uint64_t> stream_out_seen_{0};
  static constexpr int kRefusalCodes[] = {400, 408, 413, 431, 501, 503, 505};
  std::atomic<uint64_t> refusals_[std::size(kRefusalCodes) + 1] = {};  // the last one: other codes
  std::atomic<bool> streams_woken_{false};                             // some connection's `woken` flag is set
  std::atomic<bool> stopping_{false};
  std::atomic<int64_t> grace_ms_{0};
  bool started_ = false;
};

}  // namespace tmcd::net
