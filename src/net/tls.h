#pragma once
// TLS for tmcd's epoll HTTP server (docs/design/http-server.md, docs/security.md): a server context
// (certificate, key, optional client CA) and non-blocking record I/O over one connection's socket.
//
// A context is immutable once loaded; a reload (SIGHUP, changed files) builds a new one and the
// server hands it to new connections only, so open connections keep the certificate they were
// accepted with. Client certificates are requested when a client CA is configured and are never a
// reason to fail the handshake: a missing, expired or foreign certificate is reported in PeerInfo
// and the authenticator answers 401 (the kube-apiserver's behaviour, so clients get a Status body).
//
// Protocol floor: TLS 1.2, AEAD cipher suites with forward secrecy only, no renegotiation, no
// compression, no session tickets (no long-lived ticket key to protect).
//
// Thread-safety: TlsContext is immutable and shared; a TlsConn belongs to the I/O thread.

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>

#include "common/status.h"
#include "net/http_message.h"

struct ssl_st;      // OpenSSL's SSL
struct ssl_ctx_st;  // OpenSSL's SSL_CTX

namespace tmcd::net {

struct TlsFiles {
  std::string cert_file;       // PEM certificate chain, leaf first
  std::string key_file;        // PEM private key
  std::string client_ca_file;  // PEM CA bundle for client certificates ("" = none requested)
};

class TlsContext {
 public:
  // Reads and checks the files (the key must match the certificate); errors name the file.
  static Result<std::shared_ptr<TlsContext>> Load(const TlsFiles& files);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  ssl_ctx_st* get() const { return ctx_; }
  // "CN=..., expires 2027-11-29T10:00:00Z" for logs.
  const std::string& Describe() const { return description_; }
  // The leaf certificate's notAfter, seconds since the epoch (0 if unreadable).
  int64_t NotAfterUnix() const { return not_after_; }

 private:
  explicit TlsContext(ssl_ctx_st* ctx) : ctx_(ctx) {}
  ssl_ctx_st* ctx_;
  std::string description_;
  int64_t not_after_ = 0;
};

// One server-side TLS connection over a non-blocking socket the caller owns.
class TlsConn {
 public:
  enum class Io { kOk, kAgain, kEof, kError };
  TlsConn(const TlsContext& ctx, int fd);
  ~TlsConn();  // sends close_notify when the handshake finished (best effort, never blocks)
  TlsConn(const TlsConn&) = delete;
  TlsConn& operator=(const TlsConn&) = delete;

  bool valid() const { return ssl_ != nullptr; }
  // Reads decrypted bytes (the handshake runs inside the first reads). kOk sets `n`.
  Io Read(char* buf, size_t cap, size_t& n);
  // Writes up to `len` bytes; kOk sets `n` (may be less than len).
  Io Write(const char* data, size_t len, size_t& n);
  // TLS sometimes needs the socket writable to make read progress (handshake flights) or readable
  // to make write progress; the server adds the matching epoll interest while this is true.
  bool wants_write() const { return wants_write_; }
  bool wants_read() const { return wants_read_; }
  bool handshake_done() const;
  // After the handshake: the client certificate, whether it verified against the client CA, its
  // CN and O values (the kube-apiserver's user and groups).
  void FillPeer(PeerInfo& peer) const;

 private:
  Io Result(int rc, size_t& n);
  ssl_st* ssl_ = nullptr;
  bool wants_write_ = false;
  bool wants_read_ = false;
};

}  // namespace tmcd::net
