// tmcd's PKI: CA, serving and client certificates as OpenSSL and the TLS server read them, and the
// renewal rules of EnsureServingPki on a real directory.
#include "security/pki.h"

#include <doctest/doctest.h>
#include <sys/stat.h>

#include <filesystem>

#include "store/temp_store.h"

namespace tmcd::security {
namespace {

using std::chrono::hours;

TEST_CASE("a CA issues client and serving certificates with the names asked for") {
  auto ca = CreateCa("test-ca", hours(24));
  REQUIRE(ca.ok());
  CertSpec spec;
  spec.common_name = "alice";
  spec.organizations = {"tenants", "system:masters"};
  spec.client = true;
  auto client = Issue(*ca, spec);
  REQUIRE(client.ok());
  auto info = Inspect(client->cert_pem);
  REQUIRE(info.ok());
  CHECK(info->common_name == "alice");
  CHECK(info->organizations == std::vector<std::string>{"tenants", "system:masters"});
  CHECK(info->hosts.empty());
  CHECK(info->not_after > std::chrono::system_clock::now() + hours(23));
  CHECK(client->key_pem.find("PRIVATE KEY") != std::string::npos);

  CertSpec server;
  server.common_name = "tmcd";
  server.hosts = {"localhost", "127.0.0.1", "::1"};
  server.server = true;
  auto serving = Issue(*ca, server);
  REQUIRE(serving.ok());
  CHECK(Inspect(serving->cert_pem)->hosts == server.hosts);

  auto other = CreateCa("other", hours(24));
  REQUIRE(other.ok());
  CHECK_FALSE(Issue({ca->cert_pem, other->key_pem}, spec).ok());  // a key that is not the CA's
  CHECK_FALSE(Inspect("not a certificate").ok());
}

TEST_CASE("EnsureServingPki creates once, keeps what is valid, re-issues on new hosts, files are private") {
  store::testing::TempDir dir;
  const PkiPaths paths{dir.path() + "/pki"};
  auto first = EnsureServingPki(paths, {"localhost", "127.0.0.1"});
  REQUIRE(first.ok());
  CHECK(first->find("created a CA") != std::string::npos);
  for (const auto& f : {paths.CaKey(), paths.ServingKey(), paths.CaCert(), paths.ServingCert()}) {
    struct stat st {};
    REQUIRE(::stat(f.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
  }
  const std::string ca_before = *ReadFileText(paths.CaCert());
  const std::string serving_before = *ReadFileText(paths.ServingCert());
  auto again = EnsureServingPki(paths, {"127.0.0.1", "localhost"});
  REQUIRE(again.ok());
  CHECK(again->empty());
  CHECK(*ReadFileText(paths.ServingCert()) == serving_before);
  auto moved = EnsureServingPki(paths, {"tmcd.example", "10.1.2.3"});
  REQUIRE(moved.ok());
  CHECK(moved->find("issued a serving certificate for tmcd.example, 10.1.2.3") != std::string::npos);
  CHECK(*ReadFileText(paths.CaCert()) == ca_before);  // the CA stays: issued client certificates stay valid
  CHECK(Inspect(*ReadFileText(paths.ServingCert()))->hosts == std::vector<std::string>{"tmcd.example", "10.1.2.3"});
  auto ca_only = EnsureServingPki(PkiPaths{dir.path() + "/other"}, {});
  REQUIRE(ca_only.ok());
  CHECK_FALSE(std::filesystem::exists(dir.path() + "/other/serving.crt"));
}

}  // namespace
}  // namespace tmcd::security
