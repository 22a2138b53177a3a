#include "kube/kubeconfig.h"

#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "common/strings.h"

namespace tmcd::kube {
namespace {

const std::string kPem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

TEST_CASE("the current context picks cluster, user and namespace; *-data fields decode") {
  const std::string text = R"(apiVersion: v1
kind: Config
current-context: b
clusters:
- name: one
  cluster: {server: "https://10.0.0.1:6443/clusters/root/", certificate-authority-data: ")" +
                           Base64Encode(kPem) + R"(", tls-server-name: api.example}
- name: two
  cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}
users:
- name: alice
  user: {token: s3cret, client-certificate-data: ")" +
                           Base64Encode(kPem) + R"(", client-key-data: ")" +
                           Base64Encode("-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----\n") + R"("}
contexts:
- {name: a, context: {cluster: two, user: alice}}
- {name: b, context: {cluster: one, user: alice, namespace: shop}}
)";
  auto c = ParseKubeconfig(text, "/nowhere");
  REQUIRE(c.ok());
  CHECK(c->context == "b");
  CHECK(c->server == "https://10.0.0.1:6443/clusters/root");  // trailing slash dropped
  CHECK(c->ca_pem == kPem);
  CHECK(c->tls_server_name == "api.example");
  CHECK(c->token == "s3cret");
  CHECK(c->client_cert_pem == kPem);
  CHECK(c->namespace_ == "shop");
  auto a = ParseKubeconfig(text, "/nowhere", "a");
  REQUIRE(a.ok());
  CHECK(a->insecure_skip_tls_verify);
  CHECK(a->ca_pem.empty());
}

TEST_CASE("file references resolve against the kubeconfig's directory; tokenFile is read") {
  const auto dir = std::filesystem::temp_directory_path() / ("kc-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "ca.pem") << kPem;
  std::ofstream(dir / "token") << "  from-file\n";
  std::ofstream(dir / "config") << R"(current-context: x
clusters: [{name: c, cluster: {server: "https://h:1", certificate-authority: ca.pem}}]
users: [{name: u, user: {tokenFile: token}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
)";
  auto c = LoadKubeconfig((dir / "config").string());
  REQUIRE(c.ok());
  CHECK(c->ca_pem == kPem);
  CHECK(c->token == "from-file");
  CHECK(c->token_file == (dir / "token").string());
  std::filesystem::remove_all(dir);
}

TEST_CASE("missing and malformed parts are clear errors") {
  struct Row {
    std::string text;
    std::string context;
    std::string want;
  };
  const std::string ok_cluster = R"(clusters: [{name: c, cluster: {server: "https://h:1"}}]
)";
  for (const Row& r : std::initializer_list<Row>{
           {"[1, 2", "", "not valid YAML"},
           {"- a\n- b\n", "", "not a kubeconfig"},
           {ok_cluster + "contexts: [{name: x, context: {cluster: c}}]\n", "", "no current-context"},
           {ok_cluster + "contexts: [{name: x, context: {cluster: c}}]\n", "y", "no context named \"y\""},
           {ok_cluster + "contexts: [{name: x, context: {cluster: nope}}]\n", "x", "no cluster named \"nope\""},
           {ok_cluster + "contexts: [{name: x, context: {cluster: c, user: u}}]\n", "x", "no user named \"u\""},
           {"clusters: [{name: c, cluster: {server: ftp://h}}]\ncontexts: [{name: x, context: {cluster: c}}]\n", "x",
            "not an http(s) URL"},
           {"clusters: [{name: c, cluster: {}}]\ncontexts: [{name: x, context: {cluster: c}}]\n", "x",
            "server is required"},
           {"clusters: [{name: c, cluster: {server: \"https://h\", certificate-authority-data: \"!!\"}}]\n"
            "contexts: [{name: x, context: {cluster: c}}]\n",
            "x", "not valid base64"},
           {"clusters: [{name: c, cluster: {server: \"https://h\", certificate-authority: /no/such/ca.pem}}]\n"
            "contexts: [{name: x, context: {cluster: c}}]\n",
            "x", "cannot read /no/such/ca.pem"},
           {ok_cluster + "users: [{name: u, user: {client-certificate-data: " + Base64Encode(kPem) +
                "}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\n",
            "x", "must be given together"},
           {ok_cluster + "users: [{name: u, user: {exec: {command: aws}}}]\n"
                         "contexts: [{name: x, context: {cluster: c, user: u}}]\n",
            "x", "exec and auth-provider credentials are not supported"},
           {"clusters: {a: b}\ncontexts: [{name: x, context: {cluster: c}}]\n", "x", "clusters must be a list"},
       }) {
    CAPTURE(r.text);
    auto c = ParseKubeconfig(r.text, "/tmp", r.context, "test.yaml");
    REQUIRE_FALSE(c.ok());
    CHECK(c.status().reason() == Reason::kBadRequest);
    CHECK(c.status().message().find(r.want) != std::string::npos);
    CHECK(c.status().message().find("test.yaml") == 0);
  }
}

TEST_CASE("an inline kubeconfig (from a Secret) refuses every local file and plugin, existing or not") {
  const auto dir = std::filesystem::temp_directory_path() / ("kci-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "secret") << "stolen\n";
  const std::string real = (dir / "secret").string();
  const std::string cluster = R"(clusters: [{name: c, cluster: {server: "https://h:1"}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
)";
  for (const std::string& user : {"{tokenFile: " + real + "}", std::string("{tokenFile: /no/such/file}"),
                                  "{client-certificate: " + real + ", client-key: " + real + "}",
                                  std::string("{exec: {command: sh}}"), std::string("{auth-provider: {name: gcp}}")}) {
    CAPTURE(user);
    auto c = ParseInlineKubeconfig(cluster + "users: [{name: u, user: " + user + "}]\n", "the Secret");
    REQUIRE_FALSE(c.ok());
    CHECK(c.status().message().find("must carry its credentials inline") != std::string::npos);
    // The message is the same whether the path exists or not, and never names it.
    CHECK(c.status().message().find(dir.string()) == std::string::npos);
    CHECK(c.status().message().find("/no/such") == std::string::npos);
  }
  auto ca =
      ParseInlineKubeconfig("clusters: [{name: c, cluster: {server: \"https://h:1\", certificate-authority: " + real +
                                "}}]\ncontexts: [{name: x, context: {cluster: c}}]\ncurrent-context: x\n",
                            "the Secret");
  REQUIRE_FALSE(ca.ok());
  CHECK(ca.status().message().find("cluster.certificate-authority is not allowed") != std::string::npos);
  auto ok = ParseInlineKubeconfig(cluster + "users: [{name: u, user: {token: abc}}]\n", "the Secret");
  REQUIRE(ok.ok());
  CHECK(ok->token == "abc");
  std::filesystem::remove_all(dir);
}

TEST_CASE("a token with a line break or control character is never a header value") {
  CHECK(TokenProblem("abc.def-ghi_jkl").empty());
  CHECK_FALSE(TokenProblem("abc\r\nX-Injected: 1").empty());
  CHECK_FALSE(TokenProblem(std::string("a\0b", 3)).empty());
  CHECK_FALSE(TokenProblem(std::string(17 * 1024, 'a')).empty());
  auto c = ParseKubeconfig(
      "clusters: [{name: c, cluster: {server: \"https://h:1\"}}]\nusers: [{name: u, user: {token: \"a\\nb\"}}]\n"
      "contexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n",
      "/tmp");
  REQUIRE_FALSE(c.ok());
  CHECK(c.status().message().find("control character") != std::string::npos);
}

}  // namespace
}  // namespace tmcd::kube
