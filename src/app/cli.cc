#include "app/cli.h"

#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <string>

#include "apis/tmc/v1alpha1/manifests.h"
#include "apis/tmc/v1alpha1/reference_doc.h"
#include "app/app.h"
#include "app/backup.h"
#include "app/config_manpage.h"
#include "app/security_setup.h"
#include "common/config.h"
#include "common/feature_gates.h"
#include "common/strings.h"
#include "observability/logging.h"
#include "tmcd_build_config.h"

namespace tmcd::app {
namespace {

int Fail(int code, const std::string& msg) {
  std::fprintf(stderr, "tmcd: %s\n", msg.c_str());
  return code;
}

std::string VersionText() {
  std::string out = "tmcd " + std::string(TMCD_VERSION) + "\nfeature gates (defaults):";
  for (const auto& g : KnownGates()) out += " " + std::string(g.name) + "=" + (g.default_value ? "true" : "false");
  return out + "\n";
}

// `tmcd generate crds|apiresourceschemas [--output-dir DIR]`: print, or write files under DIR
// (DIR is the repository root: the manifests carry their config/... paths).
int Generate(const std::string& what, const std::string& output_dir) {
  namespace v1 = apis::v1alpha1;
  std::vector<v1::Manifest> manifests;
  if (what == "crds") manifests = v1::CrdManifests();
  if (what == "apiresourceschemas") manifests = v1::KcpManifests();
  if (what == "api-reference") manifests = {{"docs/api-reference.md", v1::ApiReferenceMarkdown()}};
  if (what == "manpage") manifests = {{"man/tmcd.yaml.5", ConfigManPage()}};
  if (output_dir.empty()) {
    const bool single = what == "api-reference" || what == "manpage";
    std::cout << (single ? manifests[0].yaml : v1::JoinYaml(manifests));
    return kExitOk;
  }
  for (const auto& m : manifests) {
    std::filesystem::path path = std::filesystem::path(output_dir) / m.path;
    std::error_code ec;
    std::filesystem::create_directories(path.parent_path(), ec);
    std::ofstream out(path);
    out << m.yaml;
    if (!out) return Fail(kExitFailure, "cannot write " + path.string());
  }
  return kExitOk;
}

// `tmcd kubeconfig --user U [--group G]... [--server URL] [--validity 720h]`.
struct KubeconfigCommand {
  CLI::App* cmd = nullptr;
  KubeconfigRequest request;
  std::string validity = "8760h";
  // One string joined from every --group: a vector<string> option trips a GCC 12 -Wnull-dereference
  // false positive inside CLI11's split().
  std::string groups;

  void Add(CLI::App& cli) {
    cmd = cli.add_subcommand(
        "kubeconfig",
        "Issue a client certificate from tmcd's CA (<dataDir>/pki) and print a kubeconfig for kubectl, curl and "
        "client libraries. Needs read access to the data directory (run as root or as tmcd's user).");
    cmd->fallthrough();  // `tmcd kubeconfig --data-dir D ...`: the daemon's options after the subcommand too
    cmd->add_option("--user", request.user, "User name (certificate CN)")->required();
    cmd->add_option("--group", groups, "Group (certificate O); repeat for several, e.g. --group system:masters")
        ->multi_option_policy(CLI::MultiOptionPolicy::Join)
        ->delimiter(',');
    cmd->add_option("--server", request.server, "Server URL in the kubeconfig (default: https://<listen>)");
    cmd->add_option("--validity", validity, "How long the certificate is valid (e.g. 720h; default 8760h)");
  }

  int Run(const Config& config) {
    auto d = ParseDuration(validity);
    if (!d.ok() || *d < std::chrono::hours(1)) return Fail(kExitUsage, "--validity: want e.g. 720h (>= 1h)");
    request.validity = std::chrono::duration_cast<std::chrono::hours>(*d);
    for (const auto& g : Split(groups, ',')) {
      for (const auto& part : Split(g, '\n')) {
        if (!part.empty()) request.groups.push_back(part);
      }
    }
    auto text = IssueKubeconfig(config, request);
    if (!text.ok()) return Fail(kExitFailure, text.status().message());
    std::cout << *text;
    return kExitOk;
  }
};

// `tmcd backup DIR [--with-keys]` and `tmcd restore DIR` (app/backup.h).
struct BackupCommands {
  CLI::App* backup = nullptr;
  CLI::App* restore = nullptr;
  std::string backup_dir;
  std::string restore_dir;
  bool with_keys = false;

  void Add(CLI::App& cli) {
    backup = cli.add_subcommand("backup",
                                "Copy the store and tmcd's CA into DIR (new or empty), consistently, while tmcd runs "
                                "or not. Run as root or as tmcd's user.");
    backup->fallthrough();
    backup->add_option("dir", backup_dir, "Backup directory (created, mode 0700)")->required();
    backup->add_flag("--with-keys", with_keys,
                     "Also copy the Secret encryption key file (the backup is then as secret as the keys)");
    restore = cli.add_subcommand(
        "restore",
        "Replace the store with the backup in DIR (tmcd must be stopped; the replaced store is kept beside). "
        "Watches from before the restore get 410 and relist.");
    restore->fallthrough();
    restore->add_option("dir", restore_dir, "A directory made by tmcd backup")->required();
  }
  bool Parsed() const { return backup->parsed() || restore->parsed(); }
  int Run(const Config& config) const {
    return backup->parsed() ? BackupCommand(config, backup_dir, with_keys) : RestoreCommand(config, restore_dir);
  }
};

}  // namespace

int TmcdMain(int argc, char** argv) {
  CLI::App cli{"tmcd: Transparent Multi-Cluster daemon for kcp and plain Kubernetes clusters.", "tmcd"};
  cli.footer("\n" + FeatureGates::HelpText() +
             "\nConfiguration precedence: config file < TMCD_* environment < flags. "
             "See tmcd --print-default-config and tmcd.yaml(5).");
  std::string config_file;
  bool show_version = false;
  bool print_default = false;
  cli.add_option("--config", config_file, "Configuration file (default /etc/tmcd/tmcd.yaml if it exists)");
  cli.add_flag("--version", show_version, "Print the version and the feature gates, then exit");
  cli.add_flag("--print-default-config", print_default, "Print every configuration key with its default, then exit");
  std::map<std::string, std::string> flag_values;
  for (const auto& key : ConfigKeys()) {
    auto* opt = cli.add_option("--" + std::string(key.flag), flag_values[std::string(key.flag)],
                               std::string(key.doc) + " [" + std::string(key.path) + ", " + std::string(key.env) + "]");
    opt->type_name(std::string(key.type));
  }
  std::string generate_what;
  std::string generate_dir;
  auto* gen = cli.add_subcommand(
      "generate", "Print generated files: CRDs, kcp APIResourceSchemas + APIExport, the API reference, tmcd.yaml(5)");
  gen->add_option("what", generate_what, "crds | apiresourceschemas | api-reference | manpage")
      ->required()
      ->check(CLI::IsMember({"crds", "apiresourceschemas", "api-reference", "manpage"}));
  gen->add_option("--output-dir", generate_dir, "Write files under this repository root instead of printing");
  KubeconfigCommand kubeconfig;
  kubeconfig.Add(cli);
  std::string encryption_what;
  auto* enc =
      cli.add_subcommand("encryption",
                         "Secret encryption at rest: status, add-key (a new key first in the key file), rewrite "
                         "(re-encrypt every Secret with the current key; tmcd must be stopped)");
  enc->fallthrough();
  enc->add_option("what", encryption_what, "status | add-key | rewrite")
      ->required()
      ->check(CLI::IsMember({"status", "add-key", "rewrite"}));
  BackupCommands backups;
  backups.Add(cli);
  try {
    cli.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return cli.exit(e);
  } catch (const CLI::ParseError& e) {
    cli.exit(e);
    return kExitUsage;
  }
  if (show_version) {
    std::cout << VersionText();
    return kExitOk;
  }
  if (print_default) {
    std::cout << DefaultConfigYaml();
    return kExitOk;
  }
  if (gen->parsed()) return Generate(generate_what, generate_dir);
  std::map<std::string, std::string> given;
  for (const auto& key : ConfigKeys()) {
    if (cli.count("--" + std::string(key.flag)) > 0) given[std::string(key.flag)] = flag_values[std::string(key.flag)];
  }
  ConfigLoader loader(config_file, given, ConfigLoader::ProcessEnv());
  auto config = loader.Load();
  if (!config.ok()) return Fail(kExitUsage, config.status().message());
  if (kubeconfig.cmd->parsed()) return kubeconfig.Run(*config);
  if (enc->parsed()) return EncryptionCommand(*config, encryption_what);
  if (backups.Parsed()) return backups.Run(*config);
  if (int rc = CheckStoreFormat(*config); rc != kExitOk) return rc;
  Status s = observability::SetupLogging(config->log_format, config->log_level);
  if (!s.ok()) return Fail(kExitUsage, s.message());
  App app(*config, loader);
  s = app.Start();
  if (!s.ok()) {
    spdlog::critical("startup failed: {}", s.message());
    return Fail(kExitFailure, s.message());
  }
  return app.Run();
}

}  // namespace tmcd::app
