// Authentication: token file (CSV, digests, reload), client certificate and Unix peer identities,
// and the refusal of presented-but-invalid credentials.
#include "security/authn.h"

#include <doctest/doctest.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include "store/temp_store.h"

namespace tmcd::security {
namespace {

std::string HexOf(const std::string& raw) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : raw) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

net::HttpRequest WithToken(const std::string& token) {
  net::HttpRequest req;
  req.headers.emplace("Authorization", "Bearer " + token);
  return req;
}

net::HttpRequest FromPeer(net::PeerInfo peer) {
  net::HttpRequest req;
  req.peer = std::make_shared<net::PeerInfo>(std::move(peer));
  return req;
}

TEST_CASE("CSV records follow kube's token file: quoted groups, comments, blank lines") {
  auto rows = ParseCsv("# comment\n\ntok1,alice,1001,\"g1,g2\"\r\ntok2,bob,1002\n");
  REQUIRE(rows.ok());
  REQUIRE(rows->size() == 2);
  CHECK((*rows)[0] == std::vector<std::string>{"tok1", "alice", "1001", "g1,g2"});
  CHECK((*rows)[1] == std::vector<std::string>{"tok2", "bob", "1002"});
  CHECK_FALSE(ParseCsv("a,\"unterminated\n").ok());
}

TEST_CASE("bearer tokens: plain and sha256 entries, unknown tokens, reload on change, broken files") {
  store::testing::TempDir dir;
  const std::string file = dir.path() + "/tokens.csv";
  std::ofstream(file) << "s3cret-admin,admin,1,\"system:masters\"\n"
                      << "sha256:" << HexOf(Sha256("hashed-token")) << ",carol,3,\"tenants,viewers\"\n";
  Authenticator a({file, "", 0});
  REQUIRE(a.Init().ok());
  CHECK(a.TokenCount() == 2);
  auto admin = a.Authenticate(WithToken("s3cret-admin"));
  REQUIRE(admin.ok());
  CHECK(admin->name == "admin");
  CHECK(admin->IsMaster());
  CHECK(admin->method == "token");
  auto carol = a.Authenticate(WithToken("hashed-token"));
  REQUIRE(carol.ok());
  CHECK(carol->groups == std::vector<std::string>{"tenants", "viewers", "system:authenticated"});
  auto wrong = a.Authenticate(WithToken("s3cret-admiN"));
  REQUIRE_FALSE(wrong.ok());
  CHECK(wrong.status().reason() == Reason::kUnauthorized);
  net::HttpRequest basic;
  basic.headers.emplace("Authorization", "Basic YWxpY2U6cHc=");
  CHECK(a.Authenticate(basic).status().reason() == Reason::kUnauthorized);

  // A changed file is picked up (checked at most once a second), a removed token stops working.
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  std::ofstream(file) << "new-token,dave,4\n";
  CHECK(a.Authenticate(WithToken("new-token")).ok());
  CHECK_FALSE(a.Authenticate(WithToken("s3cret-admin")).ok());
  // A broken edit keeps the tokens that were valid.
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  std::ofstream(file) << "only-a-token\n";
  CHECK(a.Authenticate(WithToken("new-token")).ok());

  std::ofstream(dir.path() + "/dup.csv") << "t,a,1\nt,b,2\n";
  Authenticator dup({dir.path() + "/dup.csv", "", 0});
  CHECK(dup.Init().message().find("the same token appears twice") != std::string::npos);
  Authenticator missing({dir.path() + "/nope.csv", "", 0});
  CHECK_FALSE(missing.Init().ok());
}

TEST_CASE("client certificates: a verified one names user and groups, any other one is a 401") {
  Authenticator a({"", "", 0});
  net::PeerInfo tls;
  tls.transport = net::PeerInfo::Transport::kTls;
  tls.has_client_cert = true;
  tls.client_cert_verified = true;
  tls.client_cert_cn = "alice";
  tls.client_cert_orgs = {"tenants"};
  auto alice = a.Authenticate(FromPeer(tls));
  REQUIRE(alice.ok());
  CHECK(alice->name == "alice");
  CHECK(alice->groups == std::vector<std::string>{"tenants", "system:authenticated"});
  CHECK(alice->method == "x509");
  tls.client_cert_verified = false;
  tls.client_cert_error = "certificate has expired";
  auto expired = a.Authenticate(FromPeer(tls));
  REQUIRE_FALSE(expired.ok());
  CHECK(expired.status().message().find("certificate has expired") != std::string::npos);
  // An invalid certificate is not rescued by a token.
  auto req = FromPeer(tls);
  req.headers.emplace("Authorization", "Bearer x");
  CHECK_FALSE(a.Authenticate(req).ok());
}

TEST_CASE("Unix peers: root and tmcd's own uid are administrators, others are plain users; no peer is anonymous") {
  Authenticator a({"", "", 4242});
  net::PeerInfo unix_peer;
  unix_peer.transport = net::PeerInfo::Transport::kUnix;
  unix_peer.has_credentials = true;
  unix_peer.uid = 0;
  auto root = a.Authenticate(FromPeer(unix_peer));
  REQUIRE(root.ok());
  CHECK(root->name == "unix:root");
  CHECK(root->IsMaster());
  unix_peer.uid = 4242;
  unix_peer.gid = 4242;
  CHECK(a.Authenticate(FromPeer(unix_peer))->IsMaster());
  unix_peer.uid = 65534;
  unix_peer.gid = 65534;
  auto nobody = a.Authenticate(FromPeer(unix_peer));
  REQUIRE(nobody.ok());
  CHECK_FALSE(nobody->IsMaster());
  CHECK(nobody->authenticated);
  CHECK(nobody->name.rfind("unix:", 0) == 0);
  auto anon = a.Authenticate(net::HttpRequest{});
  REQUIRE(anon.ok());
  CHECK_FALSE(anon->authenticated);
  CHECK(anon->name == "system:anonymous");
}

}  // namespace
}  // namespace tmcd::security
