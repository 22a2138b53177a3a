#include "net/http_server.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <csignal>
#include <cstring>

#include "net/listener.h"

namespace tmcd::net {
namespace {

using SteadyClock = std::chrono::steady_clock;
constexpr uint64_t kEventId = 0;
constexpr uint64_t kFirstListenerId = 1;  // listeners are 1..n; connections start at 16
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
  // kLingering: the answer is out and our side is shut; unread input is drained, then closed.
  enum class Phase { kReading, kHandling, kWriting, kStreaming, kLingering };
  int fd = -1;
  uint64_t id = 0;
  Phase phase = Phase::kReading;
  std::string in;
  std::string out;
  size_t out_off = 0;
  bool keep_alive = true;
  bool sent_continue = false;
  bool request_started = false;
  bool peer_closed = false;  // the client shut its side after sending (half-close)
  bool starved = false;      // a stream not pulled for lack of room in the stream budget
  TimePoint drained;         // when the output was last empty or last made progress
  TimePoint deadline;        // reading: request/idle deadline; writing: next write-progress deadline
  std::shared_ptr<StreamSource> stream;
  std::shared_ptr<std::atomic<bool>> woken;  // set by the stream's wake callback from any thread
  bool stream_ended = false;
  uint32_t events = 0;
  std::unique_ptr<TlsConn> tls;    // null: plain TCP or Unix socket
  std::shared_ptr<PeerInfo> peer;  // filled at accept; TLS fields once the handshake is done
  bool peer_complete = false;
  size_t Pending() const { return out.size() - out_off; }
};

HttpServer::HttpServer(HttpServerOptions options, Handler handler, ErrorResponder errors)
    : options_(std::move(options)), handler_(std::move(handler)), errors_(std::move(errors)) {}

HttpServer::~HttpServer() {
  Stop(std::chrono::milliseconds(0));
  for (int fd : {epoll_fd_, event_fd_}) {
    if (fd >= 0) ::close(fd);  // only when Start failed half-way; Stop closes them otherwise
  }
  for (const Listener& l : listeners_) {
    if (l.fd >= 0) ::close(l.fd);
  }
}

Status HttpServer::Listen() {
  if (options_.tcp) {
    auto fd = ListenTcp(options_.host, options_.port, bound_port_);
    if (!fd.ok()) return fd.status();
    listeners_.push_back({*fd, false});
  }
  if (!options_.unix_path.empty()) {
    auto fd = ListenUnix(options_.unix_path, options_.unix_mode, options_.unix_gid);
    if (!fd.ok()) return fd.status();
    listeners_.push_back({*fd, true});
  }
  if (listeners_.empty()) return Invalid("nothing to listen on: no TCP address and no Unix socket");
  return Status::Ok();
}

Result<int> HttpServer::Start() {
  // OpenSSL writes records (and close_notify) with write(2): a client that went away would kill the
  // process with SIGPIPE. Plain sockets use MSG_NOSIGNAL; TLS needs the signal ignored.
  static std::once_flag ignore_sigpipe;
  std::call_once(ignore_sigpipe, [] { std::signal(SIGPIPE, SIG_IGN); });  // NOLINT(cert-err33-c)
  SetTls(options_.tls);
  TMCD_TRY(Listen());
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  event_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (epoll_fd_ < 0 || event_fd_ < 0) return Internal("cannot create epoll/eventfd: " + ErrnoText(errno));
  epoll_event ev{};
  ev.events = EPOLLIN;
  for (size_t i = 0; i < listeners_.size(); ++i) {
    ev.data.u64 = kFirstListenerId + i;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, listeners_[i].fd, &ev);
  }
  ev.data.u64 = kEventId;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, event_fd_, &ev);
  for (size_t i = 0; i < std::max<size_t>(options_.threads, 1); ++i) workers_.emplace_back([this] { WorkerLoop(); });
  io_thread_ = std::thread([this] { Run(); });
  started_ = true;
  return bound_port_;
}

void HttpServer::SetTls(std::shared_ptr<TlsContext> tls) {
  std::lock_guard<std::mutex> lock(tls_mu_);
  tls_ = std::move(tls);
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
  for (int* fd : {&epoll_fd_, &event_fd_}) {
    if (*fd >= 0) ::close(*fd);
    *fd = -1;
  }
  for (Listener& l : listeners_) {
    if (l.fd >= 0) ::close(l.fd);
    l.fd = -1;
  }
  if (!options_.unix_path.empty()) ::unlink(options_.unix_path.c_str());
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
      if (id == kEventId) {
        DrainInbox(now);
      } else if (id >= kFirstListenerId && id < kFirstListenerId + listeners_.size()) {
        Accept(id - kFirstListenerId, now);
      } else if (auto it = conns_.find(id); it != conns_.end()) {
        Conn& c = *it->second;
        // TLS: a handshake flight that did not fit the socket continues when it is writable.
        const bool tls_read_on_write = c.tls && c.tls->wants_write() && c.Pending() == 0;
        if ((what & EPOLLOUT) != 0 && tls_read_on_write) {
          OnReadable(c, now);
          continue;
        }
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

void HttpServer::PauseListening() {
  listening_paused_ = true;  // resumed by Sweep once connections drop
  accept_pauses_.fetch_add(1, std::memory_order_relaxed);
  for (const Listener& l : listeners_) ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, l.fd, nullptr);
}

void HttpServer::Accept(size_t listener, TimePoint now) {
  const Listener& l = listeners_[listener];
  std::shared_ptr<TlsContext> tls;
  if (!l.unix_socket) {
    std::lock_guard<std::mutex> lock(tls_mu_);
    tls = tls_;
  }
  while (true) {
    if (conns_.size() >= options_.max_connections) return PauseListening();
    const int fd = ::accept4(l.fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EMFILE || errno == ENFILE) PauseListening();
      return;  // EAGAIN and per-connection errors (ECONNABORTED) end this round
    }
    if (!l.unix_socket) {
      int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
    auto c = std::make_unique<Conn>();
    c->fd = fd;
    c->id = next_id_++;
    c->deadline = now + options_.idle_timeout;
    c->peer = DescribePeer(fd, l.unix_socket);
    if (tls) {
      c->tls = std::make_unique<TlsConn>(*tls, fd);
      if (!c->tls->valid()) {
        ::close(fd);
        continue;
      }
    } else {
      c->peer_complete = true;
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = c->id;
    c->events = EPOLLIN;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
    conns_.emplace(c->id, std::move(c));
    accepted_conns_.fetch_add(1, std::memory_order_relaxed);
    open_conns_.store(conns_.size(), std::memory_order_relaxed);
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
  if (c.phase == Conn::Phase::kLingering) {
    while (true) {  // discard, on the raw socket, until the client closes (or the linger time ends)
      const ssize_t got = ::read(c.fd, read_buf_.data(), read_buf_.size());
      if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR)) return CloseConn(id);
      if (got < 0) return;
    }
  }
  const size_t cap = options_.limits.max_header_bytes + options_.limits.max_body_bytes + kReadChunk;
  // Read through one scratch buffer: growing each connection's buffer by a full read chunk would
  // cost 64 KiB of memory per idle keep-alive or watch connection.
  bool eof = false;
  while (c.in.size() < cap) {
    size_t got = 0;
    const Io io = ReadSome(c, got);
    if (io == Io::kError) return CloseConn(id);  // peer gone, or a failed handshake
    // A client may half-close after its last request (`printf ... | nc -N`): that request is still
    // answered; only a connection with nothing complete to answer is closed at once.
    if (io == Io::kEof) {
      if (c.phase != Conn::Phase::kReading || c.in.empty()) return CloseConn(id);
      eof = true;
      break;
    }
    if (io == Io::kAgain) break;
    if (buffered_in_ + got > options_.max_buffered_request_bytes && c.phase == Conn::Phase::kReading) {
      refused_requests_.fetch_add(1, std::memory_order_relaxed);
      // Every connection's half-sent body counts: 200 clients each holding 3 MB must not cost 600 MB.
      return Refuse(c, 503, "the server is buffering too many request bytes; retry later", now);
    }
    buffered_in_ += got;
    buffered_in_seen_.store(buffered_in_, std::memory_order_relaxed);
    c.in.append(read_buf_.data(), got);
  }
  if (c.tls) {
    if (!c.peer_complete && c.tls->handshake_done()) {
      c.tls->FillPeer(*c.peer);
      c.peer_complete = true;
    }
    if (c.phase == Conn::Phase::kReading && c.Pending() == 0) {
      SetEvents(c, EPOLLIN | (c.tls->wants_write() ? static_cast<uint32_t>(EPOLLOUT) : 0U));
    }
  }
  if (c.phase == Conn::Phase::kStreaming) DropInput(c, c.in.size());  // nothing is expected on a watch stream
  if (c.phase != Conn::Phase::kReading) return;
  if (eof) c.peer_closed = true;
  TryParse(c, now);
  if (!conns_.count(id) || c.phase != Conn::Phase::kReading) return;
  if (eof) return CloseConn(id);  // an incomplete request and nothing more will come
  // A full buffer that still does not hold a request would leave the socket readable forever
  // (level-triggered epoll) and spin this thread: refuse it instead.
  if (c.in.size() >= cap) Refuse(c, 413, "request too large", now);
}

HttpServer::Io HttpServer::ReadSome(Conn& c, size_t& got) {
  if (c.tls) {
    switch (c.tls->Read(read_buf_.data(), read_buf_.size(), got)) {
      case TlsConn::Io::kOk:
        return Io::kOk;
      case TlsConn::Io::kAgain:
        return Io::kAgain;
      case TlsConn::Io::kEof:
        return Io::kEof;
      case TlsConn::Io::kError:
        return Io::kError;
    }
  }
  const ssize_t n = ::read(c.fd, read_buf_.data(), read_buf_.size());
  if (n > 0) got = static_cast<size_t>(n);
  return n > 0 ? Io::kOk : n == 0 ? Io::kEof : (errno == EAGAIN || errno == EINTR) ? Io::kAgain : Io::kError;
}

HttpServer::Io HttpServer::WriteSome(Conn& c, size_t& sent) {
  if (c.tls) {
    switch (c.tls->Write(c.out.data() + c.out_off, c.Pending(), sent)) {
      case TlsConn::Io::kOk:
        return Io::kOk;
      case TlsConn::Io::kAgain:
        return Io::kAgain;
      case TlsConn::Io::kEof:
      case TlsConn::Io::kError:
        return Io::kError;
    }
  }
  const ssize_t n = ::send(c.fd, c.out.data() + c.out_off, c.Pending(), MSG_NOSIGNAL);
  if (n > 0) sent = static_cast<size_t>(n);
  return n > 0 ? Io::kOk : (n < 0 && (errno == EAGAIN || errno == EINTR)) ? Io::kAgain : Io::kError;
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
    return Refuse(c, r.error_status, r.error, now);
  }
  if (r.state == ParseResult::State::kNeedMore) {
    if (r.headers_complete && r.expect_continue && !c.sent_continue) {
      c.sent_continue = true;
      c.out += "HTTP/1.1 100 Continue\r\n\r\n";
      Flush(c, now);
    }
    return;
  }
  DropInput(c, r.consumed);
  c.keep_alive = req.KeepAlive() && !stopping_.load();
  Dispatch(c, std::move(req));
}

void HttpServer::Dispatch(Conn& c, HttpRequest req) {
  req.peer = c.peer;
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
    c.drained = now;
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
  // Drop what the socket took before appending more: a reader that stops reading while its kernel
  // buffer still takes megabytes (TCP) would otherwise keep every byte sent since the stream last
  // drained, memory the budget (which counts pending bytes) never sees.
  if (c.out_off >= kReadChunk) {
    c.out.erase(0, c.out_off);
    c.out_off = 0;
  }
  std::string data;
  while (!c.stream_ended && c.Pending() < kStreamHighWater) {
    if (stream_out_ >= options_.max_stream_bytes) {
      c.starved = true;  // pulled again by Sweep once there is room; the events wait in the watcher
      break;
    }
    data.clear();
    const bool more = c.stream->Pull(data, kStreamHighWater, now);
    if (!data.empty()) AppendChunk(c.out, data);
    stream_out_ += data.size();  // an over-estimate until the next sweep recounts
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
    size_t n = 0;
    const Io io = WriteSome(c, n);
    if (io == Io::kAgain) break;
    if (io != Io::kOk) return CloseConn(id);
    c.out_off += n;
    c.deadline = now + options_.request_timeout;
    c.drained = now;
  }
  if (c.Pending() == 0) c.drained = now;
  const uint32_t in = EPOLLIN;
  const bool tls_wants_read = c.tls && c.tls->wants_read();
  if (c.Pending() > 0) {
    return SetEvents(c, EPOLLOUT | (c.phase == Conn::Phase::kStreaming || tls_wants_read ? in : 0U));
  }
  c.out.clear();
  c.out_off = 0;
  if (c.out.capacity() > kReadChunk) c.out.shrink_to_fit();  // a large list or initial watch burst
  const bool finished = c.phase == Conn::Phase::kWriting || (c.phase == Conn::Phase::kStreaming && c.stream_ended);
  if (!finished) return SetEvents(c, c.phase == Conn::Phase::kHandling ? 0U : in);
  if (!c.keep_alive) return Linger(c, now);
  c.phase = Conn::Phase::kReading;
  c.request_started = false;
  c.deadline = now + options_.idle_timeout;
  SetEvents(c, EPOLLIN);
  TryParse(c, now);  // a pipelined request may be buffered already
  // A half-closed client is done once its buffered requests are answered.
  if (conns_.count(id) != 0 && c.peer_closed && c.phase == Conn::Phase::kReading) CloseConn(id);
}

void HttpServer::Sweep(TimePoint now) {
  if (listening_paused_ && !stopping_.load() && conns_.size() < options_.max_connections) {
    listening_paused_ = false;
    for (size_t i = 0; i < listeners_.size(); ++i) {
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.u64 = kFirstListenerId + i;
      if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, listeners_[i].fd, &ev) != 0) listening_paused_ = true;
    }
  }
  EnforceStreamBudget(now);
  std::vector<uint64_t> expired;
  std::vector<uint64_t> timed_out_requests;
  std::vector<uint64_t> stream_timers;
  for (const auto& [id, c] : conns_) {
    if (c->Pending() > 0 || c->phase == Conn::Phase::kWriting || c->phase == Conn::Phase::kLingering) {
      if (now >= c->deadline) expired.push_back(id);  // the client stopped reading, or lingered long enough
    } else if (c->phase == Conn::Phase::kReading && now >= c->deadline) {
      (c->request_started ? timed_out_requests : expired).push_back(id);
    } else if (c->phase == Conn::Phase::kStreaming && c->stream &&
               (c->stream->NextTimer() <= now || (c->starved && stream_out_ < options_.max_stream_bytes))) {
      c->starved = false;
      stream_timers.push_back(id);
    }
  }
  for (uint64_t id : expired) CloseConn(id);
  for (uint64_t id : timed_out_requests) {
    Refuse(*conns_.at(id), 408, "the request was not received in time", now);
  }
  for (uint64_t id : stream_timers) {
    if (auto it = conns_.find(id); it != conns_.end()) {
      PullStream(*it->second, now);
      Flush(*it->second, now);
    }
  }
}

void HttpServer::EnforceStreamBudget(TimePoint now) {
  // Recount exactly, then, over budget, close the streams whose readers stopped reading longest ago:
  // their output cannot drain, and holding it would starve every healthy watch (docs/reliability.md).
  stream_out_ = 0;
  std::vector<std::pair<TimePoint, uint64_t>> stalled;
  for (const auto& [id, c] : conns_) {
    if (c->phase != Conn::Phase::kStreaming) continue;
    stream_out_ += c->Pending();
    if (c->Pending() > 0 && now - c->drained >= options_.stall_grace) stalled.emplace_back(c->drained, id);
  }
  stream_out_seen_.store(stream_out_, std::memory_order_relaxed);
  if (stream_out_ <= options_.max_stream_bytes) return;
  std::sort(stalled.begin(), stalled.end());
  for (const auto& [since, id] : stalled) {
    if (stream_out_ <= options_.max_stream_bytes) break;
    stream_out_ -= std::min(stream_out_, conns_.at(id)->Pending());
    evicted_streams_.fetch_add(1, std::memory_order_relaxed);
    CloseConn(id);
  }
  stream_out_seen_.store(stream_out_, std::memory_order_relaxed);
}

void HttpServer::BeginStop(TimePoint now) {
  for (Listener& l : listeners_) {
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, l.fd, nullptr);
    ::close(l.fd);
    l.fd = -1;
  }
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

void HttpServer::Linger(Conn& c, TimePoint now) {
  // Closing a socket with unread input makes the kernel send RST, which can destroy the answer
  // before the client reads it (a 413 while the client is still sending its body, a TLS client's
  // last records). Shut our side instead, drain what still comes, and close on EOF or after 2 s.
  c.tls.reset();  // close_notify first
  ::shutdown(c.fd, SHUT_WR);
  DropInput(c, c.in.size());
  c.in.shrink_to_fit();
  c.phase = Conn::Phase::kLingering;
  c.deadline = now + std::chrono::seconds(2);
  SetEvents(c, EPOLLIN);
}

void HttpServer::DropInput(Conn& c, size_t n) {
  n = std::min(n, c.in.size());
  buffered_in_ -= std::min(buffered_in_, n);
  buffered_in_seen_.store(buffered_in_, std::memory_order_relaxed);
  c.in.erase(0, n);
}

void HttpServer::Refuse(Conn& c, int status, const std::string& why, TimePoint now) {
  size_t i = 0;
  while (i < std::size(kRefusalCodes) && kRefusalCodes[i] != status) ++i;
  refusals_[i].fetch_add(1, std::memory_order_relaxed);
  c.keep_alive = false;
  DropInput(c, c.in.size());
  c.phase = Conn::Phase::kHandling;
  StartResponse(c, errors_(status, why), now);
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
  DropInput(c, c.in.size());
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, c.fd, nullptr);
  c.tls.reset();  // close_notify before the socket goes
  ::close(c.fd);
  conns_.erase(it);
  open_conns_.store(conns_.size(), std::memory_order_relaxed);
}

HttpServerStats HttpServer::Stats() const {
  HttpServerStats st;
  st.open_connections = open_conns_.load(std::memory_order_relaxed);
  st.accepted_connections = accepted_conns_.load(std::memory_order_relaxed);
  st.accept_pauses = accept_pauses_.load(std::memory_order_relaxed);
  st.buffered_request_bytes = buffered_in_seen_.load(std::memory_order_relaxed);
  st.pending_stream_bytes = stream_out_seen_.load(std::memory_order_relaxed);
  for (size_t i = 0; i <= std::size(kRefusalCodes); ++i) {
    const int code = i < std::size(kRefusalCodes) ? kRefusalCodes[i] : 0;
    st.refused_by_status.emplace_back(code, refusals_[i].load(std::memory_order_relaxed));
  }
  return st;
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
