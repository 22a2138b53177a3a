// The HTTP server's TLS and Unix socket listeners end to end: a real OpenSSL client, certificates
// from tmcd's PKI, what the handler learns about the peer, rotation, and what TLS refuses.
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <mutex>

#include "net/http_server.h"
#include "net/test_server.h"
#include "net/tls.h"
#include "security/pki.h"
#include "store/temp_store.h"

namespace tmcd::security {
namespace {

using std::chrono::hours;

int Connect(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);  // NOLINT: sockets API
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  return fd;
}

struct Reply {
  bool handshake = false;
  std::string body;
  std::string server_cn;
};

// One GET over TLS, trusting `ca_pem`, presenting `client` when given.
Reply TlsGet(int port, const std::string& ca_pem, const KeyPair* client, int max_version = 0) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (max_version != 0) SSL_CTX_set_max_proto_version(ctx, max_version);
  BIO* bio = BIO_new_mem_buf(ca_pem.data(), static_cast<int>(ca_pem.size()));
  X509* ca = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), ca);
  X509_free(ca);
  BIO_free(bio);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  if (client != nullptr) {
    BIO* cb = BIO_new_mem_buf(client->cert_pem.data(), static_cast<int>(client->cert_pem.size()));
    X509* cert = PEM_read_bio_X509(cb, nullptr, nullptr, nullptr);
    BIO* kb = BIO_new_mem_buf(client->key_pem.data(), static_cast<int>(client->key_pem.size()));
    EVP_PKEY* key = PEM_read_bio_PrivateKey(kb, nullptr, nullptr, nullptr);
    SSL_CTX_use_certificate(ctx, cert);
    SSL_CTX_use_PrivateKey(ctx, key);
    X509_free(cert);
    EVP_PKEY_free(key);
    BIO_free(cb);
    BIO_free(kb);
  }
  const int fd = Connect(port);
  SSL* ssl = SSL_new(ctx);
  SSL_set_fd(ssl, fd);
  Reply out;
  out.handshake = SSL_connect(ssl) == 1;
  if (out.handshake) {
    X509* peer = SSL_get1_peer_certificate(ssl);
    char cn[256] = {};
    X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, cn, sizeof(cn));
    out.server_cn = cn;
    X509_free(peer);
    const std::string req = "GET /who HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    SSL_write(ssl, req.data(), static_cast<int>(req.size()));
    char buf[4096];
    for (int n = 0; (n = SSL_read(ssl, buf, sizeof(buf))) > 0;) out.body.append(buf, static_cast<size_t>(n));
  }
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  ::close(fd);
  ERR_clear_error();
  return out;
}

std::string Write(const std::string& dir, const std::string& name, const std::string& text) {
  std::ofstream(dir + "/" + name) << text;
  return dir + "/" + name;
}

// A server whose handler answers with what it knows about the peer (net::testing::TestServer).
net::HttpResponse EchoPeer(const net::HttpRequest& req) {
  net::HttpResponse res;
  const auto& p = *req.peer;
  std::string text = "transport=" + std::to_string(static_cast<int>(p.transport)) +
                     " cert=" + (p.has_client_cert ? "yes" : "no") +
                     " verified=" + (p.client_cert_verified ? "yes" : "no") + " cn=" + p.client_cert_cn +
                     " error=" + p.client_cert_error + " uid=" + std::to_string(p.uid);
  for (const auto& org : p.client_cert_orgs) text += " o=" + org;
  res.SetContent(text, "text/plain");
  return res;
}

struct PeerEcho : net::testing::TestServer {
  explicit PeerEcho(net::HttpServerOptions o) : TestServer(EchoPeer, std::move(o)) {}
};

TEST_CASE("TLS: client certificates reach the handler verified or with the reason they are not") {
  store::testing::TempDir dir;
  auto ca = CreateCa("ca", hours(24));
  REQUIRE(ca.ok());
  CertSpec s{"tmcd", {}, {"localhost", "127.0.0.1"}, true, false, hours(24)};
  auto serving = Issue(*ca, s);
  REQUIRE(serving.ok());
  net::TlsFiles files{Write(dir.path(), "s.crt", serving->cert_pem), Write(dir.path(), "s.key", serving->key_pem),
                      Write(dir.path(), "ca.crt", ca->cert_pem)};
  auto ctx = net::TlsContext::Load(files);
  REQUIRE(ctx.ok());
  net::HttpServerOptions o;
  o.tls = *ctx;
  PeerEcho echo(o);

  auto alice = Issue(*ca, {"alice", {"tenants", "devs"}, {}, false, true, hours(1)});
  auto r = TlsGet(echo.port, ca->cert_pem, &*alice);
  REQUIRE(r.handshake);
  CHECK(r.server_cn == "tmcd");
  CHECK(r.body.find("transport=1 cert=yes verified=yes cn=alice error= uid=0 o=tenants o=devs") != std::string::npos);

  auto none = TlsGet(echo.port, ca->cert_pem, nullptr);
  CHECK(none.body.find("cert=no verified=no") != std::string::npos);

  auto expired = Issue(*ca, {"old", {}, {}, false, true, hours(-1)});
  CHECK(TlsGet(echo.port, ca->cert_pem, &*expired).body.find("verified=no cn=old error=certificate has expired") !=
        std::string::npos);

  auto other_ca = CreateCa("other", hours(24));
  auto foreign = Issue(*other_ca, {"mallory", {"system:masters"}, {}, false, true, hours(1)});
  const auto f = TlsGet(echo.port, ca->cert_pem, &*foreign);
  CHECK(f.body.find("verified=no cn=mallory") != std::string::npos);

  // A serving certificate is no client certificate (extended key usage).
  CHECK(TlsGet(echo.port, ca->cert_pem, &*serving).body.find("verified=no") != std::string::npos);

  // TLS 1.1 and plain HTTP are refused.
  CHECK_FALSE(TlsGet(echo.port, ca->cert_pem, nullptr, TLS1_1_VERSION).handshake);
  const int fd = Connect(echo.port);
  const std::string plain = "GET /who HTTP/1.1\r\nHost: x\r\n\r\n";
  REQUIRE(::send(fd, plain.data(), plain.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(plain.size()));
  char buf[256];
  const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
  CHECK(std::string(buf, n > 0 ? static_cast<size_t>(n) : 0).find("transport=") == std::string::npos);
  ::close(fd);

  // Rotation: new connections get the new certificate, the server keeps running.
  auto rotated = Issue(*ca, {"tmcd-rotated", {}, {"localhost", "127.0.0.1"}, true, false, hours(24)});
  net::TlsFiles next{Write(dir.path(), "r.crt", rotated->cert_pem), Write(dir.path(), "r.key", rotated->key_pem),
                     files.client_ca_file};
  echo.server->SetTls(*net::TlsContext::Load(next));
  CHECK(TlsGet(echo.port, ca->cert_pem, &*alice).server_cn == "tmcd-rotated");
  echo.server->Stop(std::chrono::milliseconds(100));
}

TEST_CASE("TLS files that do not fit are clear errors") {
  store::testing::TempDir dir;
  auto ca = CreateCa("ca", hours(24));
  auto a = Issue(*ca, {"a", {}, {"localhost"}, true, false, hours(1)});
  auto b = Issue(*ca, {"b", {}, {"localhost"}, true, false, hours(1)});
  const std::string crt = Write(dir.path(), "a.crt", a->cert_pem);
  auto mismatch = net::TlsContext::Load({crt, Write(dir.path(), "b.key", b->key_pem), ""});
  CHECK(mismatch.status().message().find("does not match") != std::string::npos);
  CHECK(net::TlsContext::Load({dir.path() + "/missing.crt", crt, ""}).status().message().find("missing.crt") !=
        std::string::npos);
}

TEST_CASE("the Unix socket listener: its mode, the peer's credentials, a stale socket replaced") {
  store::testing::TempDir dir;
  const std::string path = dir.path() + "/api.sock";
  ::close(::socket(AF_UNIX, SOCK_STREAM, 0));
  net::HttpServerOptions o;
  o.tcp = false;
  o.unix_path = path;
  {
    PeerEcho first(o);  // leaves a socket file behind when it is destroyed without Stop
  }
  PeerEcho echo(o);
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0660);
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);  // NOLINT: sockets API
  const std::string req = "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  REQUIRE(::send(fd, req.data(), req.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(req.size()));
  std::string got;
  char buf[1024];
  for (ssize_t n = 0; (n = ::recv(fd, buf, sizeof(buf), 0)) > 0;) got.append(buf, static_cast<size_t>(n));
  ::close(fd);
  CHECK(got.find("transport=2 cert=no verified=no cn= error= uid=" + std::to_string(::getuid())) != std::string::npos);
  echo.server->Stop(std::chrono::milliseconds(100));
  CHECK(::access(path.c_str(), F_OK) != 0);  // removed on stop

  std::ofstream(path) << "not a socket";
  net::HttpServer refused(
      o, [](const net::HttpRequest&) { return net::HttpResponse{}; },
      [](int, const std::string&) { return net::HttpResponse{}; });
  CHECK(refused.Start().status().message().find("exists and is not a socket") != std::string::npos);
}

}  // namespace
}  // namespace tmcd::security
