#pragma once
// kubeconfig loading (client-go's clientcmd v1 format, YAML or JSON): clusters, users and contexts;
// `*-data` fields (base64 PEM) and file references (relative to the kubeconfig's directory); bearer
// token or tokenFile; client certificate and key; CA; tls-server-name; insecure-skip-tls-verify;
// current-context or an explicit context. Every missing or malformed part is a clear error naming
// the file and the entry. Pure apart from reading the files it names; thread-compatible.

#include <string>
#include <string_view>

#include "common/status.h"

namespace tmcd::kube {

// Everything needed to reach one API server as one user (client-go's rest.Config subset).
struct RestConfig {
  std::string server;  // https://host:port[/path-prefix], e.g. a kcp workspace or virtual workspace URL
  std::string ca_pem;  // PEM bundle; empty = the system trust store
  bool insecure_skip_tls_verify = false;
  std::string tls_server_name;  // SNI and hostname check override
  std::string client_cert_pem;
  std::string client_key_pem;
  std::string token;       // bearer token (never logged)
  std::string token_file;  // re-read when set (rotating service-account tokens)
  std::string namespace_;  // the context's default namespace
  std::string context;     // the context this came from
};

// Loads `path`; `context` empty = current-context.
Result<RestConfig> LoadKubeconfig(const std::string& path, const std::string& context = "");
// Parses kubeconfig text; relative file references resolve against `base_dir`; `origin` names the
// source in errors.
Result<RestConfig> ParseKubeconfig(std::string_view text, const std::string& base_dir, const std::string& context = "",
                                   const std::string& origin = "kubeconfig");
// Parses a kubeconfig that came from an untrusted place (a Secret written through an API): every
// credential must be inline. File references (tokenFile, certificate-authority, client-certificate,
// client-key) and exec/auth-provider plugins are refused before anything is read, with a message
// that names the field but never the path or whether it exists (docs/security.md, outbound safety).
Result<RestConfig> ParseInlineKubeconfig(std::string_view text, const std::string& origin);
// A bearer token as an HTTP header value: no control characters (CR/LF would inject headers), at
// most 16 KiB. Returns why not, or "" when it is acceptable.
std::string TokenProblem(std::string_view token);

}  // namespace tmcd::kube
