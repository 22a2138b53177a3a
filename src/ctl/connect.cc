#include "ctl/connect.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/strings.h"
#include "kube/kubeconfig.h"

namespace tmcd::ctl {
namespace {

Result<std::string> ReadFile(const std::string& path, const std::string& flag) {
  std::ifstream in(path);
  if (!in) return BadRequest(flag + " " + Quote(path) + ": cannot be read");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string DefaultKubeconfig(const ConnectFlags& f) {
  if (!f.kubeconfig.empty()) return f.kubeconfig;
  // NOLINTNEXTLINE(concurrency-mt-unsafe): tmcctl reads its environment before any thread starts
  if (const char* env = std::getenv("KUBECONFIG"); env != nullptr && *env != '\0') {
    return Split(env, ':').front();
  }
  if (!f.server.empty()) return "";        // --server alone: do not send the user's default credentials elsewhere
  const char* home = std::getenv("HOME");  // NOLINT(concurrency-mt-unsafe): single-threaded here
  if (home == nullptr) return "";
  const std::string p = std::string(home) + "/.kube/config";
  return std::filesystem::exists(p) ? p : "";
}

std::string DefaultSocket() {
  // NOLINTNEXTLINE(concurrency-mt-unsafe): single-threaded here
  if (const char* env = std::getenv("TMCD_SOCKET"); env != nullptr && *env != '\0') return env;
  for (const char* p : {"/run/tmcd/tmcd.sock", "/var/lib/tmcd/tmcd.sock"}) {
    if (std::filesystem::is_socket(p)) return p;
  }
  return "";
}

Status ApplyFlags(const ConnectFlags& f, kube::RestConfig& rc) {
  if (!f.server.empty()) rc.server = f.server;
  if (!f.token.empty()) {
    rc.token = f.token;
    rc.token_file.clear();
  }
  if (!f.client_certificate.empty()) {
    TMCD_ASSIGN_OR_RETURN(rc.client_cert_pem, ReadFile(f.client_certificate, "--client-certificate"));
  }
  if (!f.client_key.empty()) {
    TMCD_ASSIGN_OR_RETURN(rc.client_key_pem, ReadFile(f.client_key, "--client-key"));
  }
  if (!f.certificate_authority.empty()) {
    TMCD_ASSIGN_OR_RETURN(rc.ca_pem, ReadFile(f.certificate_authority, "--certificate-authority"));
  }
  if (f.insecure_skip_tls_verify) rc.insecure_skip_tls_verify = true;
  return Status::Ok();
}

}  // namespace

bool ValidWorkspacePath(std::string_view ws) {
  if (ws.empty()) return false;
  for (const auto& seg : Split(ws, ':')) {
    if (seg.empty() || seg.front() == '-' || seg.back() == '-') return false;
    for (char c : seg) {
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
    }
  }
  return true;
}

Result<Connection> Connect(const ConnectFlags& f) {
  Connection conn;
  if (!f.workspace.empty() && !ValidWorkspacePath(f.workspace)) {
    return BadRequest("--workspace " + Quote(f.workspace) +
                      ": not a workspace path (segments of a-z, 0-9 and '-', joined by ':', e.g. root:org:team)");
  }
  conn.workspace = f.workspace;
  kube::RestConfig rc;
  const std::string kubeconfig = f.socket.empty() ? DefaultKubeconfig(f) : "";
  if (!f.socket.empty()) {
    rc.server = "unix://" + std::filesystem::absolute(f.socket).string();
  } else if (!kubeconfig.empty()) {
    auto loaded = kube::LoadKubeconfig(kubeconfig, f.context);
    if (!loaded.ok()) return loaded.status();
    rc = std::move(*loaded);
  } else if (f.server.empty()) {
    const std::string sock = DefaultSocket();
    if (sock.empty()) {
      return Status(Reason::kServiceUnavailable,
                    "no server to talk to: no --kubeconfig, $KUBECONFIG or ~/.kube/config, no --server, and no tmcd "
                    "socket at /run/tmcd/tmcd.sock or /var/lib/tmcd/tmcd.sock");
    }
    rc.server = "unix://" + sock;
  }
  if (f.socket.empty()) TMCD_TRY(ApplyFlags(f, rc));
  if (StartsWith(rc.server, "unix://") && access(rc.server.c_str() + 7, F_OK) != 0) {
    return Status(Reason::kServiceUnavailable, "cannot reach tmcd: no socket at " + Quote(rc.server.substr(7)));
  }
  conn.where = rc.server;
  kube::ClientOptions o;
  o.qps = 50;
  o.burst = 100;
  o.max_retries = 2;
  o.timeout = std::chrono::seconds(f.request_timeout_seconds);
  o.user_agent = "tmcctl/0.1";
  auto client = kube::Client::Create(std::move(rc), o);
  if (!client.ok()) return client.status();
  conn.client = std::move(*client);
  return conn;
}

}  // namespace tmcd::ctl
