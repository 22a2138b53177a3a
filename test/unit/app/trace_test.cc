#include "observability/trace.h"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "common/clock.h"
#include "engine/workqueue.h"

namespace tmcd::observability {
namespace {

const char* const kParent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

// Tracing on (no export endpoint: contexts only) for one test case.
struct TracingOn {
  explicit TracingOn(double ratio = 1.0, std::string endpoint = "") {
    TracingOptions o;
    o.sampling_ratio = ratio;
    o.endpoint = std::move(endpoint);
    REQUIRE(StartTracing(true, o).ok());
  }
  ~TracingOn() { StopTracing(); }
  TracingOn(const TracingOn&) = delete;
  TracingOn& operator=(const TracingOn&) = delete;
};

TEST_CASE("traceparent headers are read and written as W3C trace context says") {
  auto c = ParseTraceparent(kParent);
  REQUIRE(c.has_value());
  CHECK(c->TraceIdHex() == "4bf92f3577b34da6a3ce929d0e0e4736");
  CHECK(c->SpanIdHex() == "00f067aa0ba902b7");
  CHECK(c->sampled);
  CHECK(FormatTraceparent(*c) == kParent);
  auto unsampled = ParseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00");
  REQUIRE(unsampled.has_value());
  CHECK_FALSE(unsampled->sampled);
  // A later version may append fields; version 00 may not.
  CHECK(ParseTraceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra").has_value());
  for (const char* bad : {"", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x",
                          "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
                          "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
                          "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
                          "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                          "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
                          "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                          "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g"}) {
    CAPTURE(bad);
    CHECK_FALSE(ParseTraceparent(bad).has_value());
  }
}

TEST_CASE("with tracing off a span is nothing and has no context") {
  StopTracing();
  Span span("off");
  CHECK_FALSE(span.context().valid());
  CHECK_FALSE(span.recording());
  CHECK_FALSE(CurrentSpanContext().valid());
}

TEST_CASE("spans nest on a thread and the enclosing context comes back") {
  TracingOn on;
  CHECK_FALSE(CurrentSpanContext().valid());
  Span outer("outer");
  REQUIRE(outer.context().valid());
  CHECK(CurrentSpanContext().SpanIdHex() == outer.context().SpanIdHex());
  CHECK_FALSE(outer.recording());  // no endpoint: context only
  {
    Span inner("inner");
    CHECK(inner.context().trace_id == outer.context().trace_id);
    CHECK(inner.context().span_id != outer.context().span_id);
    CHECK(CurrentSpanContext().span_id == inner.context().span_id);
  }
  CHECK(CurrentSpanContext().span_id == outer.context().span_id);
  // Another thread has its own current span: a root unless the context is carried over.
  SpanContext other;
  std::thread([&] {
    Span root("elsewhere");
    other = root.context();
  }).join();
  CHECK(other.trace_id != outer.context().trace_id);
  std::thread([&, parent = outer.context()] {
    ScopedSpanContext carried(parent);
    Span child("carried");
    other = child.context();
  }).join();
  CHECK(other.trace_id == outer.context().trace_id);
}

TEST_CASE("sampling follows a parent's flag and the ratio for new traces") {
  TracingOn none(0.0);
  Span root("root");
  CHECK(root.context().valid());  // propagated even when not sampled
  CHECK_FALSE(root.context().sampled);
  auto remote = ParseTraceparent(kParent);
  Span child("child", SpanKind::kServer, *remote);
  CHECK(child.context().sampled);
  CHECK(child.context().TraceIdHex() == "4bf92f3577b34da6a3ce929d0e0e4736");
}

TEST_CASE("a sampling ratio samples about that share of new traces") {
  TracingOn half(0.25);
  int sampled = 0;
  for (int i = 0; i < 4000; ++i) sampled += Span("r").context().sampled ? 1 : 0;
  CHECK(sampled > 800);
  CHECK(sampled < 1200);
}

TEST_CASE("OTLP/JSON carries hex ids, string nanoseconds, typed attributes, links and status") {
  SpanData d;
  d.context = *ParseTraceparent(kParent);
  d.parent_span_id = {1, 2, 3, 4, 5, 6, 7, 8};
  d.name = "reconcile sync";
  d.kind = SpanKind::kServer;
  d.start_unix_ns = 1700000000123456789;
  d.end_unix_ns = 1700000000223456789;
  d.attributes = {{"s", std::string("v")}, {"i", int64_t{42}}, {"b", true}};
  d.links = {*ParseTraceparent("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")};
  d.error = true;
  d.status_message = "boom";
  TracingOptions resource;
  resource.service_version = "0.1.0";
  const auto doc = nlohmann::json::parse(EncodeOtlpJson({d}, resource));
  const auto& rs = doc.at("resourceSpans").at(0);
  CHECK(rs.at("resource").at("attributes").at(0) ==
        nlohmann::json::parse(R"({"key":"service.name","value":{"stringValue":"tmcd"}})"));
  const auto& span = rs.at("scopeSpans").at(0).at("spans").at(0);
  CHECK(span.at("traceId") == "4bf92f3577b34da6a3ce929d0e0e4736");
  CHECK(span.at("spanId") == "00f067aa0ba902b7");
  CHECK(span.at("parentSpanId") == "0102030405060708");
  CHECK(span.at("kind") == 2);
  CHECK(span.at("startTimeUnixNano") == "1700000000123456789");
  CHECK(span.at("endTimeUnixNano") == "1700000000223456789");
  CHECK(span.at("attributes").at(1).at("value").at("intValue") == "42");
  CHECK(span.at("attributes").at(2).at("value").at("boolValue") == true);
  CHECK(span.at("links").at(0).at("spanId") == "b7ad6b7169203331");
  CHECK(span.at("status").at("code") == 2);
  CHECK(span.at("status").at("message") == "boom");
  d.parent_span_id = {};
  const auto root = nlohmann::json::parse(EncodeOtlpJson({d}, resource));
  CHECK_FALSE(root["resourceSpans"][0]["scopeSpans"][0]["spans"][0].contains("parentSpanId"));
}

TEST_CASE("the export queue is bounded: spans beyond it are dropped and counted") {
  const TracerStats before = TracingStats();
  {
    TracingOptions o;
    o.endpoint = "http://127.0.0.1:9";  // discard: nothing listens
    o.max_queue = 10;
    o.interval = std::chrono::milliseconds(60000);
    o.timeout = std::chrono::milliseconds(200);
    REQUIRE(StartTracing(true, o).ok());
    for (int i = 0; i < 50; ++i) {
      Span s("s");
      CHECK(s.recording());
    }
    const TracerStats during = TracingStats();
    CHECK(during.started - before.started == 50);
    CHECK(during.dropped - before.dropped == 40);
    CHECK(during.queued == 10);
    StopTracing();  // the final export fails: those spans count as failed
  }
  const TracerStats after = TracingStats();
  CHECK(after.failed - before.failed == 10);
  CHECK(after.exported == before.exported);
  CHECK_FALSE(StartTracing(true, TracingOptions{.endpoint = "ftp://x"}).ok());
}

TEST_CASE("a queued key carries the trace it was queued in to its next reconcile") {
  TracingOn on;
  RealClock clock;
  engine::WorkQueue q(clock);
  Span first("first");
  q.Add("k");
  SpanContext second_ctx;
  std::thread([&] {
    Span second("second");  // another trace queues the same key: a link
    second_ctx = second.context();
    q.Add("k");
  }).join();
  engine::QueuedTrace t;
  REQUIRE(q.Get(&t) == "k");
  CHECK(t.parent.span_id == first.context().span_id);
  REQUIRE(t.links.size() == 1);
  CHECK(t.links[0].span_id == second_ctx.span_id);
  q.Done("k");
  q.AddAfter("k", std::chrono::milliseconds(1));  // periodic work starts new traces
  engine::QueuedTrace none;
  REQUIRE(q.Get(&none) == "k");
  CHECK_FALSE(none.parent.valid());
  q.Done("k");
}

}  // namespace
}  // namespace tmcd::observability
