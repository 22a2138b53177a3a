#include "ctl/cli.h"

#include "common/strings.h"
#include "tmcd_build_config.h"

namespace tmcd::ctl {
namespace {

constexpr const char* kRootFooter = R"(Examples:
  # Register a cluster from an administrator's kubeconfig and wait until it is Ready
  tmcctl cluster register east --cluster-kubeconfig east.kubeconfig --location us-east --wait
  # Place every Deployment labelled app=web in namespace shop on two clusters
  tmcctl -n shop placement create web --selector app=web --clusters 2
  # Where does it run, and how is it doing on each cluster?
  tmcctl -n shop workload status deployment/web

Connecting: --kubeconfig/$KUBECONFIG/~/.kube/config as kubectl (a kubeconfig from `tmcd kubeconfig`),
or --server with --token / client certificates, or --socket for tmcd's Unix socket (the default when
no kubeconfig exists and /run/tmcd/tmcd.sock or /var/lib/tmcd/tmcd.sock does); --workspace for kcp.
Exit codes: 0 success, 1 failure, 2 usage error.)";

void AddGlobalFlags(CLI::App& app, Globals& g) {
  auto& c = g.connect;
  app.add_option("--kubeconfig", c.kubeconfig, "Path to the kubeconfig file (default $KUBECONFIG, ~/.kube/config)");
  app.add_option("--context", c.context, "The kubeconfig context to use");
  app.add_option("-s,--server", c.server, "The address of tmcd or kcp (https://host:port, unix:///path)");
  app.add_option("--socket", c.socket, "tmcd's Unix socket (its peer credentials authenticate you)");
  app.add_option("--token", c.token, "Bearer token for authentication");
  app.add_option("--client-certificate", c.client_certificate, "Path to a client certificate file for TLS");
  app.add_option("--client-key", c.client_key, "Path to a client key file for TLS");
  app.add_option("--certificate-authority", c.certificate_authority, "Path to a CA file to verify the server");
  app.add_flag("--insecure-skip-tls-verify", c.insecure_skip_tls_verify, "Do not verify the server's certificate");
  app.add_option("--workspace", c.workspace, "kcp workspace (logical cluster) path, e.g. root:org:team");
  app.add_option("--request-timeout", c.request_timeout_seconds, "Seconds to wait for one request")
      ->check(CLI::Range(1, 3600));
  app.add_option("-o,--output", g.output, "Output format: table, wide, json, yaml or name");
  app.add_option("-n,--namespace", g.namespace_, "The namespace (default: the context's, else default)");
  app.add_flag("-A,--all-namespaces", g.all_namespaces, "List across all namespaces");
}

int Version(Session& s, bool client_only) {
  *s.out << "Client Version: v" << TMCD_VERSION << "\n";
  if (client_only) return kExitOk;
  auto v = s.conn.client->GetPath((s.conn.workspace.empty() ? "" : "/clusters/" + s.conn.workspace) + "/version");
  if (!v.ok()) return Fail(s, v.status());
  *s.out << "Server Version: " << v->value("gitVersion", "unknown") << "\n";
  if (v->contains("featureGates") && (*v)["featureGates"].is_object()) {
    std::vector<std::string> gates;
    for (const auto& [k, on] : (*v)["featureGates"].items()) gates.push_back(k + "=" + (on == true ? "true" : "false"));
    *s.out << "Feature Gates: " << Join(gates, ",") << "\n";
  }
  return kExitOk;
}

void AddMiscCommands(CLI::App& app, Action& action) {
  auto* version = app.add_subcommand("version", "Print the client and server versions and the server's feature gates");
  auto client_only = std::make_shared<bool>(false);
  version->add_flag("--client", *client_only, "Only the client version (no server needed)");
  version->footer("Examples:\n  tmcctl version\n  tmcctl version --client");
  version->callback([&action, client_only] {
    action = {[client_only](Session& s) { return Version(s, *client_only); }, !*client_only};
  });
  auto* completion = app.add_subcommand("completion", "Print a shell completion script (bash, zsh or fish)");
  auto shell = std::make_shared<std::string>();
  completion->add_option("shell", *shell, "bash, zsh or fish")
      ->required()
      ->check(CLI::IsMember({"bash", "zsh", "fish"}));
  completion->footer(
      "Examples:\n  tmcctl completion fish > ~/.config/fish/completions/tmcctl.fish\n"
      "  source <(tmcctl completion bash)");
  completion->callback([&action, &app, shell] {
    action = {[&app, shell](Session& s) {
                auto script = CompletionScript(app, *shell);
                if (!script.ok()) return Fail(s, script.status());
                *s.out << *script;
                return kExitOk;
              },
              false};
  });
}

// Usage errors (exit 2) before anything is read: the output format and the workspace path.
Status CheckUsage(const Globals& g) {
  TMCD_TRY(ParseFormat(g.output).status());
  if (!g.connect.workspace.empty() && !ValidWorkspacePath(g.connect.workspace)) {
    return BadRequest("--workspace " + Quote(g.connect.workspace) +
                      ": not a workspace path (segments of a-z, 0-9 and '-', joined by ':', e.g. root:org:team)");
  }
  return Status::Ok();
}

Result<Session> MakeSession(const Globals& g, bool connect, std::ostream& out, std::ostream& err) {
  Session s;
  s.out = &out;
  s.err = &err;
  TMCD_ASSIGN_OR_RETURN(s.format, ParseFormat(g.output));
  s.all_namespaces = g.all_namespaces;
  s.namespace_ = g.namespace_;
  if (connect) {
    TMCD_ASSIGN_OR_RETURN(s.conn, Connect(g.connect));
    if (s.namespace_.empty()) s.namespace_ = s.conn.client->config().namespace_;
  }
  if (s.namespace_.empty()) s.namespace_ = "default";
  return s;
}

// The deepest command the user named, and its path ("tmcctl cluster").
const CLI::App* Deepest(const CLI::App& app, std::string* path) {
  *path = "tmcctl";
  const CLI::App* cur = &app;
  for (;;) {
    auto subs = cur->get_subcommands();
    if (subs.empty()) return cur;
    cur = subs.front();
    *path += " " + cur->get_name();
  }
}

// A usage error (exit 2): CLI11's message, made specific for a missing or unknown command.
int UsageError(const CLI::App& app, const CLI::ParseError& e, std::ostream& err) {
  std::string path;
  const CLI::App* cmd = Deepest(app, &path);
  std::string message = e.what();
  if (message == "A subcommand is required") {
    std::vector<std::string> names;
    for (const CLI::App* sub : cmd->get_subcommands({})) names.push_back(sub->get_name());
    auto rest = cmd->remaining();
    if (rest.empty()) rest = app.remaining();  // with fallthrough, unmatched words may end at the root
    message = !rest.empty() && !StartsWith(rest.front(), "-")
                  ? "unknown command " + Quote(rest.front()) + " for " + Quote(path)
                  : Quote(path) + " needs a command: " + Join(names, ", ");
  }
  err << "error: " << message << "\n";
  err << "hint: `" << path << " --help` shows its commands, arguments and flags\n";
  return kExitUsage;
}

}  // namespace

int TmcctlMain(int argc, const char* const* argv, std::ostream& out, std::ostream& err) {
  CLI::App app{"tmcctl: operate tmcd's Transparent Multi-Cluster: clusters, placements and workloads", "tmcctl"};
  app.fallthrough();  // global flags may follow the subcommands, as with kubectl
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("tmcctl v") + TMCD_VERSION);
  Globals g;
  Action action;
  AddGlobalFlags(app, g);
  AddClusterCommands(app, action);
  AddPlacementCommands(app, action);
  AddWorkloadCommands(app, action);
  AddMiscCommands(app, action);
  app.footer(kRootFooter);  // after the subcommands, which would inherit it
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    out << app.help();
    return kExitOk;
  } catch (const CLI::CallForAllHelp& e) {
    out << app.help("", CLI::AppFormatMode::All);
    return kExitOk;
  } catch (const CLI::CallForVersion& e) {
    out << e.what() << "\n";
    return kExitOk;
  } catch (const CLI::ParseError& e) {
    return UsageError(app, e, err);
  }
  if (!action.run) {
    out << app.help();
    return kExitUsage;
  }
  if (Status usage = CheckUsage(g); !usage.ok()) {
    FailTo(err, usage, "", "`tmcctl --help` lists the global flags and their values");
    return kExitUsage;
  }
  auto s = MakeSession(g, action.session, out, err);
  if (!s.ok()) {
    return FailTo(err, s.status(), g.connect.server,
                  s.status().reason() == Reason::kServiceUnavailable
                      ? ""
                      : "check --kubeconfig ($KUBECONFIG), --context and the files the flags name; `tmcd kubeconfig "
                        "--user NAME` writes a kubeconfig for tmcd");
  }
  return action.run(*s);
}

}  // namespace tmcd::ctl
