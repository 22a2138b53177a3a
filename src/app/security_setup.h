#pragma once
// The daemon's side of security (docs/security.md): the data directory's permissions, the checks on
// files that hold secrets, tmcd's own PKI, the TLS files in use and their reloading, and the
// kubeconfigs `tmcd kubeconfig` issues. Main thread only.

#include <memory>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/status.h"
#include "net/tls.h"
#include "security/sealer.h"

namespace tmcd::app {

// umask 077, data directory 0700, every file below it 0600 and every directory 0700 (a data dir
// made by an older tmcd, or copied with a loose umask, is tightened at start).
Status SecureDataDir(const std::string& data_dir);
// Refuses a file that holds secrets when others may read or write it (the named config key says
// which file).
Status CheckPrivateFile(const std::string& path, const std::string& key);

// The TLS files in effect: the configured ones, or tmcd's own PKI (created or renewed here).
struct TlsSetup {
  net::TlsFiles files;
  bool own_pki = false;
  std::string pki_dir;
};
Result<TlsSetup> PrepareTls(const Config& c);
std::string UnixSocketPath(const Config& c);
std::string AuditLogPath(const Config& c);  // "" = no audit log

// Watches the TLS files for changes (inode, size, mtime) and reloads the context.
class TlsReloader {
 public:
  explicit TlsReloader(net::TlsFiles files) : files_(std::move(files)), stamp_(Stamp()) {}
  // A new context when the files changed since the last call (or `force`), nullptr otherwise.
  // A broken file keeps the previous context (error logged, retried after the next change).
  std::shared_ptr<net::TlsContext> Check(bool force);

 private:
  std::string Stamp() const;
  net::TlsFiles files_;
  std::string stamp_;
};

// The Secret sealer from encryption.keyFile; `auto` creates <dataDir>/encryption-keys.yaml on first
// use. Refuses a key file anyone but its owner may read.
Result<std::shared_ptr<security::KeyFileSealer>> PrepareSealer(const Config& c);
std::string KeyFilePath(const Config& c);
// The data directory's lock for commands that need tmcd stopped (the daemon holds it while it runs):
// the locked descriptor, held until it is closed or the process exits; -1 when another process holds it.
int TryLockDataDir(const std::string& data_dir);
// `tmcd encryption add-key|rewrite|status`: runs with the data directory locked (tmcd stopped).
int EncryptionCommand(const Config& c, const std::string& what);

struct KubeconfigRequest {
  std::string user;
  std::vector<std::string> groups;
  std::string server;  // "" = https://<listen address>
  std::chrono::hours validity{24 * 365};
};
// A kubeconfig with a client certificate from tmcd's own CA (the data dir's pki/), trusting the
// serving CA when tmcd's own certificate is in use.
Result<std::string> IssueKubeconfig(const Config& c, const KubeconfigRequest& r);

}  // namespace tmcd::app
