#include "security/authn.h"

#include <grp.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <pwd.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <algorithm>
#include <array>

#include "common/strings.h"
#include "security/pki.h"

namespace tmcd::security {
namespace {

constexpr auto kReloadCheck = std::chrono::seconds(1);

bool HexDecode(std::string_view hex, std::string& out) {
  if (hex.size() % 2 != 0) return false;
  out.clear();
  for (size_t i = 0; i < hex.size(); i += 2) {
    int v = 0;
    for (size_t j = 0; j < 2; ++j) {
      const char ch = hex[i + j];
      const int d = ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
      if (d < 0) return false;
      v = v * 16 + d;
    }
    out.push_back(static_cast<char>(v));
  }
  return true;
}

std::string FileStamp(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return "missing";
  return std::to_string(st.st_ino) + "/" + std::to_string(st.st_size) + "/" + std::to_string(st.st_mtim.tv_sec) + "." +
         std::to_string(st.st_mtim.tv_nsec);
}

std::string LoginName(uint32_t uid) {
  std::array<char, 4096> buf{};
  passwd pw{};
  passwd* found = nullptr;
  if (::getpwuid_r(uid, &pw, buf.data(), buf.size(), &found) == 0 && found != nullptr) return pw.pw_name;
  return "uid-" + std::to_string(uid);
}

bool InGroup(uint32_t uid, uint32_t primary_gid, int64_t gid) {
  if (gid < 0) return false;
  if (primary_gid == static_cast<uint32_t>(gid)) return true;
  std::array<char, 4096> buf{};
  passwd pw{};
  passwd* found = nullptr;
  if (::getpwuid_r(uid, &pw, buf.data(), buf.size(), &found) != 0 || found == nullptr) return false;
  std::array<gid_t, 256> groups{};
  int n = static_cast<int>(groups.size());
  if (::getgrouplist(pw.pw_name, pw.pw_gid, groups.data(), &n) < 0) return false;
  return std::find(groups.begin(), groups.begin() + n, static_cast<gid_t>(gid)) != groups.begin() + n;
}

Status Unauthorized(const std::string& why) {
  return {Reason::kUnauthorized, why};
}

}  // namespace

bool UserInfo::IsMaster() const {
  return std::find(groups.begin(), groups.end(), kGroupMasters) != groups.end();
}

std::string Sha256(std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md.data(), &len, EVP_sha256(), nullptr);
  return {reinterpret_cast<const char*>(md.data()), len};  // NOLINT: bytes
}

Result<std::vector<std::vector<std::string>>> ParseCsv(std::string_view text) {
  std::vector<std::vector<std::string>> rows;
  size_t line_no = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (Trim(line).empty() || Trim(line).front() == '#') continue;
    std::vector<std::string> fields(1);
    bool quoted = false;
    for (size_t i = 0; i < line.size(); ++i) {
      const char ch = line[i];
      if (quoted) {
        if (ch == '"' && i + 1 < line.size() && line[i + 1] == '"') {
          fields.back() += '"';
          ++i;
        } else if (ch == '"') {
          quoted = false;
        } else {
          fields.back() += ch;
        }
      } else if (ch == '"') {
        quoted = true;
      } else if (ch == ',') {
        fields.emplace_back();
      } else {
        fields.back() += ch;
      }
    }
    if (quoted) return Invalid("line " + std::to_string(line_no) + ": unterminated quote");
    rows.push_back(std::move(fields));
  }
  return rows;
}

Authenticator::Authenticator(AuthnOptions options) : options_(std::move(options)) {
  if (!options_.admin_group.empty()) {
    std::array<char, 4096> buf{};
    group gr{};
    group* found = nullptr;
    if (::getgrnam_r(options_.admin_group.c_str(), &gr, buf.data(), buf.size(), &found) == 0 && found != nullptr) {
      admin_gid_ = gr.gr_gid;
    }
  }
}

Status Authenticator::Init() {
  std::lock_guard<std::mutex> lock(mu_);
  return LoadTokens();
}

size_t Authenticator::TokenCount() {
  std::lock_guard<std::mutex> lock(mu_);
  return tokens_.size();
}

Status Authenticator::LoadTokens() {
  next_check_ = std::chrono::steady_clock::now() + kReloadCheck;
  if (options_.token_file.empty()) return Status::Ok();
  const std::string stamp = FileStamp(options_.token_file);
  if (stamp == token_stamp_) return Status::Ok();
  auto text = ReadFileText(options_.token_file);
  if (!text.ok()) return text.status().Annotate("auth.tokenFile");
  auto rows = ParseCsv(*text);
  if (!rows.ok()) return Invalid("auth.tokenFile " + options_.token_file + ": " + rows.status().message());
  std::map<std::string, TokenEntry> fresh;
  size_t n = 0;
  for (const auto& row : *rows) {
    ++n;
    const std::string where = "auth.tokenFile " + options_.token_file + ": record " + std::to_string(n);
    if (row.size() < 3 || Trim(row[0]).empty() || Trim(row[1]).empty()) {
      return Invalid(where + ": want token,user,uid[,\"group1,group2\"]");
    }
    std::string digest;
    const std::string token(Trim(row[0]));
    if (StartsWith(token, "sha256:")) {
      if (!HexDecode(ToLower(token.substr(7)), digest) || digest.size() != 32) {
        return Invalid(where + ": sha256: wants 64 hex digits");
      }
    } else {
      digest = Sha256(token);
    }
    TokenEntry e{std::string(Trim(row[1])), std::string(Trim(row[2])), {}};
    if (row.size() > 3) {
      for (const auto& g : Split(row[3], ',')) {
        if (!Trim(g).empty()) e.groups.emplace_back(Trim(g));
      }
    }
    if (!fresh.emplace(digest, std::move(e)).second) return Invalid(where + ": the same token appears twice");
  }
  tokens_ = std::move(fresh);
  token_stamp_ = stamp;
  return Status::Ok();
}

void Authenticator::MaybeReload() {
  std::lock_guard<std::mutex> lock(mu_);
  if (options_.token_file.empty() || std::chrono::steady_clock::now() < next_check_) return;
  // A broken edit keeps the tokens that were valid before; the log says why (once per change).
  const std::string before = token_stamp_;
  Status s = LoadTokens();
  if (!s.ok()) {
    token_stamp_ = FileStamp(options_.token_file);
    spdlog::error("token file not reloaded, the previous {} tokens stay valid: {}", tokens_.size(), s.message());
  } else if (token_stamp_ != before) {
    spdlog::info("token file reloaded: {} tokens", tokens_.size());
  }
}

Result<UserInfo> Authenticator::FromToken(std::string_view token) {
  MaybeReload();
  const std::string digest = Sha256(token);
  std::lock_guard<std::mutex> lock(mu_);
  // Every entry is compared, in constant time per entry, so neither the match nor its position
  // shows in the timing.
  const TokenEntry* match = nullptr;
  for (const auto& [d, e] : tokens_) {
    if (CRYPTO_memcmp(d.data(), digest.data(), 32) == 0) match = &e;
  }
  if (match == nullptr) return Unauthorized("invalid bearer token");
  UserInfo u{match->user, match->uid, match->groups, true, "token"};
  u.groups.emplace_back(kGroupAuthenticated);
  return u;
}

UserInfo Authenticator::FromUnix(const net::PeerInfo& peer) const {
  UserInfo u;
  u.authenticated = true;
  u.method = "unix";
  u.uid = std::to_string(peer.uid);
  const bool admin = peer.uid == 0 || peer.uid == options_.self_uid || InGroup(peer.uid, peer.gid, admin_gid_);
  u.name = admin && peer.uid == 0 ? "unix:root" : "unix:" + LoginName(peer.uid);
  if (admin) u.groups.emplace_back(kGroupMasters);
  u.groups.emplace_back(kGroupAuthenticated);
  return u;
}

Result<UserInfo> Authenticator::Authenticate(const net::HttpRequest& req) {
  const net::PeerInfo* peer = req.peer.get();
  if (peer != nullptr && peer->has_client_cert) {
    if (!peer->client_cert_verified) {
      return Unauthorized("the client certificate is not valid: " + peer->client_cert_error);
    }
    if (peer->client_cert_cn.empty()) return Unauthorized("the client certificate has no common name");
    UserInfo u{peer->client_cert_cn, "", peer->client_cert_orgs, true, "x509"};
    u.groups.emplace_back(kGroupAuthenticated);
    return u;
  }
  const std::string auth = req.Header("Authorization");
  if (!auth.empty()) {
    if (auth.size() < 8 || ToLower(auth.substr(0, 7)) != "bearer ") {
      return Unauthorized("only bearer tokens are accepted in the Authorization header");
    }
    return FromToken(Trim(std::string_view(auth).substr(7)));
  }
  if (peer != nullptr && peer->transport == net::PeerInfo::Transport::kUnix && peer->has_credentials) {
    return FromUnix(*peer);
  }
  return UserInfo{std::string(kUserAnonymous), "", {"system:unauthenticated"}, false, "anonymous"};
}

}  // namespace tmcd::security
