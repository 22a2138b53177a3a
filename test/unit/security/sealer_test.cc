// Secrets at rest: the key file, AES-256-GCM envelope sealing, and the store sealing Secrets on
// disk (objects, events and WAL) while every reader still sees plaintext; a wrong key never opens.
#include "security/sealer.h"

#include <doctest/doctest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "store/temp_store.h"

namespace tmcd::security {
namespace {

using store::testing::TempDir;

bool AnyFileContains(const std::string& dir, const std::string& needle) {
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    std::ifstream in(e.path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    if (ss.str().find(needle) != std::string::npos) return true;
  }
  return false;
}

store::ObjectKey SecretKey(const std::string& name, const std::string& ws = "root") {
  return {ws, "", "secrets", "tmc", name};
}

TEST_CASE("the key file: created 0600, loaded, a group-readable one refused, add-key puts a new key first") {
  TempDir dir;
  const std::string path = dir.path() + "/keys.yaml";
  REQUIRE(KeyFileSealer::Create(path).ok());
  CHECK_FALSE(KeyFileSealer::Create(path).ok());
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  auto first = KeyFileSealer::Load(path);
  REQUIRE(first.ok());
  auto added = KeyFileSealer::AddKey(path);
  REQUIRE(added.ok());
  auto both = KeyFileSealer::Load(path);
  REQUIRE(both.ok());
  CHECK((*both)->current_name() == *added);
  CHECK((*both)->names().size() == 2);
  ::chmod(path.c_str(), 0640);
  CHECK(KeyFileSealer::Load(path).status().message().find("chmod 600") != std::string::npos);
  std::ofstream(dir.path() + "/bad.yaml") << "keys:\n- name: a\n  secret: c2hvcnQ=\n";
  ::chmod((dir.path() + "/bad.yaml").c_str(), 0600);
  CHECK(KeyFileSealer::Load(dir.path() + "/bad.yaml").status().message().find("32 bytes") != std::string::npos);
}

TEST_CASE("sealing: round trip, bound to the object key, tamper-evident, only Secrets") {
  TempDir dir;
  REQUIRE(KeyFileSealer::Create(dir.path() + "/k.yaml").ok());
  auto s = *KeyFileSealer::Load(dir.path() + "/k.yaml");
  const std::string key = store::EncodeKey(SecretKey("db"));
  CHECK(s->Applies(key));
  CHECK_FALSE(s->Applies(store::EncodeKey({"root", "", "configmaps", "tmc", "db"})));
  CHECK_FALSE(s->Applies(store::EncodeKey({"root", "x.io", "secrets", "tmc", "db"})));
  CHECK_FALSE(s->Applies(store::EncodeKey({"root", "", "secretsx", "tmc", "db"})));
  auto sealed = s->Seal(key, R"({"data":{"password":"aHVudGVyMg=="}})");
  REQUIRE(sealed.ok());
  CHECK(store::IsSealed(*sealed));
  CHECK(sealed->find("aHVudGVyMg") == std::string::npos);
  CHECK(s->Current(*sealed));
  CHECK(*s->Open(key, *sealed) == R"({"data":{"password":"aHVudGVyMg=="}})");
  CHECK_FALSE(s->Open(store::EncodeKey(SecretKey("other")), *sealed).ok());  // moved to another key
  std::string tampered = *sealed;
  tampered[tampered.size() - 20] ^= 1;
  CHECK(s->Open(key, tampered).status().message().find("authentication failed") != std::string::npos);
  REQUIRE(KeyFileSealer::Create(dir.path() + "/other.yaml").ok());
  auto other = *KeyFileSealer::Load(dir.path() + "/other.yaml");
  CHECK_FALSE(other->Open(key, *sealed).ok());
}

TEST_CASE("a sealed store: nothing on disk in plaintext, readers see plaintext, wrong keys refuse, rewrite rotates") {
  TempDir dir;
  const std::string keys = dir.path() + "/keys.yaml";
  REQUIRE(KeyFileSealer::Create(keys).ok());
  const std::string db = dir.path() + "/store";
  store::StoreOptions o;
  o.sealer = *KeyFileSealer::Load(keys);
  {
    auto st = store::testing::OpenAt(db, o);
    REQUIRE(st);
    REQUIRE(st->Create(SecretKey("db"), R"({"data":{"password":"czNjcjN0LXZhbHVl"}})").ok());
    REQUIRE(st->Update(SecretKey("db"), R"({"data":{"password":"bjN3LXMzY3IzdA=="}})", 0).ok());
    REQUIRE(st->Create({"root", "", "configmaps", "tmc", "c"}, R"({"data":{"k":"visible-config"}})").ok());
    CHECK(st->Get(SecretKey("db"))->json.find("bjN3LXMzY3IzdA==") != std::string::npos);
    auto list = st->List(store::NamespacePrefix("root", "", "secrets", "tmc"), 0, "");
    REQUIRE(list.ok());
    CHECK(list->items[0].second.json.find("bjN3LXMzY3IzdA==") != std::string::npos);
    auto w = st->Watch(store::ResourcePrefix("root", "", "secrets"), 0);
    REQUIRE(w.ok());
    auto ev = (*w)->Next(std::chrono::milliseconds(1000));
    REQUIRE(ev.ok());
    REQUIRE(ev->has_value());
    CHECK((**ev)->object.json.find("czNjcjN0LXZhbHVl") != std::string::npos);  // replayed history, opened
  }
  CHECK(AnyFileContains(db, "visible-config"));  // the search works: ConfigMaps are not sealed
  CHECK_FALSE(AnyFileContains(db, "czNjcjN0LXZhbHVl"));
  CHECK_FALSE(AnyFileContains(db, "bjN3LXMzY3IzdA=="));

  REQUIRE(KeyFileSealer::Create(dir.path() + "/wrong.yaml").ok());
  store::StoreOptions wrong;
  wrong.sealer = *KeyFileSealer::Load(dir.path() + "/wrong.yaml");
  auto refused = store::Store::Open(
      [&] {
        wrong.path = db;
        wrong.compaction_interval = {};
        return wrong;
      }(),
      store::testing::TestClock());
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().message().find("cannot open the sealed value of root//secrets/tmc/db") != std::string::npos);
  store::StoreOptions none;
  none.path = db;
  none.compaction_interval = {};
  CHECK(store::Store::Open(none, store::testing::TestClock()).status().message().find("no key is configured") !=
        std::string::npos);

  // Rotation: a new key first, rewrite, then the old key can go.
  REQUIRE(KeyFileSealer::AddKey(keys).ok());
  o.sealer = *KeyFileSealer::Load(keys);
  {
    auto st = store::testing::OpenAt(db, o);
    REQUIRE(st);
    CHECK(st->CheckSealed()->old_key == 1);
    CHECK(st->Reseal()->sealed == 1);
    CHECK(st->CheckSealed()->old_key == 0);
  }
  std::ofstream out(keys + ".new");
  std::ifstream in(keys);
  std::string line;
  int entries = 0;
  while (std::getline(in, line)) {
    if (line.rfind("- name:", 0) == 0) ++entries;
    if (entries < 2) out << line << "\n";
  }
  out.close();
  std::filesystem::rename(keys + ".new", keys);
  ::chmod(keys.c_str(), 0600);
  o.sealer = *KeyFileSealer::Load(keys);
  auto st = store::testing::OpenAt(db, o);
  REQUIRE(st);
  CHECK(st->Get(SecretKey("db"))->json.find("bjN3LXMzY3IzdA==") != std::string::npos);
}

}  // namespace
}  // namespace tmcd::security
