#include "common/config.h"

#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace tmcd {
namespace {

// A config file in a fresh temp dir, removed at scope end.
class TempFile {
 public:
  explicit TempFile(const std::string& content) {
    char tmpl[] = "/tmp/tmcd-config-XXXXXX";
    dir_ = mkdtemp(tmpl);
    path_ = dir_ + "/tmcd.yaml";
    std::ofstream(path_) << content;
  }
  ~TempFile() { std::filesystem::remove_all(dir_); }
  const std::string& path() const { return path_; }

 private:
  std::string dir_;
  std::string path_;
};

ConfigLoader::Env NoEnv() {
  return [](std::string_view) { return std::optional<std::string>(); };
}

Result<Config> LoadYaml(const std::string& yaml) {
  TempFile f(yaml);
  return ConfigLoader(f.path(), {}, NoEnv()).Load();
}

TEST_CASE("upstream.claimedResources: kcp's resource:identity notation, as a YAML list or one string") {
  const std::string hash(64, 'a');
  auto claims =
      LoadYaml("upstream:\n  kind: kcp\n  kubeconfig: k\n  claimedResources:\n  - widgets.v1.example.com:" + hash +
               "\n  - roles.v1.rbac.authorization.k8s.io\n  - events.v1\n");
  REQUIRE_MESSAGE(claims.ok(), claims.status().ToString());
  REQUIRE(claims->upstream_claimed_resources.size() == 3);
  const auto& w = claims->upstream_claimed_resources[0];
  CHECK(w.resource == "widgets");
  CHECK(w.version == "v1");
  CHECK(w.group == "example.com");
  CHECK(w.identity_hash == hash);
  CHECK(claims->upstream_claimed_resources[1].group == "rbac.authorization.k8s.io");
  CHECK(claims->upstream_claimed_resources[1].identity_hash.empty());
  CHECK(claims->upstream_claimed_resources[2].group.empty());
  CHECK(claims->upstream_claimed_resources[2].String() == "events.v1");
  CHECK(w.String() == "widgets.v1.example.com:" + hash);

  auto flag = ConfigLoader("",
                           {{"upstream", "kcp"},
                            {"upstream-kubeconfig", "k"},
                            {"upstream-claimed-resources", "widgets.v1.example.com:" + hash + ", gadgets.v2.x.io"}},
                           NoEnv())
                  .Load();
  REQUIRE_MESSAGE(flag.ok(), flag.status().ToString());
  CHECK(flag->upstream_claimed_resources.size() == 2);

  for (const std::string& bad : std::vector<std::string>{
           "widgets", "widgets.1.example.com", "Widgets.v1.example.com", "widgets.v1.example.com:xyz",
           "widgets.v1.example.com:" + std::string(64, 'A'), "widgets.v1..com", "widgets.v1.example.com/" + hash}) {
    auto r = LoadYaml("upstream: {kind: kcp, kubeconfig: k, claimedResources: [\"" + bad + "\"]}\n");
    CHECK_MESSAGE(r.status().reason() == Reason::kInvalid, bad);
  }
  auto own =
      LoadYaml("upstream: {kind: kcp, kubeconfig: k, claimedResources: [clusterregistrations.v1alpha1.tmc.kcp.io]}\n");
  CHECK(own.status().message().find("tmcd's own group") != std::string::npos);
  auto twice = LoadYaml("upstream: {kind: kcp, kubeconfig: k, claimedResources: [a.v1.x.io, a.v2.x.io]}\n");
  CHECK(twice.status().message().find("claimed twice") != std::string::npos);
  auto embedded = LoadYaml("upstream: {claimedResources: [a.v1.x.io]}\n");
  CHECK(embedded.status().message().find("claims are made in kcp mode only") != std::string::npos);
  auto nested = LoadYaml("upstream: {kind: kcp, kubeconfig: k, claimedResources: [[a.v1.x.io]]}\n");
  CHECK(nested.status().message().find("expected a list of strings") != std::string::npos);
}

TEST_CASE("upstream keys: kcp mode needs a kubeconfig and the TMCAPIExport gate") {
  auto embedded = LoadYaml("dataDir: /tmp/x\n");
  REQUIRE(embedded.ok());
  CHECK(embedded->upstream_kind == "embedded");
  CHECK(embedded->upstream_workspace == "root:tmc");
  CHECK(embedded->upstream_export_workload_types);

  auto kcp = LoadYaml("upstream:\n  kind: kcp\n  kubeconfig: /etc/tmcd/kcp.kubeconfig\n  workspace: root:org:tmc\n");
  REQUIRE_MESSAGE(kcp.ok(), kcp.status().ToString());
  CHECK(kcp->upstream_kind == "kcp");
  CHECK(kcp->upstream_workspace == "root:org:tmc");

  auto no_kubeconfig = LoadYaml("upstream:\n  kind: kcp\n");
  CHECK(no_kubeconfig.status().message().find("upstream.kubeconfig is empty") != std::string::npos);
  auto gated = LoadYaml("upstream: {kind: kcp, kubeconfig: k}\nfeatureGates: {TMCAPIExport: false}\n");
  CHECK(gated.status().reason() == Reason::kInvalid);
  CHECK(gated.status().message().find("feature gate TMCAPIExport is off") != std::string::npos);
  auto master_off = LoadYaml("upstream: {kind: kcp, kubeconfig: k}\nfeatureGates: {TMC: false}\n");
  CHECK(master_off.status().message().find("TMC=false switches every TMC gate off") != std::string::npos);
  auto bad_kind = LoadYaml("upstream:\n  kind: etcd\n");
  CHECK(bad_kind.status().message().find("want one of embedded, kcp") != std::string::npos);
  auto bad_path = LoadYaml("upstream:\n  workspace: /clusters/root\n");
  CHECK(bad_path.status().message().find("want e.g. root:tmc") != std::string::npos);
}

TEST_CASE("durations") {
  CHECK(ParseDuration("500ms")->count() == 500);
  CHECK(ParseDuration("1m30s")->count() == 90000);
  CHECK(ParseDuration("2h")->count() == 7200000);
  CHECK(ParseDuration("1.5s")->count() == 1500);
  CHECK(ParseDuration("0")->count() == 0);
  for (const char* bad : {"", "10", "s", "10x", "-1s", "1s2"}) {
    CAPTURE(bad);
    CHECK_FALSE(ParseDuration(bad).ok());
  }
  CHECK(FormatDuration(std::chrono::milliseconds(90000)) == "90s");
  CHECK(FormatDuration(std::chrono::milliseconds(120000)) == "2m");
  CHECK(FormatDuration(std::chrono::milliseconds(1500)) == "1500ms");
}

TEST_CASE("file values, and errors that name file, line and key") {
  auto ok = LoadYaml(
      "dataDir: /srv/tmcd\nlogging:\n  level: debug\n  format: json\nshutdownTimeout: 30s\n"
      "featureGates:\n  TMCAdvancedPlacement: true\n");
  REQUIRE(ok.ok());
  CHECK(ok->data_dir == "/srv/tmcd");
  CHECK(ok->log_level == "debug");
  CHECK(ok->log_format == "json");
  CHECK(ok->shutdown_timeout == std::chrono::seconds(30));
  CHECK(ok->gates.Enabled(kGateAdvancedPlacement));

  struct Row {
    std::string yaml;
    std::string want;
  };
  for (const Row& r : std::initializer_list<Row>{
           {"logging:\n  level: loud\n", ":2:10: logging.level: invalid log level \"loud\""},
           {"logging:\n  colour: red\n", ":2:3: unknown key \"logging.colour\""},
           {"nope: 1\n", ":1:1: unknown key \"nope\""},
           {"shutdownTimeout: 1h\n", "shutdownTimeout: out of range"},
           {"shutdownTimeout: [1]\n", "shutdownTimeout: expected a duration"},
           {"logging: 3\n", "unknown key \"logging\""},
           {"featureGates:\n  Nope: true\n", ":2:3: featureGates: unknown feature gate \"Nope\""},
           {"featureGates:\n  TMC: perhaps\n", "featureGates: feature gate \"TMC\" has invalid value"},
           {"dataDir: [unclosed\n", "YAML syntax error"},
           {"- a\n- b\n", "document: expected a mapping"},
       }) {
    CAPTURE(r.yaml);
    auto res = LoadYaml(r.yaml);
    REQUIRE_FALSE(res.ok());
    CHECK(res.status().message().find("tmcd.yaml") != std::string::npos);
    CHECK(res.status().message().find(r.want) != std::string::npos);
  }
}

TEST_CASE("precedence: file < environment < flags") {
  TempFile f("logging:\n  level: warn\n  format: json\ndataDir: /from/file\n");
  auto env = [](std::string_view name) -> std::optional<std::string> {
    if (name == "TMCD_LOG_LEVEL") return "error";
    if (name == "TMCD_DATA_DIR") return "/from/env";
    return std::nullopt;
  };
  auto cfg = ConfigLoader(f.path(), {{"data-dir", "/from/flag"}}, env).Load();
  REQUIRE(cfg.ok());
  CHECK(cfg->log_format == "json");      // file only
  CHECK(cfg->log_level == "error");      // env beats file
  CHECK(cfg->data_dir == "/from/flag");  // flag beats env
  CHECK(cfg->source_file == f.path());

  auto bad_env = ConfigLoader("", {}, [](std::string_view n) -> std::optional<std::string> {
                   if (n == "TMCD_FEATURE_GATES") return "Bogus=true";
                   return std::nullopt;
                 }).Load();
  REQUIRE_FALSE(bad_env.ok());
  CHECK(bad_env.status().message().find("environment TMCD_FEATURE_GATES") != std::string::npos);
  auto bad_flag = ConfigLoader("", {{"log-format", "xml"}}, NoEnv()).Load();
  REQUIRE_FALSE(bad_flag.ok());
  CHECK(bad_flag.status().message().find("--log-format") != std::string::npos);
}

TEST_CASE("missing explicit file is an error; empty file is fine") {
  auto res = ConfigLoader("/nonexistent/tmcd.yaml", {}, NoEnv()).Load();
  REQUIRE_FALSE(res.ok());
  CHECK(res.status().message().find("/nonexistent/tmcd.yaml: cannot read file") != std::string::npos);
  CHECK(LoadYaml("").ok());
}

TEST_CASE("the printed default config documents every key and loads back to the defaults") {
  std::string yaml = DefaultConfigYaml();
  for (const auto& k : ConfigKeys()) {
    CAPTURE(k.path);
    CHECK(yaml.find(std::string(k.doc)) != std::string::npos);
    CHECK(yaml.find("--" + std::string(k.flag)) != std::string::npos);
  }
  auto cfg = LoadYaml(yaml);
  REQUIRE(cfg.ok());
  Config defaults;
  for (const auto& k : ConfigKeys()) {
    CAPTURE(k.path);
    CHECK(k.show(*cfg) == k.show(defaults));
  }
}

}  // namespace
}  // namespace tmcd
