#include "app/security_setup.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "common/strings.h"
#include "security/pki.h"
#include "store/store.h"

namespace tmcd::app {

Status SecureDataDir(const std::string& data_dir) {
  ::umask(077);
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  if (ec) return Internal("cannot create data directory " + data_dir + ": " + ec.message());
  namespace fs = std::filesystem;
  fs::permissions(data_dir, fs::perms::owner_all, fs::perm_options::replace, ec);
  if (ec) return Internal("cannot make " + data_dir + " private (0700): " + ec.message());
  for (auto it = fs::recursive_directory_iterator(data_dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    const auto st = it->symlink_status(ec);
    if (ec || fs::is_symlink(st) || fs::is_socket(st)) continue;
    const auto want = fs::is_directory(st) ? fs::perms::owner_all : fs::perms::owner_read | fs::perms::owner_write;
    if ((st.permissions() & ~want) != fs::perms::none) fs::permissions(it->path(), want, fs::perm_options::replace, ec);
    ec.clear();
  }
  return Status::Ok();
}

Status CheckPrivateFile(const std::string& path, const std::string& key) {
  if (path.empty()) return Status::Ok();
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return Invalid(key + ": cannot read " + path);
  if ((st.st_mode & (S_IROTH | S_IWOTH)) != 0) {
    return Invalid(key + ": " + path + " holds secrets and is accessible to every user (mode " +
                   std::to_string((st.st_mode >> 6) & 7) + std::to_string((st.st_mode >> 3) & 7) +
                   std::to_string(st.st_mode & 7) + "): chmod o-rwx it first");
  }
  return Status::Ok();
}

Result<TlsSetup> PrepareTls(const Config& c) {
  TlsSetup out;
  out.pki_dir = c.data_dir + "/pki";
  const security::PkiPaths pki{out.pki_dir};
  out.own_pki = c.tls_cert_file.empty();
  // tmcd's CA always exists: `tmcd kubeconfig` issues from it when it is the client CA.
  auto did = security::EnsureServingPki(pki, out.own_pki ? c.tls_hosts : std::vector<std::string>{});
  if (!did.ok()) return did.status();
  if (!did->empty()) spdlog::info("pki: {}", *did);
  out.files.cert_file = out.own_pki ? pki.ServingCert() : c.tls_cert_file;
  out.files.key_file = out.own_pki ? pki.ServingKey() : c.tls_key_file;
  out.files.client_ca_file = c.auth_client_ca_file.empty() ? pki.CaCert() : c.auth_client_ca_file;
  TMCD_TRY(CheckPrivateFile(out.files.key_file, "tls.keyFile"));
  return out;
}

std::string UnixSocketPath(const Config& c) {
  if (c.unix_socket != "auto") return c.unix_socket;
  const char* runtime = std::getenv("RUNTIME_DIRECTORY");  // NOLINT(concurrency-mt-unsafe): main thread, at start
  if (runtime != nullptr && *runtime != '\0') return std::string(Split(runtime, ':')[0]) + "/tmcd.sock";
  return c.data_dir + "/tmcd.sock";
}

std::string AuditLogPath(const Config& c) {
  if (c.audit_path != "auto" || c.audit_level == "None") return c.audit_level == "None" ? "" : c.audit_path;
  const char* logs = std::getenv("LOGS_DIRECTORY");  // NOLINT(concurrency-mt-unsafe): main thread, at start
  if (logs != nullptr && *logs != '\0') return std::string(Split(logs, ':')[0]) + "/audit.log";
  return c.data_dir + "/audit.log";
}

std::string TlsReloader::Stamp() const {
  std::string out;
  for (const auto& f : {files_.cert_file, files_.key_file, files_.client_ca_file}) {
    struct stat st {};
    if (f.empty() || ::stat(f.c_str(), &st) != 0) {
      out += "-;";
      continue;
    }
    out += std::to_string(st.st_ino) + "/" + std::to_string(st.st_size) + "/" + std::to_string(st.st_mtim.tv_sec) +
           "." + std::to_string(st.st_mtim.tv_nsec) + ";";
  }
  return out;
}

std::shared_ptr<net::TlsContext> TlsReloader::Check(bool force) {
  const std::string now = Stamp();
  if (!force && now == stamp_) return nullptr;
  stamp_ = now;
  auto ctx = net::TlsContext::Load(files_);
  if (!ctx.ok()) {
    spdlog::error("TLS files not reloaded, connections keep the previous certificate: {}", ctx.status().message());
    return nullptr;
  }
  spdlog::info("TLS certificate reloaded: {}", (*ctx)->Describe());
  return *ctx;
}

std::string KeyFilePath(const Config& c) {
  return c.encryption_key_file == "auto" ? c.data_dir + "/encryption-keys.yaml" : c.encryption_key_file;
}

Result<std::shared_ptr<security::KeyFileSealer>> PrepareSealer(const Config& c) {
  const std::string path = KeyFilePath(c);
  if (c.encryption_key_file == "auto" && ::access(path.c_str(), F_OK) != 0) {
    TMCD_TRY(security::KeyFileSealer::Create(path));
    spdlog::info("encryption: created the key file {} (keep it away from backups of the store)", path);
  }
  auto sealer = security::KeyFileSealer::Load(path);
  if (!sealer.ok()) return sealer.status().Annotate("encryption.keyFile");
  return sealer;
}

int TryLockDataDir(const std::string& data_dir) {
  const std::string path = data_dir + "/tmcd.lock";
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return -1;
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

int EncryptionCommand(const Config& c, const std::string& what) {
  auto fail = [](const std::string& msg) {
    std::fprintf(stderr, "tmcd: %s\n", msg.c_str());
    return 1;
  };
  if (what == "add-key") {
    auto name = security::KeyFileSealer::AddKey(KeyFilePath(c));
    if (!name.ok()) return fail(name.status().message());
    std::printf("added key %s first in %s: restart tmcd, then run `tmcd encryption rewrite` with tmcd stopped\n",
                name->c_str(), KeyFilePath(c).c_str());
    return 0;
  }
  if (Status s = SecureDataDir(c.data_dir); !s.ok()) return fail(s.message());
  if (TryLockDataDir(c.data_dir) < 0) {
    return fail("data directory " + c.data_dir + " is in use: stop tmcd first");
  }
  auto sealer = PrepareSealer(c);
  if (!sealer.ok()) return fail(sealer.status().message());
  store::StoreOptions so;
  so.path = c.data_dir + "/store";
  so.compaction_interval = std::chrono::milliseconds(0);
  so.sealer = *sealer;
  RealClock clock;
  auto st = store::Store::Open(so, clock);
  if (!st.ok()) return fail(st.status().message());
  auto stats = what == "rewrite" ? (*st)->Reseal() : Result<store::SealStats>((*st)->SealStatsAtOpen());
  if (!stats.ok()) return fail(stats.status().message());
  if (what == "rewrite") {
    std::printf("rewrote %zu Secrets with key %s; the event history was dropped and the store files rewritten\n",
                stats->sealed, (*sealer)->current_name().c_str());
  } else {
    std::printf("current key %s; %zu Secrets encrypted (%zu with an older key), %zu in plaintext\n",
                (*sealer)->current_name().c_str(), stats->sealed, stats->old_key, stats->plaintext);
  }
  return 0;
}

Result<std::string> IssueKubeconfig(const Config& c, const KubeconfigRequest& r) {
  if (r.user.empty()) return Invalid("--user is required");
  if (!c.auth_client_ca_file.empty()) {
    return Invalid("auth.clientCAFile names your own client CA (" + c.auth_client_ca_file +
                   "): issue client certificates from it; tmcd kubeconfig issues only from tmcd's own CA");
  }
  const security::PkiPaths pki{c.data_dir + "/pki"};
  if (!security::ReadFileText(pki.CaCert()).ok()) {
    // Before the first start: prepare the PKI as tmcd would, so a kubeconfig can be made first.
    ::umask(077);
    auto did = security::EnsureServingPki(pki, c.tls_cert_file.empty() ? c.tls_hosts : std::vector<std::string>{});
    if (!did.ok()) return did.status().Annotate("preparing " + pki.dir);
  }
  auto ca_cert = security::ReadFileText(pki.CaCert());
  auto ca_key = security::ReadFileText(pki.CaKey());
  if (!ca_cert.ok() || !ca_key.ok()) {
    return Invalid("cannot read tmcd's CA in " + pki.dir +
                   ": run as root or as the user that owns the data "
                   "directory");
  }
  security::CertSpec spec;
  spec.common_name = r.user;
  spec.organizations = r.groups;
  spec.client = true;
  spec.validity = r.validity;
  TMCD_ASSIGN_OR_RETURN(auto issued, security::Issue({*ca_cert, *ca_key}, spec));
  std::string server = r.server;
  if (server.empty()) {
    std::string host = c.listen.substr(0, c.listen.rfind(':'));
    if (host == "0.0.0.0" || host.empty()) host = "127.0.0.1";
    if (host == "[::]") host = "[::1]";
    server = std::string(c.insecure_http ? "http" : "https") + "://" + host + c.listen.substr(c.listen.rfind(':'));
  }
  std::string cluster = "    server: " + server + "\n";
  if (c.tls_cert_file.empty() && !c.insecure_http) {
    cluster += "    certificate-authority-data: " + Base64Encode(*ca_cert) + "\n";
  }
  const std::string user = nlohmann::json(r.user).dump();  // a JSON string is a YAML double-quoted scalar
  return "apiVersion: v1\nkind: Config\nclusters:\n- name: tmcd\n  cluster:\n" + cluster + "users:\n- name: " + user +
         "\n  user:\n    client-certificate-data: " + Base64Encode(issued.cert_pem) +
         "\n    client-key-data: " + Base64Encode(issued.key_pem) + "\ncontexts:\n- name: tmcd\n  context:\n" +
         "    cluster: tmcd\n    user: " + user + "\ncurrent-context: tmcd\n";
}

}  // namespace tmcd::app
