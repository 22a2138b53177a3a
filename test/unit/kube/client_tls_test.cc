// The client's TLS trust against tmcd's own TLS server and PKI: a cluster that names its CA is
// verified against that CA only — not the system trust store as well (which cpp-httplib adds unless
// told otherwise); one that names none is verified against the system store. The "system store" is
// played by a CA of the test's own, through OpenSSL's SSL_CERT_FILE.
#include <doctest/doctest.h>
#include <stdlib.h>

#include <fstream>

#include "kube/client.h"
#include "net/test_server.h"
#include "net/tls.h"
#include "security/pki.h"
#include "store/temp_store.h"

namespace tmcd::kube {
namespace {

using std::chrono::hours;

std::string Write(const std::string& dir, const std::string& name, const std::string& text) {
  std::ofstream(dir + "/" + name) << text;
  return dir + "/" + name;
}

net::HttpResponse Version(const net::HttpRequest&) {
  net::HttpResponse res;
  res.SetContent(R"({"gitVersion":"v1.99.0"})", "application/json");
  return res;
}

Status GetVersion(const std::string& url, const std::string& ca_pem) {
  RestConfig rc;
  rc.server = url;
  rc.ca_pem = ca_pem;
  ClientOptions o;
  o.max_retries = 0;
  auto c = Client::Create(rc, o);
  if (!c.ok()) return c.status();
  auto v = (*c)->GetPath("/version");
  if (!v.ok()) return v.status();
  return (*v)["gitVersion"] == "v1.99.0" ? Status::Ok() : Status(Reason::kInternalError, v->dump());
}

TEST_CASE("a cluster's own CA is the only one trusted; no CA means the system trust store") {
  store::testing::TempDir dir;
  auto public_ca = security::CreateCa("a public CA", hours(24));  // in the "system store"
  auto cluster_ca = security::CreateCa("the cluster's CA", hours(24));
  REQUIRE(public_ca.ok());
  REQUIRE(cluster_ca.ok());
  // A server whose certificate a public CA issued (as an attacker in the middle could obtain one).
  auto serving = security::Issue(*public_ca, {"server", {}, {"localhost", "127.0.0.1"}, true, false, hours(24)});
  REQUIRE(serving.ok());
  net::TlsFiles files{Write(dir.path(), "s.crt", serving->cert_pem), Write(dir.path(), "s.key", serving->key_pem), ""};
  auto ctx = net::TlsContext::Load(files);
  REQUIRE(ctx.ok());
  net::HttpServerOptions so;
  so.tls = *ctx;
  net::testing::TestServer server(Version, so);
  const std::string url = "https://127.0.0.1:" + std::to_string(server.port);
  // Set before the clients that read it exist; the server thread never reads the environment.
  const std::string system_pem = Write(dir.path(), "system.pem", public_ca->cert_pem);
  REQUIRE(::setenv("SSL_CERT_FILE", system_pem.c_str(), 1) == 0);  // NOLINT(concurrency-mt-unsafe)
  REQUIRE(::setenv("SSL_CERT_DIR", dir.path().c_str(), 1) == 0);   // NOLINT(concurrency-mt-unsafe)

  // Named CA: the server's chain does not lead to it, whatever the system store holds.
  Status named = GetVersion(url, cluster_ca->cert_pem);
  CHECK_FALSE(named.ok());
  CHECK(named.message().find("certificate") != std::string::npos);
  // Again on a second connection of a fresh client (the store is set up per connection).
  CHECK_FALSE(GetVersion(url, cluster_ca->cert_pem).ok());
  // The CA that did issue it, named: trusted.
  Status right = GetVersion(url, public_ca->cert_pem);
  CHECK_MESSAGE(right.ok(), right.ToString());
  // No CA named: the system store decides, and it holds the issuer.
  Status system = GetVersion(url, "");
  CHECK_MESSAGE(system.ok(), system.ToString());
  ::unsetenv("SSL_CERT_FILE");  // NOLINT(concurrency-mt-unsafe)
  ::unsetenv("SSL_CERT_DIR");   // NOLINT(concurrency-mt-unsafe)
}

}  // namespace
}  // namespace tmcd::kube
