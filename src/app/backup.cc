#include "app/backup.h"

#include <fcntl.h>
#include <openssl/rand.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "apis/meta/time.h"
#include "app/cli.h"
#include "app/security_setup.h"
#include "common/clock.h"
#include "common/strings.h"
#include "kube/client.h"
#include "store/backup.h"
#include "store/codec.h"
#include "tmcd_build_config.h"

namespace tmcd::app {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

int Fail(const std::string& msg) {
  std::fprintf(stderr, "tmcd: %s\n", msg.c_str());
  return kExitFailure;
}

std::string Now() {
  return apis::Time::FromTimePoint(std::chrono::system_clock::now()).ToString();
}

// Now() usable in a file name: 2026-12-02T02-40-00Z.
std::string FileStamp() {
  std::string stamp = Now();
  for (char& c : stamp) c = c == ':' ? '-' : c;
  return stamp;
}

Status CopyTree(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  fs::copy(from, to, fs::copy_options::recursive, ec);
  if (ec) return Internal("cannot copy " + from.string() + " to " + to.string() + ": " + ec.message());
  return Status::Ok();
}

// Files and directories under `root` get the owner of `like` (a restore run as root into the
// service's data directory must leave it readable by user tmcd).
void ChownLike(const fs::path& root, const fs::path& like) {
  struct stat st {};
  if (::geteuid() != 0 || ::stat(like.c_str(), &st) != 0) return;
  std::error_code ec;
  (void)::lchown(root.c_str(), st.st_uid, st.st_gid);
  if (!fs::is_directory(root, ec)) return;
  for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    (void)::lchown(it->path().c_str(), st.st_uid, st.st_gid);
  }
}

// The checkpoint made by the running daemon, asked over its Unix socket; returns where it is.
Result<std::string> AskDaemon(const Config& config) {
  const std::string socket = UnixSocketPath(config);
  if (socket.empty())
    return Status(Reason::kServiceUnavailable, "tmcd is running but serves no Unix socket (unixSocket: \"\")");
  kube::RestConfig rc;
  rc.server = "unix://" + socket;
  kube::ClientOptions co;
  co.max_retries = 0;
  co.qps = 0;
  co.timeout = std::chrono::seconds(600);
  co.user_agent = "tmcd-backup/" + std::string(TMCD_VERSION);
  TMCD_ASSIGN_OR_RETURN(auto client, kube::Client::Create(rc, co));
  TMCD_ASSIGN_OR_RETURN(auto res, client->Do("POST", "/admin/backup", "", ""));
  auto body = Json::parse(res.body, nullptr, false);
  if (!body.is_object() || !body.contains("path") || !body["path"].is_string()) {
    return Internal("unexpected answer from tmcd: " + res.body.substr(0, 200));
  }
  return body["path"].get<std::string>();
}

Status WriteManifest(const fs::path& dir, const store::StoreInfo& info, bool online, bool with_keys) {
  Json m = {{"kind", "TmcdBackup"},
            {"format", info.format},
            {"revision", info.revision},
            {"objects", info.objects},
            {"instance", store::UidString(info.instance)},
            {"tmcdVersion", TMCD_VERSION},
            {"created", Now()},
            {"online", online},
            {"encryptionKeys", with_keys}};
  std::ofstream out(dir / "backup.json");
  out << m.dump(2) << "\n";
  out.close();
  return out ? Status::Ok() : Internal("cannot write " + (dir / "backup.json").string());
}

// The backup in `in`, checked: a backup.json of ours and a store this tmcd reads.
Result<store::StoreInfo> ReadBackup(const fs::path& in) {
  std::ifstream mf(in / "backup.json");
  const Json manifest = Json::parse(mf, nullptr, false);
  if (!manifest.is_object() || manifest.value("kind", "") != "TmcdBackup") {
    return NotFound(in.string() + " is not a tmcd backup (no valid backup.json)");
  }
  auto info = store::InspectStore((in / "store").string());
  if (!info.ok()) return Internal("the backup's store does not open: " + info.status().message());
  if (info->format > store::kStoreFormat) {
    return Invalid("the backup has store format " + std::to_string(info->format) + ", made by a newer tmcd (" +
                   manifest.value("tmcdVersion", "?") + "); this tmcd reads format " +
                   std::to_string(store::kStoreFormat));
  }
  return info;
}

// The store opens with the key file tmcd will use (every sealed Secret opens).
Status OpensWithKeys(const Config& config, const fs::path& store_dir) {
  TMCD_ASSIGN_OR_RETURN(auto sealer, PrepareSealer(config));
  store::StoreOptions so;
  so.path = store_dir.string();
  so.compaction_interval = std::chrono::milliseconds(0);
  so.sealer = sealer;
  RealClock clock;
  TMCD_ASSIGN_OR_RETURN(auto opened, store::Store::Open(so, clock));
  return Status::Ok();
}

}  // namespace

Result<Json> ServeBackup(store::Store& store, const std::string& data_dir) {
  const fs::path staging = fs::path(data_dir) / "backups";
  std::error_code ec;
  fs::create_directories(staging, ec);
  if (ec) return Internal("cannot create " + staging.string() + ": " + ec.message());
  unsigned char rnd[6];
  RAND_bytes(rnd, sizeof rnd);
  std::string id = std::to_string(store.CurrentRevision()) + "-";
  for (unsigned char c : rnd) id += "0123456789abcdef"[c >> 4U], id += "0123456789abcdef"[c & 15U];
  const fs::path dir = staging / id;
  TMCD_TRY(store.Checkpoint(dir.string()));
  TMCD_ASSIGN_OR_RETURN(auto info, store::InspectStore(dir.string()));
  return Json{{"path", dir.string()}, {"revision", info.revision}, {"objects", info.objects}};
}

int BackupCommand(const Config& config, const std::string& dir, bool with_keys) {
  const fs::path out(dir);
  std::error_code ec;
  if (fs::exists(out, ec) && !fs::is_empty(out, ec)) return Fail(dir + " exists and is not empty");
  const fs::path store_dir = fs::path(config.data_dir) / "store";
  if (!fs::exists(store_dir / "CURRENT", ec)) return Fail("no store in " + config.data_dir + " (--data-dir?)");
  ::umask(077);
  fs::create_directories(out, ec);
  if (ec) return Fail("cannot create " + dir + ": " + ec.message());
  fs::permissions(out, fs::perms::owner_all, fs::perm_options::replace, ec);
  bool online = false;
  const int lock = TryLockDataDir(config.data_dir);
  if (lock >= 0) {  // tmcd is stopped: the command makes the checkpoint, holding the lock meanwhile
    Status s = store::CheckpointClosedStore(store_dir.string(), (out / "store").string());
    ::close(lock);
    if (!s.ok()) return Fail(s.message());
  } else {
    online = true;
    auto made = AskDaemon(config);
    if (!made.ok()) {
      return Fail("tmcd is running and could not make the checkpoint: " + made.status().message() +
                  "\nhint: run as root or as a member of group " + config.auth_admin_group +
                  " (an administrator on tmcd's Unix socket)");
    }
    Status s = CopyTree(*made, out / "store");
    fs::remove_all(*made, ec);
    if (!s.ok()) return Fail(s.message());
  }
  auto info = store::InspectStore((out / "store").string());
  if (!info.ok()) return Fail("the backup does not open: " + info.status().message());
  // What the store's contents need: the keys that open its Secrets, and the CA of its certificates.
  if (with_keys && fs::exists(KeyFilePath(config), ec)) {
    fs::copy_file(KeyFilePath(config), out / "encryption-keys.yaml", ec);
    if (ec) return Fail("cannot copy the encryption key file " + KeyFilePath(config) + ": " + ec.message());
  }
  if (fs::exists(fs::path(config.data_dir) / "pki", ec)) {
    if (Status s = CopyTree(fs::path(config.data_dir) / "pki", out / "pki"); !s.ok()) return Fail(s.message());
  }
  if (Status s = WriteManifest(out, *info, online, with_keys); !s.ok()) return Fail(s.message());
  std::printf("backup of %s at revision %llu (%llu objects, %s) in %s\n", config.data_dir.c_str(),
              static_cast<unsigned long long>(info->revision), static_cast<unsigned long long>(info->objects),
              online ? "made by the running tmcd" : "tmcd stopped", dir.c_str());
  if (!with_keys) {
    std::printf("the Secret encryption keys (%s) are not in it: keep them apart, or use --with-keys\n",
                KeyFilePath(config).c_str());
  }
  return kExitOk;
}

int CheckStoreFormat(const Config& config) {
  const std::string path = config.data_dir + "/store";
  std::error_code ec;
  if (!fs::exists(path + "/CURRENT", ec)) return kExitOk;
  auto info = store::InspectStore(path, /*count_objects=*/false);  // every start: the format only
  if (!info.ok() || info->format == store::kStoreFormat) return kExitOk;
  if (info->format < store::kStoreFormat) {
    auto r = store::MigrateStore(path, store::kStoreFormat, store::MigrationSteps(), FileStamp());
    if (!r.ok()) return Fail(r.status().message() + "; the checkpoint taken before it, if any, is beside the store");
    std::fprintf(stderr, "tmcd: store %s migrated from format %u to %u; the store as it was is kept in %s\n",
                 path.c_str(), r->from, r->to, r->checkpoints.empty() ? "-" : r->checkpoints.front().c_str());
    return kExitOk;
  }
  std::fprintf(stderr,
               "tmcd: store %s has format %u, written by a newer tmcd; this tmcd (%s) reads format %u: "
               "install the newer tmcd again, or restore a backup made by this version\n",
               path.c_str(), info->format, TMCD_VERSION, store::kStoreFormat);
  return kExitNewerStore;
}

int RestoreCommand(const Config& config, const std::string& dir) {
  const fs::path in(dir);
  std::error_code ec;
  auto info = ReadBackup(in);
  if (!info.ok()) return Fail(info.status().message());
  if (Status s = SecureDataDir(config.data_dir); !s.ok()) return Fail(s.message());
  const int lock = TryLockDataDir(config.data_dir);
  if (lock < 0) {
    return Fail("data directory " + config.data_dir +
                " is in use by a running tmcd: stop it first (systemctl stop tmcd); a live store is never "
                "overwritten");
  }
  const fs::path data(config.data_dir);
  const fs::path store_dir = data / "store";
  // Copy in beside the live store first, then swap: an interrupted restore leaves the old store.
  const fs::path incoming = data / "store.restoring";
  fs::remove_all(incoming, ec);
  if (Status s = CopyTree(in / "store", incoming); !s.ok()) return Fail(s.message());
  uint64_t replaced_revision = 0;
  const std::string stamp = FileStamp();
  const fs::path kept = data / ("store.before-restore-" + stamp);
  const bool had_store = fs::exists(store_dir, ec);
  if (had_store) {
    auto old = store::InspectStore(store_dir.string());
    if (old.ok()) replaced_revision = old->revision;
    fs::rename(store_dir, kept, ec);
    if (ec) return Fail("cannot move the current store aside: " + ec.message());
  }
  fs::rename(incoming, store_dir, ec);
  if (ec) return Fail("cannot move the restored store in place: " + ec.message());
  const std::string key_file = KeyFilePath(config);
  const bool with_keys = fs::exists(in / "encryption-keys.yaml", ec);
  if (with_keys) {
    if (fs::exists(key_file, ec)) fs::rename(key_file, key_file + ".before-restore", ec);
    fs::copy_file(in / "encryption-keys.yaml", key_file, fs::copy_options::overwrite_existing, ec);
    if (ec) return Fail("cannot restore the encryption key file " + key_file + ": " + ec.message());
    ChownLike(key_file, data);
  }
  // The restored Secrets must open with the key file tmcd will use; otherwise put everything back.
  const Status opens = OpensWithKeys(config, store_dir);
  if (!opens.ok()) {
    fs::rename(store_dir, data / ("store.failed-restore-" + stamp), ec);
    if (had_store) fs::rename(kept, store_dir, ec);
    if (with_keys && fs::exists(key_file + ".before-restore", ec))
      fs::rename(key_file + ".before-restore", key_file, ec);
    return Fail("the restored store does not open, so the previous one was put back: " + opens.message() +
                (with_keys ? ""
                           : "\nhint: its Secrets were sealed with keys this data directory lacks: put that "
                             "key file at " +
                                 key_file + ", or restore a backup made with --with-keys"));
  }
  auto fenced = store::FenceRestored(store_dir.string(), replaced_revision);
  if (!fenced.ok()) return Fail(fenced.status().message());
  if (fs::exists(in / "pki", ec) && !fs::exists(data / "pki", ec)) {
    if (Status s = CopyTree(in / "pki", data / "pki"); !s.ok()) return Fail(s.message());
    ChownLike(data / "pki", data);
  }
  ChownLike(store_dir, data);
  ::close(lock);
  std::printf(
      "restored revision %llu (%llu objects) into %s; its revision is now %llu, so watches from before "
      "the restore get 410 and relist\n",
      static_cast<unsigned long long>(info->revision), static_cast<unsigned long long>(info->objects),
      store_dir.c_str(), static_cast<unsigned long long>(*fenced));
  if (had_store) std::printf("the replaced store is kept in %s: delete it once satisfied\n", kept.c_str());
  return kExitOk;
}

}  // namespace tmcd::app
