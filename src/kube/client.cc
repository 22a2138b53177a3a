#include "kube/client.h"

#include <httplib.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <sys/socket.h>

#include <csignal>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "common/strings.h"
#include "kube/errors.h"
#include "kube/url.h"
#include "observability/trace.h"

namespace tmcd::kube {
namespace {

using SteadyClock = std::chrono::steady_clock;
constexpr int kBlindRetries = 3;  // GETs after a 5xx or a broken connection without Retry-After
// A certificate directory that cannot exist (/dev/null is no directory): a lookup there finds nothing.
constexpr const char* kNoCertificates = "/dev/null/tmcd-no-certificates";

constexpr const char* kBadClientKeyPair =
    "client-certificate / client-key: not a valid certificate and matching private key";

// Every certificate of a PEM bundle (owned by the caller); empty when none parses.
std::vector<X509*> CertsFromPem(const std::string& pem) {
  std::vector<X509*> out;
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  while (X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) out.push_back(cert);
  BIO_free(bio);
  return out;
}

}  // namespace

struct TlsMaterial {
  std::vector<X509*> ca;    // the certificate-authority bundle
  X509* cert = nullptr;     // client-certificate, with
  EVP_PKEY* key = nullptr;  // client-key
  TlsMaterial() = default;
  TlsMaterial(const TlsMaterial&) = delete;
  TlsMaterial& operator=(const TlsMaterial&) = delete;
  ~TlsMaterial() {
    for (X509* c : ca) X509_free(c);
    X509_free(cert);
    EVP_PKEY_free(key);
  }
};

namespace {

Result<std::shared_ptr<const TlsMaterial>> ParseTls(const RestConfig& config) {
  auto m = std::make_shared<TlsMaterial>();
  if (!config.client_cert_pem.empty()) {
    BIO* cb = BIO_new_mem_buf(config.client_cert_pem.data(), static_cast<int>(config.client_cert_pem.size()));
    BIO* kb = BIO_new_mem_buf(config.client_key_pem.data(), static_cast<int>(config.client_key_pem.size()));
    m->cert = PEM_read_bio_X509(cb, nullptr, nullptr, nullptr);
    m->key = PEM_read_bio_PrivateKey(kb, nullptr, nullptr, nullptr);
    BIO_free(cb);
    BIO_free(kb);
    if (m->cert == nullptr || m->key == nullptr) return BadRequest(kBadClientKeyPair);
  }
  if (!config.ca_pem.empty()) {
    m->ca = CertsFromPem(config.ca_pem);
    if (m->ca.empty()) return BadRequest("certificate-authority: no certificate could be read from the PEM");
  }
  return std::shared_ptr<const TlsMaterial>(std::move(m));
}

}  // namespace

std::string TransportError(httplib::Error e, const httplib::ClientImpl& c) {
  if (e == httplib::Error::SSLServerVerification) {
    const auto* ssl = dynamic_cast<const httplib::SSLClient*>(&c);
    const long v = ssl != nullptr ? ssl->get_openssl_verify_result() : X509_V_OK;
    return std::string("TLS: the server certificate is not trusted (") + X509_verify_cert_error_string(v) +
           "); check certificate-authority or tls-server-name";
  }
  switch (e) {
    case httplib::Error::Connection:
      return "transport: cannot connect to the server (refused, unreachable or no route)";
    case httplib::Error::ConnectionTimeout:
      return "transport: connecting to the server timed out";
    case httplib::Error::Read:
      return "transport: the connection broke while reading the answer (or the timeout passed)";
    case httplib::Error::Write:
      return "transport: the connection broke while sending the request";
    case httplib::Error::SSLConnection:
      return "transport: the TLS handshake failed or timed out";
    default:
      return "transport: " + httplib::to_string(e);
  }
}

std::string ResourceRef::Path(std::string_view name, std::string_view subresource) const {
  std::string p;
  if (!cluster.empty()) p += "/clusters/" + cluster;
  p += group.empty() ? "/api/" + version : "/apis/" + group + "/" + version;
  if (!namespace_.empty()) p += "/namespaces/" + namespace_;
  p += "/" + resource;
  if (!name.empty()) p += "/" + std::string(name);
  if (!subresource.empty()) p += "/" + std::string(subresource);
  return p;
}

std::string LogicalCluster(const Json& obj) {
  const auto meta = obj.find("metadata");
  if (meta == obj.end() || !meta->contains("annotations")) return "";
  const Json& ann = (*meta)["annotations"];
  return ann.is_object() ? ann.value("kcp.io/cluster", "") : "";
}

void WatchCancel::Cancel() {
  cancelled_ = true;
  std::lock_guard<std::mutex> lock(mu_);
  if (active_ != nullptr) active_->stop();
}

Client::Client(RestConfig config, ClientOptions options)
    : config_(std::move(config)), options_(std::move(options)), limiter_(options_.qps, options_.burst) {}

Client::~Client() {
  {
    std::lock_guard<std::mutex> lock(prober_mu_);
    stopping_ = true;
  }
  prober_cv_.notify_all();
  if (prober_.joinable()) prober_.join();  // a trial in flight ends within kTrialTimeout
}

void Client::WakeProber() {
  {
    std::lock_guard<std::mutex> lock(prober_mu_);
    if (!prober_.joinable() && !stopping_) prober_ = std::thread([this] { ProbeLoop(); });
  }
  prober_cv_.notify_all();
}

void Client::ProbeLoop() {
  std::unique_lock<std::mutex> lock(prober_mu_);
  while (!stopping_) {
    if (!breaker_.Open()) {
      prober_cv_.wait(lock);  // until the next failure (WakeProber) or the end
      continue;
    }
    if (!breaker_.TakeTrial(SteadyClock::now())) {
      prober_cv_.wait_until(lock, breaker_.NextTrial());
      continue;
    }
    lock.unlock();
    const Status s = TrialOnce();
    if (!s.ok()) {
      breaker_.Failed(SteadyClock::now(), s.message());
    } else if (breaker_.Succeeded() && on_breaker_closed_) {
      on_breaker_closed_();
    }
    lock.lock();
  }
}

Status Client::TrialOnce() {
  TMCD_ASSIGN_OR_RETURN(auto cli, NewConnection(std::min(options_.timeout, kTrialTimeout)));
  httplib::Request req;
  (void)Prepare(req, "GET", "/readyz");  // without a bad token: any answer will do
  auto res = cli->send(req);
  if (!res) return Status(Reason::kServiceUnavailable, "trial GET /readyz: " + TransportError(res.error(), *cli));
  return Status::Ok();  // any answer: the server is there
}

Result<std::unique_ptr<Client>> Client::Create(RestConfig config, ClientOptions options) {
  // OpenSSL writes to sockets with write(2): a server that closes first (a TLS alert, an idle
  // keep-alive timeout) would kill the process with SIGPIPE. Go's runtime ignores it too.
  static std::once_flag ignore_sigpipe;
  std::call_once(ignore_sigpipe, [] { std::signal(SIGPIPE, SIG_IGN); });  // NOLINT(cert-err33-c)
  std::unique_ptr<Client> c(new Client(std::move(config), std::move(options)));
  const std::string& url = c->config_.server;
  if (StartsWith(url, "unix:///")) {  // tmcd's own Unix socket (tmcctl): port 0 marks it, see NewConnection
    c->tls_ = false;
    c->host_ = url.substr(7);
    c->port_ = 0;
    return c;  // nothing to validate before the first request
  }
  c->tls_ = StartsWith(url, "https://");
  if (!c->tls_ && !StartsWith(url, "http://")) return BadRequest("server " + Quote(url) + " is not an http(s) URL");
  std::string rest = url.substr(c->tls_ ? 8 : 7);
  const auto slash = rest.find('/');
  c->path_prefix_ = slash == std::string::npos ? "" : rest.substr(slash);
  while (!c->path_prefix_.empty() && c->path_prefix_.back() == '/') c->path_prefix_.pop_back();
  std::string hostport = rest.substr(0, slash);
  c->port_ = c->tls_ ? 443 : 80;
  const auto colon = hostport.rfind(':');
  if (colon != std::string::npos && hostport.find(']', colon) == std::string::npos) {
    c->port_ = std::atoi(hostport.c_str() + colon + 1);
    hostport.resize(colon);
  }
  if (hostport.size() > 2 && hostport.front() == '[') hostport = hostport.substr(1, hostport.size() - 2);
  if (hostport.empty() || c->port_ <= 0) return BadRequest("server " + Quote(url) + " has no valid host:port");
  c->host_ = hostport;
  if (c->tls_) {
    TMCD_ASSIGN_OR_RETURN(c->tls_material_, ParseTls(c->config_));
  }
  // Validate the TLS material once, so a bad CA or key fails here and not on the first request.
  TMCD_ASSIGN_OR_RETURN(auto probe, c->NewConnection(c->options_.timeout));
  c->Release(std::move(probe));
  return c;
}

Result<std::unique_ptr<httplib::ClientImpl>> Client::NewConnection(std::chrono::seconds read_timeout) {
  std::unique_ptr<httplib::ClientImpl> cli;
  if (port_ == 0) {  // a Unix socket path (unix:///path); ClusterRegistration endpoints are http(s) only
    cli = std::make_unique<httplib::ClientImpl>(host_, 80);
    cli->set_address_family(AF_UNIX);
  } else if (!tls_) {
    cli = std::make_unique<httplib::ClientImpl>(host_, port_);
  } else {
    const std::string sni = config_.tls_server_name.empty() ? host_ : config_.tls_server_name;
    std::unique_ptr<httplib::SSLClient> ssl;
    const TlsMaterial& m = *tls_material_;
    if (m.cert != nullptr) {
      ssl = std::make_unique<httplib::SSLClient>(sni, port_, m.cert, m.key);  // the context takes references
      if (!ssl->is_valid()) return BadRequest(kBadClientKeyPair);
    } else {
      ssl = std::make_unique<httplib::SSLClient>(sni, port_);
    }
    if (sni != host_) ssl->set_hostname_addr_map({{sni, host_}});
    ssl->enable_server_certificate_verification(!config_.insecure_skip_tls_verify);
    if (!m.ca.empty()) {
      X509_STORE* store = X509_STORE_new();
      for (X509* ca : m.ca) X509_STORE_add_cert(store, ca);  // takes a reference, parses nothing
      ssl->set_ca_cert_store(store);                         // the SSL context takes ownership
      // That CA only, as client-go: given no path of its own, cpp-httplib adds the system's default
      // trust store to the context's at the first handshake — every public CA trusted for a cluster
      // that named its own, and ~140 certificates parsed per connection (about 1 MiB each time).
      ssl->set_ca_cert_path("", kNoCertificates);
    }
    // An idle connection (pooled, or a watch between events) gives its TLS buffers back.
    SSL_CTX_set_mode(ssl->ssl_context(), SSL_MODE_RELEASE_BUFFERS);
    cli = std::move(ssl);
  }
  cli->set_keep_alive(true);
  cli->set_tcp_nodelay(true);
  cli->set_connection_timeout(std::chrono::duration_cast<std::chrono::seconds>(options_.timeout).count());
  cli->set_read_timeout(read_timeout.count());
  cli->set_write_timeout(options_.timeout.count());
  return cli;
}

std::unique_ptr<httplib::ClientImpl> Client::Acquire() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!idle_.empty()) {
      auto c = std::move(idle_.back());
      idle_.pop_back();
      return c;
    }
  }
  auto c = NewConnection(options_.timeout);
  return c.ok() ? std::move(*c) : nullptr;  // Create() validated the material already
}

void Client::Release(std::unique_ptr<httplib::ClientImpl> c) {
  std::lock_guard<std::mutex> lock(mu_);
  if (c && idle_.size() < 8) idle_.push_back(std::move(c));
}

std::string Client::PrefixFor(const std::string& path) const {
  // A kcp kubeconfig points at one workspace (https://host/clusters/root); a path that names its own
  // logical cluster replaces that part of the prefix (kcp's cluster-aware clients do the same).
  if (!StartsWith(path, "/clusters/")) return path_prefix_;
  const auto at = path_prefix_.find("/clusters/");
  return at == std::string::npos ? path_prefix_ : path_prefix_.substr(0, at);
}

std::string Client::Token() {
  std::lock_guard<std::mutex> lock(mu_);
  if (config_.token_file.empty()) return config_.token;
  const auto now = SteadyClock::now();
  if (token_.empty() || token_stale_ || now - token_read_ > std::chrono::minutes(1)) {  // rotated tokens are re-read
    token_stale_ = false;
    std::ifstream in(config_.token_file);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string t(Trim(ss.str()));
    token_ = t.empty() ? config_.token : t;
    token_read_ = now;
  }
  return token_;
}

bool Client::TokenRotated() {
  if (config_.token_file.empty()) return false;
  const std::string before = Token();
  {
    std::lock_guard<std::mutex> lock(mu_);
    token_stale_ = true;
  }
  return Token() != before;
}

Status Client::Prepare(httplib::Request& req, const std::string& method, const std::string& path) {
  req.method = method;
  req.path = PrefixFor(path) + path;
  req.headers = {{"Accept", "application/json"}, {"User-Agent", options_.user_agent}};
  const std::string t = Token();
  if (t.empty()) return Status::Ok();
  if (std::string why = TokenProblem(t); !why.empty())
    return BadRequest("the bearer token " + why);  // a file holds anything
  req.headers.emplace("Authorization", "Bearer " + t);
  return Status::Ok();
}

Result<Client::Response> Client::DoOnce(const std::string& method, const std::string& path, const std::string& body,
                                        const std::string& content_type, int& retry_after) {
  auto cli = Acquire();
  if (!cli) return Status(Reason::kServiceUnavailable, "cannot create a connection to " + config_.server);
  httplib::Request req;
  TMCD_TRY(Prepare(req, method, path));
  // The request is part of the caller's trace, and tells the server so (docs/design/tracing.md).
  observability::Span span("HTTP " + method, observability::SpanKind::kClient);
  if (span.context().valid()) req.headers.emplace("traceparent", observability::FormatTraceparent(span.context()));
  if (span.recording()) {
    span.SetAttribute("http.request.method", method);
    span.SetAttribute("server.address", host_);
    span.SetAttribute("server.port", int64_t{port_});
    span.SetAttribute("url.path", req.path.substr(0, req.path.find('?')));
  }
  if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH") {
    req.body = body;
    req.headers.emplace("Content-Type", content_type);
  }
  // The body is collected here, bounded: a server (a registered cluster is not trusted) could
  // otherwise make tmcd buffer any amount.
  std::string body_in;
  bool too_large = false;
  req.content_receiver = [&](const char* data, size_t len, uint64_t, uint64_t) {
    too_large = body_in.size() + len > options_.max_response_bytes;
    if (!too_large) body_in.append(data, len);
    return !too_large;
  };
  auto res = cli->send(req);
  if (too_large) {
    return Status(Reason::kBadRequest, "the response of " + method + " " + req.path + " is larger than " +
                                           std::to_string(options_.max_response_bytes >> 20) + " MiB");
  }
  if (!res) {
    const bool tls_error =
        res.error() == httplib::Error::SSLServerVerification || res.error() == httplib::Error::SSLConnection;
    span.SetError(TransportError(res.error(), *cli));
    return Status(tls_error ? Reason::kBadRequest : Reason::kServiceUnavailable,
                  TransportError(res.error(), *cli) + " (" + method + " " + (tls_ ? "https://" : "http://") + host_ +
                      ":" + std::to_string(port_) + req.path + ")");
  }
  span.SetAttribute("http.response.status_code", int64_t{res->status});
  if (res->status >= 400) span.SetError("HTTP " + std::to_string(res->status));
  Response out{res->status, std::move(body_in)};
  retry_after = res->has_header("Retry-After") ? std::atoi(res->get_header_value("Retry-After").c_str()) : -1;
  Release(std::move(cli));
  return out;
}

Result<Client::Response> Client::Do(const std::string& method, const std::string& path, const std::string& body,
                                    const std::string& content_type) {
  // Reads may be repeated safely: a 5xx or a broken connection without a Retry-After hint is
  // retried a few times with a short exponential backoff. Writes are retried only when the server
  // says when (client-go's rule), since a lost answer may hide a write that happened.
  const bool idempotent = method == "GET" && options_.retry_reads;
  Backoff backoff(Backoff::Options{Millis(100), 2.0, Millis(2000), 0.5, Millis(60000)});
  int blind_retries = 0;
  bool token_retried = false;
  for (int attempt = 0;; ++attempt) {
    std::this_thread::sleep_for(limiter_.Reserve(SteadyClock::now()));
    if (options_.fail_fast) {
      if (auto why = breaker_.Admit(SteadyClock::now())) {
        return Status(Reason::kServiceUnavailable, "transport: failing fast, the last request failed: " + *why);
      }
    }
    int retry_after = -1;
    auto r = DoOnce(method, path, body, content_type, retry_after);
    const bool transport_error = !r.ok() && r.status().reason() == Reason::kServiceUnavailable;
    if (options_.fail_fast) {
      // Any request without an HTTP answer, a TLS handshake that hung included (a BadRequest here).
      if (!r.ok() && IsTransportError(r.status())) {
        breaker_.Failed(SteadyClock::now(), r.status().message());
        WakeProber();
      } else if (r.ok() && breaker_.Succeeded() && on_breaker_closed_) {
        on_breaker_closed_();
      }
    }
    if (r.ok() && r->code >= 200 && r->code < 300) return r;
    if (!r.ok() && !transport_error) return r.status();
    const int code = r.ok() ? r->code : 0;
    if (code == 401 && !token_retried && TokenRotated()) {
      token_retried = true;  // the token file was rotated since it was last read: use the new one
      continue;
    }
    if ((code == 429 || code >= 500) && retry_after >= 0 && attempt < options_.max_retries) {
      std::this_thread::sleep_for(std::chrono::seconds(std::min(retry_after, 30)));
      continue;
    }
    if (idempotent && (transport_error || code >= 500) && blind_retries < kBlindRetries) {
      ++blind_retries;
      std::this_thread::sleep_for(backoff.Next(SteadyClock::now()));
      continue;
    }
    return r.ok() ? Result<Response>(DecodeStatus(r->code, r->body)) : r;
  }
}

Result<Json> Client::DecodeObject(Result<Response> r) {
  if (!r.ok()) return r.status();
  if (r->body.empty()) return Json::object();
  if (JsonTooDeep(r->body)) return Internal("the server answered with JSON nested deeper than tmcd accepts");
  Json doc = Json::parse(r->body, nullptr, false);
  if (doc.is_discarded()) return Internal("the server answered with a body that is not JSON");
  return doc;
}

Result<Json> Client::Get(const ResourceRef& r, std::string_view name, std::string_view subresource) {
  return DecodeObject(Do("GET", r.Path(name, subresource), "", ""));
}

Result<Json> Client::GetPath(const std::string& path) {
  return DecodeObject(Do("GET", path, "", ""));
}

Result<ObjectList> Client::List(const ResourceRef& r, const ListOptions& o) {
  std::string path = r.Path();
  AddParam(path, "labelSelector", o.label_selector);
  AddParam(path, "fieldSelector", o.field_selector);
  AddParam(path, "resourceVersion", o.resource_version);
  AddParam(path, "limit", o.limit > 0 ? std::to_string(o.limit) : "");
  AddParam(path, "continue", o.continue_token);
  TMCD_ASSIGN_OR_RETURN(Json doc, DecodeObject(Do("GET", path, "", "")));
  ObjectList out;
  if (doc.contains("items") && doc["items"].is_array()) {
    out.items.reserve(doc["items"].size());
    for (auto& item : doc["items"]) out.items.push_back(std::move(item));
  }
  if (doc.contains("metadata") && doc["metadata"].is_object()) {
    out.resource_version = doc["metadata"].value("resourceVersion", "");
    out.continue_token = doc["metadata"].value("continue", "");
  }
  return out;
}

Result<ObjectList> Client::ListAll(const ResourceRef& r, ListOptions o) {
  if (o.limit == 0) o.limit = 500;
  ObjectList all;
  while (true) {
    TMCD_ASSIGN_OR_RETURN(ObjectList page, List(r, o));
    for (auto& item : page.items) all.items.push_back(std::move(item));
    if (all.items.size() > options_.max_list_items) {
      return Status(Reason::kBadRequest, "the list of " + r.resource + " has more than " +
                                             std::to_string(options_.max_list_items) + " items");
    }
    all.resource_version = page.resource_version;  // the list's snapshot, the same on every page
    if (page.continue_token.empty()) return all;
    o.continue_token = page.continue_token;
    o.resource_version.clear();  // a continue token carries its own snapshot
  }
}

Result<Json> Client::Create(const ResourceRef& r, const Json& obj) {
  return DecodeObject(Do("POST", r.Path(), obj.dump(), "application/json"));
}

Result<Json> Client::Update(const ResourceRef& r, const Json& obj, std::string_view subresource) {
  const std::string name = obj.contains("metadata") ? obj["metadata"].value("name", "") : "";
  if (name.empty()) return BadRequest("an update needs metadata.name");
  return DecodeObject(Do("PUT", r.Path(name, subresource), obj.dump(), "application/json"));
}

Result<Json> Client::Patch(const ResourceRef& r, std::string_view name, PatchType type, const Json& patch,
                           std::string_view subresource) {
  const char* ct = type == PatchType::kMerge ? "application/merge-patch+json" : "application/json-patch+json";
  return DecodeObject(Do("PATCH", r.Path(name, subresource), patch.dump(), ct));
}

Result<Json> Client::Apply(const ResourceRef& r, std::string_view name, const Json& obj, std::string_view field_manager,
                           bool force, std::string_view subresource) {
  if (field_manager.empty()) return BadRequest("server-side apply needs a field manager");
  std::string path = r.Path(name, subresource);
  AddParam(path, "fieldManager", field_manager);
  if (force) AddParam(path, "force", "true");
  return DecodeObject(Do("PATCH", path, obj.dump(), "application/apply-patch+yaml"));
}

Status Client::Delete(const ResourceRef& r, std::string_view name, const DeleteOptions& o) {
  return DeleteCompleted(r, name, o).status();
}

Result<bool> Client::DeleteCompleted(const ResourceRef& r, std::string_view name, const DeleteOptions& o) {
  Json body = {{"kind", "DeleteOptions"}, {"apiVersion", "v1"}};
  if (!o.propagation_policy.empty()) body["propagationPolicy"] = o.propagation_policy;
  if (!o.precondition_uid.empty()) body["preconditions"]["uid"] = o.precondition_uid;
  if (!o.precondition_resource_version.empty()) {
    body["preconditions"]["resourceVersion"] = o.precondition_resource_version;
  }
  TMCD_ASSIGN_OR_RETURN(auto res, Do("DELETE", r.Path(name), body.dump(), "application/json"));
  const Json answer = Json::parse(res.body, nullptr, false);
  return answer.is_object() && answer.value("kind", "") == "Status" && answer.value("status", "") == "Success";
}

}  // namespace tmcd::kube
