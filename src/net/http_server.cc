#include "net/http_server.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

namespace tmcd::net {
namespace {

using SteadyClock = std::chrono::steady_clock;
constexpr uint64_t kListenerId = 0;
constexpr uint64_t kEventId = 1;
constexpr size_t kReadChunk = size_t{64} * 1024;
constexpr size_t kStreamHighWater = size_t{256} * 1024;  // stop pulling a stream above this backlog
constexpr auto kSweepInterval = std::chrono::milliseconds(50);

std::string ErrnoText(int err) {
  return std::strerror(err);  // NOLINT(concurrency-mt-unsafe): messages only, glibc returns static text
}

void AppendChunk(std::string& out, std::string_view data) {
  static constexpr std::string_view kHex = "0123456789abcdef";
  std::string size;
  for (size_t n = data.size(); n > 0; n >>= 4) size.insert(size.begin(), kHex[n & 15]);
  out += size;
  out += "\r\n";
  out += data;
  out += "\r\n";
}

}  // namespace

struct HttpServer::Conn {
  enum class Phase { kReading, kHandling, kWriting, kStreaming };
  int fd = -1;
  uint64_t id = 0;
  Phase phase = Phase::kReading;
  std::string in;
  std::string out;
  size_t out_off = 0;
  bool keep_alive = true;
  bool sent_continue = false;
  bool request_started = false;
  TimePoint deadline;  // reading: request/idle deadline; writing: next write-progress deadline
  std::shared_ptr<StreamSource> stream;
  std::shared_ptr<std::atomic<bool>> woken;  // set by the stream's wake callback from any thread
  bool stream_ended = false;
  uint32_t events = 0;
  size_t Pending() const { return out.size() - out_off; }
};

HttpServer::HttpServer(HttpServerOptions options, Handler handler, ErrorResponder errors)
    : options_(std::move(options)), handler_(std::move(handler)), errors_(std::move(errors)) {}

HttpServer::~HttpServer() {
  Stop(std::chrono::milliseconds(0));
  for (int fd : {listen_fd_, epoll_fd_, event_fd_}) {
    if (fd >= 0) ::close(fd);  // only when Start failed half-way; Stop closes them otherwise
  }
}

Result<int> HttpServer::Start() {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(options_.port);
  const std::string where = options_.host + ":" + port;
  if (int rc = ::getaddrinfo(options_.host.c_str(), port.c_str(), &hints, &found); rc != 0) {
    return Status(Reason::kServiceUnavailable, "cannot resolve " + where + ": " + ::gai_strerror(rc));
  }
  std::string why = "no address";
  for (addrinfo* a = found; a != nullptr && listen_fd_ < 0; a = a->ai_next) {
    int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (::bind(fd, a->ai_addr, a->ai_addrlen) == 0 && ::listen(fd, SOMAXCONN) == 0) {
      listen_fd_ = fd;
    } else {
      why = ErrnoText(errno);
      ::close(fd);
    }
  }
  ::freeaddrinfo(found);
  if (listen_fd_ < 0) return Status(Reason::kServiceUnavailable, "cannot listen on " + where + ": " + why);
  sockaddr_storage bound{};
  socklen_t len = sizeof(bound);
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&bound), &len);  // NOLINT: sockets API
  const int bound_port = bound.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)
                                                     : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  event_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (epoll_fd_ < 0 || event_fd_ < 0) return Internal("cannot create epoll/eventfd: " + ErrnoText(errno));
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kListenerId;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, listen_fd_, &ev);
  ev.data.u64 = kEventId;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, event_fd_, &ev);
  for (size_t i = 0; i < std::max<size_t>(options_.threads, 1); ++i) workers_.emplace_back([this] { WorkerLoop(); });
  io_thread_ = std::thread([this] { Run(); });
  started_ = true;
  return bound_port;
}

void HttpServer::Stop(std::chrono::milliseconds grace) {
  if (!started_ || stopping_.exchange(true)) return;
  grace_ms_ = grace.count();
  Signal();
  if (io_thread_.joinable()) io_thread_.join();
  {
    std::lock_guard<std::mutex> lock(jobs_mu_);
    workers_stop_ = true;
  }
  jobs_cv_.notify_all();
  for (auto& t : workers_) t.join();
  std::vector<uint64_t> ids;
  for (const auto& [id, c] : conns_) ids.push_back(id);
  for (uint64_t id : ids) CloseConn(id);
  for (auto& [id, res] : responses_) {
    if (res.stream) res.stream->Close();
  }
  for (int* fd : {&listen_fd_, &epoll_fd_, &event_fd_}) {
    if (*fd >= 0) ::close(*fd);
    *fd = -1;
  }
}

void HttpServer::Run() {
  std::array<epoll_event, 256> events{};
  TimePoint next_sweep = SteadyClock::now();
  TimePoint stop_deadline = TimePoint::max();
  while (true) {
    const int n = ::epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()),
                               static_cast<int>(kSweepInterval.count()));
    const TimePoint now = SteadyClock::now();
    for (int i = 0; i < n; ++i) {
      const uint64_t id = events[static_cast<size_t>(i)].data.u64;
      const uint32_t what = events[static_cast<size_t>(i)].events;
      if (id == kListenerId) {
        Accept(now);
      } else if (id == kEventId) {
        DrainInbox(now);
      } else if (auto it = conns_.find(id); it != conns_.end()) {
        Conn& c = *it->second;
        if ((what & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0) OnReadable(c, now);
        if ((what & EPOLLOUT) != 0 && conns_.count(id) != 0) Flush(c, now);
      }
    }
    if (now >= next_sweep) {
      Sweep(now);
      next_sweep = now + kSweepInterval;
    }
    if (stopping_.load()) {
      if (stop_deadline == TimePoint::max()) {
        stop_deadline = now + std::chrono::milliseconds(grace_ms_.load());
        BeginStop(now);
      }
      DrainInbox(now);
      if (conns_.empty() || now >= stop_deadline) return;
    }
  }
}

void HttpServer::Accept(TimePoint now) {
  while (true) {
    if (conns_.size() >= options_.max_connections) {
      listening_paused_ = true;  // resumed by Sweep once connections drop
      ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, listen_fd_, nullptr);
      return;
    }
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EMFILE || errno == ENFILE) {
        listening_paused_ = true;
        ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, listen_fd_, nullptr);
      }
      return;  // EAGAIN and per-connection errors (ECONNABORTED) end this round
    }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    auto c = std::make_unique<Conn>();
    c->fd = fd;
    c->id = next_id_++;
    c->deadline = now + options_.idle_timeout;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = c->id;
    c->events = EPOLLIN;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
    conns_.emplace(c->id, std::move(c));
  }
}

void HttpServer::Signal() {
  const uint64_t one = 1;
  (void)!::write(event_fd_, &one, sizeof(one));
}

void HttpServer::Post(uint64_t id, HttpResponse res) {
  std::lock_guard<std::mutex> lock(inbox_mu_);
  responses_.emplace_back(id, std::move(res));
  if (!signaled_) signaled_ = true, Signal();
}

void HttpServer::Wake(std::atomic<bool>& woken) {
  // Lock-free: one commit wakes every watch at once, and a mutex here would make the committing
  // thread and the I/O thread trade it a thousand times per event.
  if (!woken.exchange(true) && !streams_woken_.exchange(true)) Signal();
}

void HttpServer::DrainInbox(TimePoint now) {
  uint64_t count = 0;
  (void)!::read(event_fd_, &count, sizeof(count));  // first: a signal sent after this read is not lost
  std::vector<std::pair<uint64_t, HttpResponse>> responses;
  std::vector<uint64_t> woken;
  if (streams_woken_.exchange(false)) {
    for (const auto& [id, c] : conns_) {
      if (c->woken && c->woken->exchange(false)) woken.push_back(id);
    }
  }
  {
    std::lock_guard<std::mutex> lock(inbox_mu_);
    responses.swap(responses_);
    signaled_ = false;
  }
  for (auto& [id, res] : responses) {
    auto it = conns_.find(id);
    if (it == conns_.end() || it->second->phase != Conn::Phase::kHandling) {
      if (res.stream) res.stream->Close();  // the client left while the handler ran
      continue;
    }
    StartResponse(*it->second, std::move(res), now);
  }
  for (uint64_t id : woken) {
    auto it = conns_.find(id);
    if (it == conns_.end() || it->second->phase != Conn::Phase::kStreaming) continue;
    PullStream(*it->second, now);
    Flush(*it->second, now);
  }
}

void HttpServer::OnReadable(Conn& c, TimePoint now) {
  const uint64_t id = c.id;
  const size_t cap = options_.limits.max_header_bytes + options_.limits.max_body_bytes + kReadChunk;
  // Read through one scratch buffer: growing each connection's buffer by a full read chunk would
  // cost 64 KiB of memory per idle keep-alive or watch connection.
  while (c.in.size() < cap) {
    const ssize_t got = ::read(c.fd, read_buf_.data(), read_buf_.size());
    if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR)) return CloseConn(id);  // peer gone
    if (got < 0) break;
    c.in.append(read_buf_.data(), static_cast<size_t>(got));
  }
  if (c.phase == Conn::Phase::kStreaming) c.in.clear();  // nothing is expected on a watch stream
  if (c.phase == Conn::Phase::kReading) TryParse(c, now);
}

void HttpServer::TryParse(Conn& c, TimePoint now) {
  if (c.in.empty()) return;
  if (!c.request_started) {
    c.request_started = true;
    c.deadline = now + options_.request_timeout;
  }
  HttpRequest req;
  ParseResult r = ParseRequest(c.in, options_.limits, req);
  if (r.state == ParseResult::State::kError) {
    c.keep_alive = false;
    c.in.clear();
    c.phase = Conn::Phase::kHandling;
    return StartResponse(c, errors_(r.error_status, r.error), now);
  }
  if (r.state == ParseResult::State::kNeedMore) {
    if (r.headers_complete && r.expect_continue && !c.sent_continue) {
      c.sent_continue = true;
      c.out += "HTTP/1.1 100 Continue\r\n\r\n";
      Flush(c, now);
    }
    return;
  }
  c.in.erase(0, r.consumed);
  c.keep_alive = req.KeepAlive() && !stopping_.load();
  Dispatch(c, std::move(req));
}

void HttpServer::Dispatch(Conn& c, HttpRequest req) {
  c.phase = Conn::Phase::kHandling;
  c.sent_continue = false;
  SetEvents(c, 0);  // no reads while the handler runs; pipelined bytes wait in the kernel
  {
    std::lock_guard<std::mutex> lock(jobs_mu_);
    jobs_.emplace_back([this, id = c.id, r = std::move(req)] {
      HttpResponse res;
      try {
        res = handler_(r);
      } catch (const std::exception& e) {
        res = errors_(500, std::string("internal error: ") + e.what());
      }
      Post(id, std::move(res));
    });
  }
  jobs_cv_.notify_one();
}

void HttpServer::StartResponse(Conn& c, HttpResponse res, TimePoint now) {
  c.out += SerializeHead(res, c.keep_alive);
  c.deadline = now + options_.request_timeout;
  if (res.stream && stopping_.load()) {
    res.stream->Close();  // a watch that starts while the server stops ends at once
    c.out += "0\r\n\r\n";
    c.phase = Conn::Phase::kWriting;
  } else if (res.stream) {
    c.phase = Conn::Phase::kStreaming;
    c.stream = std::move(res.stream);
    c.stream_ended = false;
    c.woken = std::make_shared<std::atomic<bool>>(false);
    c.stream->Attach([this, woken = c.woken] { Wake(*woken); });
    PullStream(c, now);
  } else {
    c.out += res.body;
    c.phase = Conn::Phase::kWriting;
  }
  Flush(c, now);
}

void HttpServer::PullStream(Conn& c, TimePoint now) {
  std::string data;
  while (!c.stream_ended && c.Pending() < kStreamHighWater) {
    data.clear();
    const bool more = c.stream->Pull(data, kStreamHighWater, now);
    if (!data.empty()) AppendChunk(c.out, data);
    if (!more) {
      c.stream_ended = true;
      c.out += "0\r\n\r\n";
      c.stream->Close();
      c.stream.reset();
    } else if (data.empty()) {
      break;
    }
  }
}

void HttpServer::Flush(Conn& c, TimePoint now) {
  const uint64_t id = c.id;
  while (c.Pending() > 0) {
    const ssize_t n = ::send(c.fd, c.out.data() + c.out_off, c.Pending(), MSG_NOSIGNAL);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) break;
    if (n <= 0) return CloseConn(id);
    c.out_off += static_cast<size_t>(n);
    c.deadline = now + options_.request_timeout;
  }
  const uint32_t in = EPOLLIN;
  if (c.Pending() > 0) return SetEvents(c, EPOLLOUT | (c.phase == Conn::Phase::kStreaming ? in : 0U));
  c.out.clear();
  c.out_off = 0;
  if (c.out.capacity() > kReadChunk) c.out.shrink_to_fit();  // a large list or initial watch burst
  const bool finished = c.phase == Conn::Phase::kWriting || (c.phase == Conn::Phase::kStreaming && c.stream_ended);
  if (!finished) return SetEvents(c, c.phase == Conn::Phase::kHandling ? 0U : in);
  if (!c.keep_alive) return CloseConn(id);
  c.phase = Conn::Phase::kReading;
  c.request_started = false;
  c.deadline = now + options_.idle_timeout;
  SetEvents(c, EPOLLIN);
  TryParse(c, now);  // a pipelined request may be buffered already
}

void HttpServer::Sweep(TimePoint now) {
  if (listening_paused_ && !stopping_.load() && conns_.size() < options_.max_connections) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = kListenerId;
    if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, listen_fd_, &ev) == 0) listening_paused_ = false;
  }
  std::vector<uint64_t> expired;
  std::vector<uint64_t> timed_out_requests;
  std::vector<uint64_t> stream_timers;
  for (const auto& [id, c] : conns_) {
    if (c->Pending() > 0 || c->phase == Conn::Phase::kWriting) {
      if (now >= c->deadline) expired.push_back(id);  // the client stopped reading
    } else if (c->phase == Conn::Phase::kReading && now >= c->deadline) {
      (c->request_started ? timed_out_requests : expired).push_back(id);
    } else if (c->phase == Conn::Phase::kStreaming && c->stream && c->stream->NextTimer() <= now) {
      stream_timers.push_back(id);
    }
  }
  for (uint64_t id : expired) CloseConn(id);
  for (uint64_t id : timed_out_requests) {
    Conn& c = *conns_.at(id);
    c.keep_alive = false;
    c.in.clear();
    c.phase = Conn::Phase::kHandling;
    StartResponse(c, errors_(408, "the request was not received in time"), now);
  }
  for (uint64_t id : stream_timers) {
    if (auto it = conns_.find(id); it != conns_.end()) {
      PullStream(*it->second, now);
      Flush(*it->second, now);
    }
  }
}

void HttpServer::BeginStop(TimePoint now) {
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, listen_fd_, nullptr);
  ::close(listen_fd_);
  listen_fd_ = -1;
  std::vector<uint64_t> ids;
  for (const auto& [id, c] : conns_) ids.push_back(id);
  for (uint64_t id : ids) {  // Flush and CloseConn erase from conns_: no iteration over it here
    Conn& c = *conns_.at(id);
    c.keep_alive = false;
    if (c.phase == Conn::Phase::kReading && c.in.empty()) {
      CloseConn(id);
    } else if (c.phase == Conn::Phase::kStreaming && !c.stream_ended) {
      c.stream_ended = true;  // watches end with their terminating chunk; clients re-watch elsewhere
      c.out += "0\r\n\r\n";
      c.stream->Close();
      c.stream.reset();
      Flush(c, now);
    }
  }
}

void HttpServer::SetEvents(Conn& c, uint32_t events) {
  if (c.events == events) return;
  c.events = events;
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = c.id;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, c.fd, &ev);
}

void HttpServer::CloseConn(uint64_t id) {
  auto it = conns_.find(id);
  if (it == conns_.end()) return;
  Conn& c = *it->second;
  if (c.stream) c.stream->Close();
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, c.fd, nullptr);
  ::close(c.fd);
  conns_.erase(it);
}

void HttpServer::WorkerLoop() {
  while (true) {
    std::function<void()> job;
    {
      std::unique_lock<std::mutex> lock(jobs_mu_);
      jobs_cv_.wait(lock, [&] { return workers_stop_ || !jobs_.empty(); });
      if (jobs_.empty()) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    job();
  }
}

}  // namespace tmcd::net
