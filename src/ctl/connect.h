#pragma once
// How tmcctl reaches tmcd or kcp (docs/tmcctl.md "Connecting"): kubectl's flags and kubeconfig
// rules, plus tmcd's Unix socket and kcp workspace paths. Whatever authentication the server asks
// for is sent unmodified (bearer token, client certificate, or the socket's peer credentials).

#include <memory>
#include <string>

#include "common/status.h"
#include "kube/client.h"

namespace tmcd::ctl {

struct ConnectFlags {
  std::string kubeconfig;  // --kubeconfig; else $KUBECONFIG (its first file); else ~/.kube/config
  std::string context;
  std::string server;  // https://..., or unix:///path
  std::string socket;  // --socket PATH: tmcd's Unix socket
  std::string token;
  std::string client_certificate;  // files
  std::string client_key;
  std::string certificate_authority;
  bool insecure_skip_tls_verify = false;
  std::string workspace;  // kcp logical-cluster path ("root:org:team"); "" = the server's own
  int request_timeout_seconds = 30;
};

struct Connection {
  std::unique_ptr<kube::Client> client;
  std::string workspace;  // for ResourceRef.cluster
  std::string where;      // the server URL or socket, for messages
};

// Resolves the flags in kubectl's order: --socket; else a kubeconfig (explicit, $KUBECONFIG, or
// ~/.kube/config unless --server was given) with the flags overriding its fields; else --server;
// else $TMCD_SOCKET or a tmcd socket in its default places (/run/tmcd/tmcd.sock,
// /var/lib/tmcd/tmcd.sock). A wrong file, context or workspace is an error naming it.
Result<Connection> Connect(const ConnectFlags& f);
// A kcp workspace path: "root" or "root:a:b", segments of lower-case letters, digits and '-'.
bool ValidWorkspacePath(std::string_view ws);

}  // namespace tmcd::ctl
