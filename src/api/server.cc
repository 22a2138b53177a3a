#include "api/server.h"

#include <httplib.h>
#include <prometheus/text_serializer.h>

#include <sstream>

#include "api/discovery.h"
#include "api/openapi.h"
#include "api/reply.h"
#include "api/status_body.h"
#include "api/table.h"
#include "common/strings.h"

namespace tmcd::api {
namespace {

using Clock = std::chrono::steady_clock;

}  // namespace

Server::Server(ServerOptions options, ObjectService& objects, store::Store& store, prometheus::Registry& registry,
               std::function<std::string()> ready, nlohmann::json version)
    : options_(std::move(options)),
      objects_(objects),
      store_(store),
      registry_(registry),
      ready_(std::move(ready)),
      version_(std::move(version)),
      http_(std::make_unique<httplib::Server>()),
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
                          .Add({})) {}

Server::~Server() {
  Stop();
}

Result<int> Server::Start() {
  const size_t pool = options_.threads + options_.max_watches;
  http_->new_task_queue = [pool] { return new httplib::ThreadPool(pool); };
  http_->set_payload_max_length(options_.max_body_bytes);
  // Small responses must not wait for Nagle + delayed ACK (~40 ms per request on keep-alive).
  http_->set_tcp_nodelay(true);
  http_->set_read_timeout(options_.request_timeout);
  http_->set_write_timeout(options_.request_timeout);
  http_->set_error_handler([this](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return;
    Reason reason = res.status == 413   ? Reason::kRequestEntityTooLarge
                    : res.status == 400 ? Reason::kBadRequest
                                        : Reason::kInternalError;
    std::string msg = res.status == 413
                          ? "the request body is larger than " + std::to_string(options_.max_body_bytes) + " bytes"
                          : "the request could not be processed";
    ReplyError(res, Status(reason, msg));
  });
  for (const char* method : {"GET", "POST", "PUT", "PATCH", "DELETE"}) {
    auto handler = [this, m = std::string(method)](const httplib::Request& req, httplib::Response& res) {
      Handle(m, req, res);
    };
    if (std::string_view(method) == "GET") http_->Get(".*", handler);
    if (std::string_view(method) == "POST") http_->Post(".*", handler);
    if (std::string_view(method) == "PUT") http_->Put(".*", handler);
    if (std::string_view(method) == "PATCH") http_->Patch(".*", handler);
    if (std::string_view(method) == "DELETE") http_->Delete(".*", handler);
  }
  int port = options_.port == 0 ? http_->bind_to_any_port(options_.host)
                                : (http_->bind_to_port(options_.host, options_.port) ? options_.port : -1);
  if (port <= 0) {
    return Status(Reason::kServiceUnavailable, "cannot listen on " + options_.host + ":" +
                                                   std::to_string(options_.port) + " (address in use or not local?)");
  }
  thread_ = std::thread([this] { http_->listen_after_bind(); });
  // The socket is bound already (clients can connect); wait until the accept loop runs too.
  for (int i = 0; i < 500 && !http_->is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  return port;
}

void Server::Stop() {
  if (stopping_.exchange(true)) return;
  http_->stop();
  if (thread_.joinable()) thread_.join();
}

void Server::Metrics(httplib::Response& res) {
  revision_gauge_.Set(static_cast<double>(store_.CurrentRevision()));
  watches_gauge_.Set(static_cast<double>(open_watches_.load()));
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, registry_.Collect());
  res.status = 200;
  res.set_content(out.str(), "text/plain; version=0.0.4");
}

void Server::Handle(const std::string& method, const httplib::Request& req, httplib::Response& res) {
  const auto start = Clock::now();
  std::string verb = ToLower(method);
  std::string resource_label;
  try {
    if (req.path == "/healthz" || req.path == "/livez") {
      res.set_content("ok", "text/plain");
    } else if (req.path == "/readyz") {
      std::string why = ready_();
      res.status = why.empty() ? 200 : 503;
      res.set_content(why.empty() ? "ok" : "not ready: " + why, "text/plain");
    } else if (req.path == "/version") {
      Reply(res, 200, version_);
    } else if (req.path == "/metrics") {
      Metrics(res);
    } else if (req.path == "/openapi/v3") {
      Reply(res, 200, OpenApiIndex());
    } else if (StartsWith(req.path, "/openapi/v3/")) {
      auto doc = OpenApiDocument(std::string_view(req.path).substr(12));
      if (doc.ok())
        Reply(res, 200, *doc);
      else
        ReplyError(res, doc.status());
    } else {
      auto p = ParsePath(req.path);
      if (!p.ok()) {
        ReplyError(res, p.status());
      } else if (p->kind != RequestPath::Kind::kResource) {
        auto doc =
            method == "GET" ? Discovery(*p) : Result<Json>(Status(Reason::kMethodNotAllowed, "discovery is read-only"));
        if (doc.ok())
          Reply(res, 200, *doc);
        else
          ReplyError(res, doc.status());
      } else {
        HandleResource(method, *p, req, res, verb, resource_label);
      }
    }
  } catch (const std::exception& e) {  // library exceptions (JSON) end here, never the process
    ReplyError(res, Internal(std::string("internal error: ") + e.what()));
  }
  const double secs = std::chrono::duration<double>(Clock::now() - start).count();
  requests_.Add({{"verb", verb}, {"resource", resource_label}, {"code", std::to_string(res.status)}}).Increment();
  latency_
      .Add({{"verb", verb}, {"resource", resource_label}},
           prometheus::Histogram::BucketBoundaries{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
                                                   2.5, 5})
      .Observe(secs);
}

}  // namespace tmcd::api
