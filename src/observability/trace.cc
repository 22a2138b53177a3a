#include "observability/trace.h"

#include <httplib.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "common/strings.h"
#include "observability/collector.h"

namespace tmcd::observability {

namespace {

thread_local SpanContext t_current;  // NOLINT(cppcoreguidelines-avoid-non-const-global-variables): per thread

template <size_t N>
std::string Hex(const std::array<uint8_t, N>& b) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s(2 * N, '0');
  for (size_t i = 0; i < N; ++i) {
    s[2 * i] = kDigits[b[i] >> 4];
    s[2 * i + 1] = kDigits[b[i] & 0xf];
  }
  return s;
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;  // W3C trace context: lowercase only
}

template <size_t N>
bool ParseHex(std::string_view s, std::array<uint8_t, N>& out) {
  if (s.size() != 2 * N) return false;
  bool nonzero = false;
  for (size_t i = 0; i < N; ++i) {
    const int hi = HexDigit(s[2 * i]);
    const int lo = HexDigit(s[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<uint8_t>(hi << 4 | lo);
    nonzero = nonzero || out[i] != 0;
  }
  return nonzero;
}

template <size_t N>
std::array<uint8_t, N> RandomId() {
  thread_local std::mt19937_64 rng{std::random_device{}() ^
                                   (std::hash<std::thread::id>{}(std::this_thread::get_id()) << 1)};
  std::array<uint8_t, N> id{};
  while (std::all_of(id.begin(), id.end(), [](uint8_t b) { return b == 0; })) {
    for (size_t i = 0; i < N; i += 8) {
      const uint64_t r = rng();
      for (size_t j = 0; j < 8 && i + j < N; ++j) id[i + j] = static_cast<uint8_t>(r >> (8 * j));
    }
  }
  return id;
}

// Monotonic over tracer restarts (they are counters).
std::atomic<uint64_t> g_started{0};   // NOLINT(cppcoreguidelines-avoid-non-const-global-variables)
std::atomic<uint64_t> g_exported{0};  // NOLINT(cppcoreguidelines-avoid-non-const-global-variables)
std::atomic<uint64_t> g_dropped{0};   // NOLINT(cppcoreguidelines-avoid-non-const-global-variables)
std::atomic<uint64_t> g_failed{0};    // NOLINT(cppcoreguidelines-avoid-non-const-global-variables)

int64_t NowUnixNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

// The process-wide tracer: sampling, the bounded queue and the export thread.
class Tracer {
 public:
  explicit Tracer(TracingOptions o) : options_(std::move(o)) {
    const double r = std::clamp(options_.sampling_ratio, 0.0, 1.0);
    always_ = r >= 1.0;
    // r × 2^64, below 2^64 for r < 1 (2^64 itself does not fit: the ratio 1 never compares).
    threshold_ = always_ ? 0 : static_cast<uint64_t>(std::ldexp(r, 64));
  }
  ~Tracer() { Stop(); }
  Tracer(const Tracer&) = delete;
  Tracer& operator=(const Tracer&) = delete;

  Status Start();
  void Stop();
  bool exporting() const { return !options_.endpoint.empty(); }
  // TraceIdRatioBased: the trace id's last 8 bytes against ratio × 2^64.
  bool Sample(const std::array<uint8_t, 16>& trace_id) const {
    if (always_) return true;
    uint64_t v = 0;
    for (size_t i = 8; i < 16; ++i) v = v << 8 | trace_id[i];
    return v < threshold_;
  }
  void Enqueue(SpanData&& span);
  TracerStats Stats() const;

 private:
  void Run();
  void Export(std::vector<SpanData>& batch);

  const TracingOptions options_;
  bool always_ = true;
  uint64_t threshold_ = 0;
  std::string base_, path_;                  // the endpoint split for the HTTP client
  std::unique_ptr<httplib::Client> client_;  // the export thread's
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<SpanData> queue_;  // guarded by mu_
  bool stop_ = false;           // guarded by mu_
  std::thread thread_;
};

namespace {

std::mutex g_mu;                     // NOLINT(cppcoreguidelines-avoid-non-const-global-variables): the tracer
std::shared_ptr<Tracer> g_tracer;    // NOLINT(cppcoreguidelines-avoid-non-const-global-variables): guarded by g_mu
std::atomic<bool> g_enabled{false};  // NOLINT(cppcoreguidelines-avoid-non-const-global-variables): fast path

std::shared_ptr<Tracer> Active() {
  if (!g_enabled.load(std::memory_order_acquire)) return nullptr;
  std::lock_guard<std::mutex> lock(g_mu);
  return g_tracer;
}

}  // namespace

Status Tracer::Start() {
  if (!exporting()) return Status::Ok();
  const std::string& e = options_.endpoint;
  const size_t scheme = e.find("://");
  if (scheme == std::string::npos || (e.compare(0, scheme, "http") != 0 && e.compare(0, scheme, "https") != 0)) {
    return Status(Reason::kInvalid, "tracing endpoint " + Quote(e) + " is not an http:// or https:// URL");
  }
  const size_t slash = e.find('/', scheme + 3);
  base_ = e.substr(0, slash);
  path_ = slash == std::string::npos || slash + 1 == e.size() ? "/v1/traces" : e.substr(slash);
  client_ = std::make_unique<httplib::Client>(base_);
  if (!client_->is_valid()) return Status(Reason::kInvalid, "tracing endpoint " + Quote(e) + " is not usable");
  const auto secs = std::chrono::duration_cast<std::chrono::seconds>(options_.timeout).count();
  client_->set_connection_timeout(secs);
  client_->set_read_timeout(secs);
  client_->set_write_timeout(secs);
  client_->set_keep_alive(true);
  thread_ = std::thread([this] { Run(); });
  return Status::Ok();
}

void Tracer::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Tracer::Enqueue(SpanData&& span) {
  g_started.fetch_add(1, std::memory_order_relaxed);
  bool full = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (queue_.size() >= options_.max_queue) {
      g_dropped.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    queue_.push_back(std::move(span));
    full = queue_.size() >= options_.max_batch;
  }
  if (full) cv_.notify_one();
}

void Tracer::Run() {
  std::chrono::steady_clock::time_point give_up{};
  while (true) {
    std::vector<SpanData> batch;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_for(lock, options_.interval, [&] { return stop_ || queue_.size() >= options_.max_batch; });
      if (stop_ && give_up == std::chrono::steady_clock::time_point{}) {
        give_up = std::chrono::steady_clock::now() + options_.timeout;  // the final flush is bounded
      }
      if (stop_ && (queue_.empty() || std::chrono::steady_clock::now() > give_up)) {
        g_dropped.fetch_add(queue_.size(), std::memory_order_relaxed);
        queue_.clear();
        return;
      }
      const size_t n = std::min(queue_.size(), options_.max_batch);
      batch.reserve(n);
      for (size_t i = 0; i < n; ++i) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    if (!batch.empty()) Export(batch);
  }
}

void Tracer::Export(std::vector<SpanData>& batch) {
  const std::string body = EncodeOtlpJson(batch, options_);
  auto res = client_->Post(path_, body, "application/json");
  if (res && res->status >= 200 && res->status < 300) {
    g_exported.fetch_add(batch.size(), std::memory_order_relaxed);
    return;
  }
  g_failed.fetch_add(batch.size(), std::memory_order_relaxed);
  const std::string why = res ? "HTTP " + std::to_string(res->status) : httplib::to_string(res.error());
  spdlog::warn("tracing: {} spans not exported to {}{}: {}", batch.size(), base_, path_, why);
}

// The process-wide counters (the queue length is the running tracer's).
static TracerStats Counters() {
  TracerStats s;
  s.started = g_started.load(std::memory_order_relaxed);
  s.exported = g_exported.load(std::memory_order_relaxed);
  s.dropped = g_dropped.load(std::memory_order_relaxed);
  s.failed = g_failed.load(std::memory_order_relaxed);
  return s;
}

TracerStats Tracer::Stats() const {
  TracerStats s = Counters();
  std::lock_guard<std::mutex> lock(mu_);
  s.queued = queue_.size();
  return s;
}

bool SpanContext::valid() const {
  auto zero = [](uint8_t b) { return b == 0; };
  return !std::all_of(trace_id.begin(), trace_id.end(), zero) && !std::all_of(span_id.begin(), span_id.end(), zero);
}

std::string SpanContext::TraceIdHex() const {
  return Hex(trace_id);
}
std::string SpanContext::SpanIdHex() const {
  return Hex(span_id);
}

std::optional<SpanContext> ParseTraceparent(std::string_view h) {
  // version "-" trace-id "-" parent-id "-" trace-flags; a future version may append "-" fields.
  if (h.size() < 55 || h[2] != '-' || h[35] != '-' || h[52] != '-') return std::nullopt;
  std::array<uint8_t, 1> version{};
  const bool v00 = h.substr(0, 2) == "00";
  if (!v00 && (!ParseHex(h.substr(0, 2), version) || version[0] == 0xff)) return std::nullopt;
  if (v00 ? h.size() != 55 : h.size() > 55 && h[55] != '-') return std::nullopt;
  SpanContext c;
  std::array<uint8_t, 1> flags{};
  if (!ParseHex(h.substr(3, 32), c.trace_id) || !ParseHex(h.substr(36, 16), c.span_id)) return std::nullopt;
  if (h.substr(53, 2) != "00" && !ParseHex(h.substr(53, 2), flags)) return std::nullopt;
  c.sampled = (flags[0] & 1) != 0;
  return c;
}

std::string FormatTraceparent(const SpanContext& c) {
  return "00-" + c.TraceIdHex() + "-" + c.SpanIdHex() + (c.sampled ? "-01" : "-00");
}

SpanContext CurrentSpanContext() {
  return t_current;
}

ScopedSpanContext::ScopedSpanContext(const SpanContext& c) {
  if (!c.valid()) return;
  saved_ = t_current;
  t_current = c;
  set_ = true;
}

ScopedSpanContext::~ScopedSpanContext() {
  if (set_) t_current = saved_;
}

Span::Span(std::string_view name, SpanKind kind) {
  Begin(name, kind, SpanContext{}, {});
}

Span::Span(std::string_view name, SpanKind kind, const SpanContext& parent, std::vector<SpanContext> links) {
  Begin(name, kind, parent, std::move(links));
}

void Span::Begin(std::string_view name, SpanKind kind, const SpanContext& parent, std::vector<SpanContext> links) {
  auto tracer = Active();
  if (!tracer) return;
  const SpanContext p = parent.valid() ? parent : t_current;
  context_.trace_id = p.valid() ? p.trace_id : RandomId<16>();
  context_.span_id = RandomId<8>();
  context_.sampled = p.valid() ? p.sampled : tracer->Sample(context_.trace_id);
  saved_ = t_current;
  t_current = context_;
  active_ = true;
  if (!context_.sampled || !tracer->exporting()) return;
  data_ = std::make_unique<SpanData>();
  data_->context = context_;
  if (p.valid()) data_->parent_span_id = p.span_id;
  data_->name = name;
  data_->kind = kind;
  data_->links = std::move(links);
  data_->start_unix_ns = NowUnixNs();
  tracer_ = std::move(tracer);
}

Span::~Span() {
  if (active_) t_current = saved_;
  if (!data_) return;
  data_->end_unix_ns = std::max(NowUnixNs(), data_->start_unix_ns);
  tracer_->Enqueue(std::move(*data_));
}

void Span::SetName(std::string name) {
  if (data_) data_->name = std::move(name);
}

void Span::SetAttribute(std::string key, AttributeValue value) {
  if (data_) data_->attributes.emplace_back(std::move(key), std::move(value));
}

void Span::SetError(std::string message) {
  if (!data_) return;
  data_->error = true;
  data_->status_message = std::move(message);
}

Status StartTracing(bool enabled, const TracingOptions& options) {
  std::shared_ptr<Tracer> next;
  if (enabled) {
    next = std::make_shared<Tracer>(options);
    if (Status s = next->Start(); !s.ok()) return s;
  }
  std::shared_ptr<Tracer> previous;
  {
    std::lock_guard<std::mutex> lock(g_mu);
    previous = std::exchange(g_tracer, next);
    g_enabled.store(next != nullptr, std::memory_order_release);
  }
  if (previous) previous->Stop();  // spans still open keep it alive until they end
  return Status::Ok();
}

void StopTracing() {
  (void)StartTracing(false, {});
}

bool TracingEnabled() {
  return g_enabled.load(std::memory_order_acquire);
}

TracerStats TracingStats() {
  std::shared_ptr<Tracer> t;
  {
    std::lock_guard<std::mutex> lock(g_mu);
    t = g_tracer;
  }
  return t ? t->Stats() : Counters();
}

void AddTracingMetrics(CallbackCollector& c) {
  c.Counter("tmcd_tracing_spans_ended_total", "Sampled spans ended while an export endpoint was set.",
            [] { return static_cast<double>(TracingStats().started); });
  c.Counter("tmcd_tracing_spans_exported_total", "Spans the OTLP endpoint accepted.",
            [] { return static_cast<double>(TracingStats().exported); });
  c.Counter("tmcd_tracing_spans_dropped_total", "Spans dropped because the export queue was full (or at stop).",
            [] { return static_cast<double>(TracingStats().dropped); });
  c.Counter("tmcd_tracing_spans_failed_total", "Spans in export requests that failed.",
            [] { return static_cast<double>(TracingStats().failed); });
  c.Gauge("tmcd_tracing_queue_spans", "Spans waiting for export.",
          [] { return static_cast<double>(TracingStats().queued); });
}

}  // namespace tmcd::observability
