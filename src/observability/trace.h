#pragma once
// Tracing (docs/design/tracing.md): W3C trace context, spans and their process-wide exporter.
//
// A Span started on a thread becomes that thread's current span until it ends; spans started inside it
// are its children, and code that hands work to another thread carries the context along (the store
// puts the committing span's context on the watch event, the work queue keeps it on the queued key and
// the controller runtime starts the reconcile under it), so one change is one trace from the API
// request to each cluster's apply. Sampling is parent-based: a span with a parent follows the parent's
// sampled flag, a root span is sampled with the configured ratio (by its trace id, as OpenTelemetry's
// TraceIdRatioBased sampler). Unsampled spans record nothing but still propagate their context.
//
// The tracer is the second process-wide object the architecture allows (after the logger registry,
// docs/design/architecture.md §8): code deep in the store or the HTTP client starts spans without
// being handed a tracer. With tracing off (the default), starting a span is one atomic load.
// Thread-safe.

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "common/status.h"

namespace tmcd::observability {

struct SpanContext {
  std::array<uint8_t, 16> trace_id{};
  std::array<uint8_t, 8> span_id{};
  bool sampled = false;
  bool valid() const;  // both ids non-zero
  std::string TraceIdHex() const;
  std::string SpanIdHex() const;
};

// "00-<32 hex trace id>-<16 hex span id>-<2 hex flags>" (version 00; a higher version is read by the
// same rule, as the W3C recommendation says); nullopt for anything malformed or an all-zero id.
std::optional<SpanContext> ParseTraceparent(std::string_view header);
std::string FormatTraceparent(const SpanContext& c);

// The span the calling thread is in (invalid when none).
SpanContext CurrentSpanContext();

// Makes `c` the thread's current context until destroyed (a valid context only; an invalid one
// leaves the current one in place).
class ScopedSpanContext {
 public:
  explicit ScopedSpanContext(const SpanContext& c);
  ~ScopedSpanContext();
  ScopedSpanContext(const ScopedSpanContext&) = delete;
  ScopedSpanContext& operator=(const ScopedSpanContext&) = delete;

 private:
  SpanContext saved_;
  bool set_ = false;
};

enum class SpanKind : int { kInternal = 1, kServer = 2, kClient = 3, kProducer = 4, kConsumer = 5 };

using AttributeValue = std::variant<std::string, int64_t, bool>;

struct SpanData {
  SpanContext context;
  std::array<uint8_t, 8> parent_span_id{};  // all zero: a root span
  std::string name;
  SpanKind kind = SpanKind::kInternal;
  int64_t start_unix_ns = 0;
  int64_t end_unix_ns = 0;
  std::vector<std::pair<std::string, AttributeValue>> attributes;
  std::vector<SpanContext> links;
  bool error = false;
  std::string status_message;
};

class Tracer;

class Span {
 public:
  // A child of the thread's current span, or a root.
  explicit Span(std::string_view name, SpanKind kind = SpanKind::kInternal);
  // A child of `parent` when it is valid (else as above), linked to `links`.
  Span(std::string_view name, SpanKind kind, const SpanContext& parent, std::vector<SpanContext> links = {});
  ~Span();  // ends the span and gives it to the exporter; the enclosing context is current again
  Span(const Span&) = delete;
  Span& operator=(const Span&) = delete;

  bool recording() const { return data_ != nullptr; }
  // Invalid when tracing is off.
  const SpanContext& context() const { return context_; }
  void SetName(std::string name);
  void SetAttribute(std::string key, AttributeValue value);
  void SetError(std::string message);

 private:
  void Begin(std::string_view name, SpanKind kind, const SpanContext& parent, std::vector<SpanContext> links);
  std::unique_ptr<SpanData> data_;  // null: not sampled, or tracing off
  std::shared_ptr<Tracer> tracer_;  // set with data_
  SpanContext context_;
  SpanContext saved_;
  bool active_ = false;
};

struct TracingOptions {
  // OTLP/HTTP base URL ("http://collector:4318"; "/v1/traces" is added unless the URL has a path).
  // Empty: spans are not exported, but contexts are still made and propagated (trace ids in logs and
  // in traceparent headers toward clusters and kcp).
  std::string endpoint;
  double sampling_ratio = 1.0;  // of root spans
  size_t max_queue = 2048;      // spans waiting for export; more are dropped (and counted)
  size_t max_batch = 512;       // spans per export request
  std::chrono::milliseconds interval{1000};
  std::chrono::milliseconds timeout{10000};  // one export request
  std::string service_version;
  std::string service_instance;  // service.instance.id (the store's instance id)
};

struct TracerStats {
  uint64_t started = 0;   // sampled spans ended
  uint64_t exported = 0;  // spans the endpoint accepted
  uint64_t dropped = 0;   // queue full
  uint64_t failed = 0;    // spans in export requests that failed
  size_t queued = 0;
};

// Turns tracing on (replacing an earlier setup) or, with `enabled` false, off. An export thread runs
// while an endpoint is set.
Status StartTracing(bool enabled, const TracingOptions& options);
// Exports what is queued (bounded by the export timeout) and turns tracing off.
void StopTracing();
bool TracingEnabled();
TracerStats TracingStats();

class CallbackCollector;
// tmcd_tracing_* (docs/metrics.md).
void AddTracingMetrics(CallbackCollector& collector);

// OTLP/JSON (ExportTraceServiceRequest) for these spans: hex ids, nanosecond times as strings, as
// the OTLP specification's JSON encoding says.
std::string EncodeOtlpJson(const std::vector<SpanData>& spans, const TracingOptions& resource);

}  // namespace tmcd::observability
