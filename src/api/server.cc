#include "api/server.h"

#include <prometheus/text_serializer.h>

#include <memory>
#include <sstream>

#include "api/discovery.h"
#include "api/openapi.h"
#include "api/reply.h"
#include "api/status_body.h"
#include "api/table.h"
#include "common/strings.h"
#include "observability/trace.h"

namespace tmcd::api {
namespace {

using Clock = std::chrono::steady_clock;

// "/clusters/root:a/openapi/v3" → "/openapi/v3": kubectl pointed at a workspace asks there.
// The workspace a /clusters/<ws>/... path names ("root" without the prefix; "" when malformed).
std::string WorkspaceOf(const std::string& path) {
  if (!StartsWith(path, "/clusters/")) return std::string(kDefaultWorkspace);
  const auto slash = path.find('/', 10);
  std::string ws = path.substr(10, slash == std::string::npos ? std::string::npos : slash - 10);
  return IsWorkspaceName(ws) ? ws : "";
}

std::string WithoutWorkspace(const std::string& path) {
  if (!StartsWith(path, "/clusters/")) return path;
  const auto slash = path.find('/', 10);
  return slash == std::string::npos ? path : path.substr(slash);
}

// The verb label of a request before routing names it: a fixed set, so invented method names
// cannot grow the metrics without bound.
std::string MethodLabel(const std::string& method) {
  for (const char* known : {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "CONNECT", "TRACE"}) {
    if (method == known) return ToLower(method);
  }
  return "other";
}

// Paths and query parameters are text: bytes that are not UTF-8 are the client's error (400), found
// before any of them reaches a selector parser, a store key or a JSON message.
Status CheckRequestText(const net::HttpRequest& req) {
  if (!IsUtf8(req.path)) return BadRequest("the request path is not valid UTF-8");
  for (const auto& [k, v] : req.params) {
    if (!IsUtf8(k) || !IsUtf8(v)) return BadRequest("query parameter " + Quote(k) + " is not valid UTF-8");
  }
  return Status::Ok();
}

}  // namespace

Server::Server(ServerOptions options, ObjectService& objects, store::Store& store, prometheus::Registry& registry,
               std::function<std::string()> ready, nlohmann::json version)
    : options_(std::move(options)),
      objects_(objects),
      store_(store),
      registry_(registry),
      ready_(std::move(ready)),
      version_(std::move(version)),
      requests_(prometheus::BuildCounter()
                    .Name("tmcd_api_requests_total")
                    .Help("Local API requests by verb, resource and HTTP code.")
                    .Register(registry)),
      latency_(prometheus::BuildHistogram()
                   .Name("tmcd_api_request_duration_seconds")
                   .Help("Local API request latency by verb and resource (watches: until the stream starts).")
                   .Register(registry)),
      watches_gauge_(prometheus::BuildGauge()
                         .Name("tmcd_api_open_watches")
                         .Help("Open watch streams on the local API.")
                         .Register(registry)
                         .Add({})),
      revision_gauge_(prometheus::BuildGauge()
                          .Name("tmcd_store_revision")
                          .Help("Current store revision (the newest resourceVersion).")
                          .Register(registry)
                          .Add({})) {
  AddHttpMetrics();
}

void Server::AddHttpMetrics() {
  // One reading of the server's counters per scrape serves every family below: the hook runs first in
  // each collection and the callbacks after it, all under the collector's lock. Read only while serving
  // /metrics, which the HTTP server itself serves: http_ exists by then.
  auto seen = std::make_shared<net::HttpServerStats>();
  collector_.OnCollect([this, seen] { *seen = http_ ? http_->Stats() : net::HttpServerStats{}; });
  auto stats = [seen]() -> const net::HttpServerStats& { return *seen; };
  using observability::Sample;
  collector_.Counters("tmcd_http_budget_rejections_total",
                      "Connections the HTTP server's memory budgets ended since start, by budget: "
                      "buffered_request_bytes (503) and stalled_stream (a watch whose reader stopped).",
                      [this] {  // two atomics: read directly
                        const double refused = http_ ? static_cast<double>(http_->refused_requests()) : 0;
                        const double evicted = http_ ? static_cast<double>(http_->evicted_streams()) : 0;
                        return std::vector<Sample>{{{{"budget", "buffered_request_bytes"}}, refused},
                                                   {{{"budget", "stalled_stream"}}, evicted}};
                      });
  tls_ = options_.tls;
  collector_.Gauges("tmcd_tls_serving_certificate_expiry_timestamp_seconds",
                    "Unix time the serving certificate in use expires (no sample without TLS).", [this] {
                      std::lock_guard<std::mutex> lock(tls_mu_);
                      std::vector<Sample> out;
                      if (tls_ && tls_->NotAfterUnix() > 0)
                        out.push_back({{}, static_cast<double>(tls_->NotAfterUnix())});
                      return out;
                    });
  collector_.Gauge("tmcd_http_open_connections", "Open client connections (TCP and Unix socket).",
                   [stats] { return static_cast<double>(stats().open_connections); });
  collector_.Counter("tmcd_http_connections_total", "Client connections accepted since start.",
                     [stats] { return static_cast<double>(stats().accepted_connections); });
  collector_.Counter(
      "tmcd_http_accept_pauses_total",
      "Times the server stopped accepting: at its connection limit (the fd budget) or out of file descriptors.",
      [stats] { return static_cast<double>(stats().accept_pauses); });
  collector_.Gauge("tmcd_http_buffered_request_bytes",
                   "Request bytes buffered over all connections (budget: api.maxBufferedRequestBytes).",
                   [stats] { return static_cast<double>(stats().buffered_request_bytes); });
  collector_.Gauge("tmcd_http_pending_stream_bytes",
                   "Watch output not yet written to its clients (budget: api.maxWatchOutputBytes).",
                   [stats] { return static_cast<double>(stats().pending_stream_bytes); });
  collector_.Counters(
      "tmcd_http_refused_requests_total",
      "Requests the HTTP server answered itself before any handler, by status code "
      "(400 framing, 408 slow request, 413 too large, 431 headers, 501, 503 budget, 505; "
      "other: any other code).",
      [stats] {
        std::vector<Sample> out;
        for (const auto& [code, n] : stats().refused_by_status) {
          out.push_back({{{"code", code == 0 ? "other" : std::to_string(code)}}, static_cast<double>(n)});
        }
        return out;
      });
}

Server::~Server() {
  Stop();
}

Result<int> Server::Start() {
  net::HttpServerOptions ho;
  ho.tcp = options_.tcp;
  ho.host = options_.host;
  ho.port = options_.port;
  ho.tls = options_.tls;
  ho.unix_path = options_.unix_path;
  ho.unix_mode = options_.unix_mode;
  ho.unix_gid = options_.unix_gid;
  ho.threads = options_.threads;
  ho.limits.max_body_bytes = options_.max_body_bytes;
  ho.request_timeout = options_.request_timeout;
  ho.max_connections = options_.max_connections;
  ho.max_buffered_request_bytes = options_.max_buffered_request_bytes;
  ho.max_stream_bytes = options_.max_stream_bytes;
  http_ = std::make_unique<net::HttpServer>(
      ho, [this](const net::HttpRequest& req) { return Handle(req); },
      [this](int code, const std::string& message) { return ProtocolError(code, message); });
  return http_->Start();
}

void Server::Stop() {
  if (stopping_.exchange(true) || !http_) return;
  http_->Stop(options_.shutdown_grace);
}

void Server::SetTls(std::shared_ptr<net::TlsContext> tls) {
  {
    std::lock_guard<std::mutex> lock(tls_mu_);
    tls_ = tls;
  }
  if (http_) http_->SetTls(std::move(tls));
}

net::HttpResponse Server::ProtocolError(int code, const std::string& message) const {
  Reason reason = code == 413   ? Reason::kRequestEntityTooLarge
                  : code == 408 ? Reason::kTimeout
                  : code == 503 ? Reason::kServiceUnavailable
                  : code >= 500 ? Reason::kInternalError
                                : Reason::kBadRequest;
  std::string msg =
      code == 413 ? "the request body is larger than " + std::to_string(options_.max_body_bytes) + " bytes" : message;
  Json body = StatusBody(Status(reason, msg));
  body["code"] = code;  // the HTTP-level failures (408, 431, 501, 505) keep their own code
  net::HttpResponse res;
  Reply(res, code, body);
  return res;
}

void Server::Metrics(net::HttpResponse& res) {
  revision_gauge_.Set(static_cast<double>(store_.CurrentRevision()));
  watches_gauge_.Set(static_cast<double>(open_watches_.load()));
  std::ostringstream out;
  // The callbacks first: their OnCollect hooks also refresh registry gauges (the controllers' queues).
  auto callbacks = collector_.Collect();
  auto families = registry_.Collect();
  for (auto& f : callbacks) families.push_back(std::move(f));
  prometheus::TextSerializer().Serialize(out, families);
  res.status = 200;
  res.SetContent(out.str(), "text/plain; version=0.0.4");
}

void Server::Backup(const net::HttpRequest& req, net::HttpResponse& res) {
  if (!options_.backup) {
    ReplyError(res, NotFound("backups are not served here"));
  } else if (req.method != "POST") {
    ReplyError(res, Status(Reason::kMethodNotAllowed, "POST /admin/backup makes a backup"));
  } else if (auto made = options_.backup(); made.ok()) {
    Reply(res, 201, *made);
  } else {
    ReplyError(res, made.status());
  }
}

namespace {

// The request's span: named after the verb and resource when there is one (OpenTelemetry's HTTP
// conventions for its attributes).
void Annotate(observability::Span& span, const net::HttpRequest& req, const net::HttpResponse& res,
              const std::string& verb, const std::string& resource) {
  if (!span.recording()) return;
  if (!resource.empty()) span.SetName(verb + " " + resource);
  span.SetAttribute("http.request.method", req.method);
  span.SetAttribute("url.path", req.path);
  span.SetAttribute("http.response.status_code", int64_t{res.status});
  if (res.status >= 500) span.SetError("HTTP " + std::to_string(res.status));
}

}  // namespace

net::HttpResponse Server::Handle(const net::HttpRequest& req) {
  const auto start = Clock::now();
  const std::string& method = req.method;
  net::HttpResponse res;
  std::string verb = MethodLabel(method);
  std::string resource_label;
  security::UserInfo user;
  security::Attributes attrs;
  std::string reason;
  bool allowed = false;
  const auto received = std::chrono::system_clock::now();
  // A client's W3C traceparent makes this request part of its trace (docs/observability.md#traces).
  observability::Span span(
      "HTTP " + method, observability::SpanKind::kServer,
      observability::ParseTraceparent(req.Header("traceparent")).value_or(observability::SpanContext{}));
  try {
    const Status text = CheckRequestText(req);
    allowed = text.ok() && Admit(req, res, user, attrs, reason);
    if (!text.ok()) {
      ReplyError(res, text);
    } else if (!allowed) {
      verb = res.status == 401 ? "unauthenticated" : "forbidden";
    } else if (method != "GET" && method != "POST" && method != "PUT" && method != "PATCH" && method != "DELETE") {
      ReplyError(res, Status(Reason::kMethodNotAllowed, "method " + method + " is not supported"));
    } else if (req.path == "/healthz" || req.path == "/livez") {
      res.SetContent("ok", "text/plain");
    } else if (req.path == "/readyz") {
      std::string why = ready_();
      res.status = why.empty() ? 200 : 503;
      res.SetContent(why.empty() ? "ok" : "not ready: " + why, "text/plain");
    } else if (const std::string doc_path = WithoutWorkspace(req.path); doc_path == "/version") {
      Reply(res, 200, version_);
    } else if (req.path == "/metrics") {
      Metrics(res);
    } else if (req.path == "/admin/backup") {
      Backup(req, res);
    } else if ((doc_path == "/openapi/v3" || StartsWith(doc_path, "/openapi/v3/")) && WorkspaceOf(req.path).empty()) {
      ReplyError(res, BadRequest("invalid workspace name in " + Quote(req.path)));
    } else if (doc_path == "/openapi/v3") {
      Reply(res, 200, OpenApiIndex(objects_.catalog().All(WorkspaceOf(req.path))));
    } else if (StartsWith(doc_path, "/openapi/v3/")) {
      auto doc = OpenApiDocument(std::string_view(doc_path).substr(12), objects_.catalog().All(WorkspaceOf(req.path)));
      if (doc.ok())
        Reply(res, 200, *doc);
      else
        ReplyError(res, doc.status());
    } else {
      auto p = ParsePath(req.SegmentedPath());
      if (!p.ok()) {
        ReplyError(res, p.status());
      } else if (p->kind != RequestPath::Kind::kResource) {
        auto doc = method == "GET"
                       ? Discovery(*p, !options_.read_only_reason.empty(), objects_.catalog().All(p->workspace))
                       : Result<Json>(Status(Reason::kMethodNotAllowed, "discovery is read-only"));
        if (doc.ok())
          Reply(res, 200, *doc);
        else
          ReplyError(res, doc.status());
      } else {
        HandleResource(*p, req, user, res, verb, resource_label);
        if (options_.authz != nullptr && p->group == security::kRbacGroup && method != "GET" && res.status < 300) {
          options_.authz->Invalidate(p->workspace);  // the next request sees the new policy
        }
      }
    }
  } catch (const std::exception& e) {  // library exceptions (JSON) end here, never the process
    ReplyError(res, Internal(std::string("internal error: ") + e.what()));
  }
  Audit(req, res, user, attrs, allowed, reason, received);
  Annotate(span, req, res, verb, resource_label);
  const double secs = std::chrono::duration<double>(Clock::now() - start).count();
  requests_.Add({{"verb", verb}, {"resource", resource_label}, {"code", std::to_string(res.status)}}).Increment();
  latency_
      .Add({{"verb", verb}, {"resource", resource_label}},
           prometheus::Histogram::BucketBoundaries{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
                                                   2.5, 5})
      .Observe(secs);
  return res;
}

}  // namespace tmcd::api
