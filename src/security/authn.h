#pragma once
// Authentication of local API requests, in the kube-apiserver's conventions (docs/security.md):
//   1. x509 client certificate verified against the client CA: CN = user, O = groups;
//   2. bearer token from the token file (kube's --token-auth-file CSV: token,user,uid,"g1,g2");
//      only SHA-256 digests are kept in memory (a file line may also hold "sha256:<hex>" instead of
//      the token), compared in constant time; the file is re-read when it changes;
//   3. Unix socket peer credentials (SO_PEERCRED): root, tmcd's own uid and members of the admin
//      group are administrators (group system:masters); other local users are "unix:<login>".
// A presented but invalid credential (expired or foreign certificate, unknown token) is a 401,
// never a fall-back to a weaker method. No credential at all is the anonymous user, which the
// server lets through only for the configured anonymous paths.
// Thread-safe.

#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "common/status.h"
#include "net/http_message.h"

namespace tmcd::security {

inline constexpr std::string_view kGroupMasters = "system:masters";
inline constexpr std::string_view kGroupAuthenticated = "system:authenticated";
inline constexpr std::string_view kUserAnonymous = "system:anonymous";

struct UserInfo {
  std::string name;
  std::string uid;
  std::vector<std::string> groups;
  bool authenticated = false;
  std::string method;  // "x509", "token", "unix", "anonymous" (for the audit log)
  bool IsMaster() const;
};

struct AuthnOptions {
  std::string token_file;   // "" = no token authentication
  std::string admin_group;  // Unix group whose members are administrators on the socket ("" = none)
  uint32_t self_uid = 0;    // tmcd's own uid: an administrator on the socket
};

class Authenticator {
 public:
  explicit Authenticator(AuthnOptions options);
  // Loads the token file once (startup errors are fatal there, not at the first request).
  Status Init();
  // The user, or Unauthorized with the reason (the server answers 401 with a Status body).
  Result<UserInfo> Authenticate(const net::HttpRequest& req);
  size_t TokenCount();

 private:
  struct TokenEntry {
    std::string user;
    std::string uid;
    std::vector<std::string> groups;
  };
  Status LoadTokens();  // mu_ held
  void MaybeReload();
  Result<UserInfo> FromToken(std::string_view token);
  UserInfo FromUnix(const net::PeerInfo& peer) const;

  AuthnOptions options_;
  int64_t admin_gid_ = -1;
  std::mutex mu_;
  std::map<std::string, TokenEntry> tokens_;          // SHA-256 digest (raw) → entry; guarded by mu_
  std::string token_stamp_;                           // inode/size/mtime of the loaded file; guarded by mu_
  std::chrono::steady_clock::time_point next_check_;  // guarded by mu_
};

// One CSV record per line (RFC 4180 quoting, as kube's token file); blank lines and lines starting
// with '#' are skipped. Errors name the line.
Result<std::vector<std::vector<std::string>>> ParseCsv(std::string_view text);
std::string Sha256(std::string_view data);  // raw 32 bytes

}  // namespace tmcd::security
