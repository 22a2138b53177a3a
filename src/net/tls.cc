#include "net/tls.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <array>
#include <ctime>

namespace tmcd::net {
namespace {

std::string OpenSslError() {
  std::string out;
  for (unsigned long e = ERR_get_error(); e != 0; e = ERR_get_error()) {
    std::array<char, 256> buf{};
    ERR_error_string_n(e, buf.data(), buf.size());
    if (!out.empty()) out += "; ";
    out += buf.data();
  }
  return out.empty() ? "unknown OpenSSL error" : out;
}

// Accepts every chain during the handshake; the verdict is read afterwards with
// SSL_get_verify_result and turned into a 401 by the authenticator.
int AcceptAnyChain(int /*preverify_ok*/, X509_STORE_CTX* /*ctx*/) {
  return 1;
}

std::string NameEntries(X509_NAME* name, int nid, std::vector<std::string>* all) {
  std::string first;
  for (int i = X509_NAME_get_index_by_NID(name, nid, -1); i >= 0; i = X509_NAME_get_index_by_NID(name, nid, i)) {
    const ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
    unsigned char* utf8 = nullptr;
    const int len = ASN1_STRING_to_UTF8(&utf8, data);
    if (len < 0) continue;
    std::string v(reinterpret_cast<char*>(utf8), static_cast<size_t>(len));  // NOLINT: OpenSSL API
    OPENSSL_free(utf8);
    if (first.empty()) first = v;
    if (all != nullptr) all->push_back(v);
  }
  return first;
}

std::string NotAfter(X509* cert) {
  std::tm tm{};
  if (ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm) != 1) return "?";
  std::array<char, 32> buf{};
  std::strftime(buf.data(), buf.size(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf.data();
}

}  // namespace

Result<std::shared_ptr<TlsContext>> TlsContext::Load(const TlsFiles& files) {
  ERR_clear_error();
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (ctx == nullptr) return Internal("cannot create a TLS context: " + OpenSslError());
  std::shared_ptr<TlsContext> out(new TlsContext(ctx));  // owns ctx from here on
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(
      ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_NO_TICKET | SSL_OP_CIPHER_SERVER_PREFERENCE);
  // TLS 1.2: ECDHE with AEAD only (TLS 1.3's suites are all AEAD with forward secrecy).
  SSL_CTX_set_cipher_list(ctx,
                          "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
                          "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
                          "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305");
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  if (SSL_CTX_use_certificate_chain_file(ctx, files.cert_file.c_str()) != 1) {
    return Invalid("TLS certificate " + files.cert_file + ": " + OpenSslError());
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, files.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    const std::string why = OpenSslError();
    if (why.find("mismatch") != std::string::npos) {
      return Invalid("TLS key " + files.key_file + " does not match the certificate " + files.cert_file);
    }
    return Invalid("TLS key " + files.key_file + ": " + why);
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    return Invalid("TLS key " + files.key_file + " does not match the certificate " + files.cert_file);
  }
  if (!files.client_ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(ctx, files.client_ca_file.c_str(), nullptr) != 1) {
      return Invalid("client CA " + files.client_ca_file + ": " + OpenSslError());
    }
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(files.client_ca_file.c_str());
    if (names == nullptr) return Invalid("client CA " + files.client_ca_file + ": no certificate in it");
    SSL_CTX_set_client_CA_list(ctx, names);  // takes ownership
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, AcceptAnyChain);
    SSL_CTX_set_verify_depth(ctx, 4);
  }
  X509* leaf = SSL_CTX_get0_certificate(ctx);
  out->description_ = "CN=" + NameEntries(X509_get_subject_name(leaf), NID_commonName, nullptr) + ", expires " +
                      NotAfter(leaf) + (files.client_ca_file.empty() ? "" : ", client CA " + files.client_ca_file);
  if (std::tm tm{}; ASN1_TIME_to_tm(X509_get0_notAfter(leaf), &tm) == 1) out->not_after_ = timegm(&tm);
  return out;
}

TlsContext::~TlsContext() {
  SSL_CTX_free(ctx_);
}

TlsConn::TlsConn(const TlsContext& ctx, int fd) : ssl_(SSL_new(ctx.get())) {
  if (ssl_ == nullptr) return;
  SSL_set_fd(ssl_, fd);
  SSL_set_accept_state(ssl_);
}

TlsConn::~TlsConn() {
  if (ssl_ == nullptr) return;
  if (SSL_is_init_finished(ssl_) == 1) {
    SSL_set_quiet_shutdown(ssl_, 0);
    (void)SSL_shutdown(ssl_);  // one non-blocking attempt: close_notify, no wait for the peer's
  }
  SSL_free(ssl_);
  ERR_clear_error();
}

bool TlsConn::handshake_done() const {
  return ssl_ != nullptr && SSL_is_init_finished(ssl_) == 1;
}

TlsConn::Io TlsConn::Result(int rc, size_t& n) {
  wants_write_ = false;
  wants_read_ = false;
  if (rc > 0) {
    n = static_cast<size_t>(rc);
    return Io::kOk;
  }
  switch (SSL_get_error(ssl_, rc)) {
    case SSL_ERROR_WANT_READ:
      wants_read_ = true;
      return Io::kAgain;
    case SSL_ERROR_WANT_WRITE:
      wants_write_ = true;
      return Io::kAgain;
    case SSL_ERROR_ZERO_RETURN:
      return Io::kEof;
    default:
      ERR_clear_error();  // a failed handshake (plain HTTP on the TLS port, a bad record): close
      return Io::kError;
  }
}

TlsConn::Io TlsConn::Read(char* buf, size_t cap, size_t& n) {
  ERR_clear_error();
  return Result(SSL_read(ssl_, buf, static_cast<int>(std::min<size_t>(cap, 1 << 30))), n);
}

TlsConn::Io TlsConn::Write(const char* data, size_t len, size_t& n) {
  ERR_clear_error();
  return Result(SSL_write(ssl_, data, static_cast<int>(std::min<size_t>(len, 1 << 30))), n);
}

void TlsConn::FillPeer(PeerInfo& peer) const {
  peer.transport = PeerInfo::Transport::kTls;
  X509* cert = SSL_get1_peer_certificate(ssl_);
  if (cert == nullptr) return;
  peer.has_client_cert = true;
  const long verdict = SSL_get_verify_result(ssl_);
  peer.client_cert_verified = verdict == X509_V_OK;
  if (!peer.client_cert_verified) peer.client_cert_error = X509_verify_cert_error_string(verdict);
  X509_NAME* subject = X509_get_subject_name(cert);
  peer.client_cert_cn = NameEntries(subject, NID_commonName, nullptr);
  NameEntries(subject, NID_organizationName, &peer.client_cert_orgs);
  X509_free(cert);
}

}  // namespace tmcd::net
