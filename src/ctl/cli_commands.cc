// The cluster, placement and workload command groups of tmcctl (docs/tmcctl.md).
#include <memory>

#include "ctl/cli.h"
#include "ctl/clusters.h"
#include "ctl/placements.h"
#include "ctl/register.h"
#include "ctl/workloads.h"

namespace tmcd::ctl {
namespace {

// A leaf command whose action reads its flags after parsing (they live as long as `app`).
template <typename F>
void OnRun(CLI::App* cmd, Action& action, F run) {
  cmd->callback([&action, run] { action = {run, true}; });
}

void AddRegister(CLI::App* cluster, Action& action) {
  auto* cmd = cluster->add_subcommand("register",
                                      "Register a cluster: a least-privilege identity on it, its token "
                                      "in a Secret, the ClusterRegistration");
  auto name = std::make_shared<std::string>();
  auto f = std::make_shared<RegisterFlags>();
  cmd->add_option("name", *name, "Name of the ClusterRegistration")->required();
  cmd->add_option("--cluster-kubeconfig", f->cluster_kubeconfig, "Kubeconfig with administrator access to the cluster")
      ->required();
  cmd->add_option("--cluster-context", f->cluster_context, "Context in --cluster-kubeconfig");
  cmd->add_option("--endpoint", f->endpoint, "Server URL tmcd uses (default: the kubeconfig's)");
  cmd->add_option("--ca-file", f->ca_file, "CA bundle tmcd trusts for the cluster (default: the kubeconfig's)");
  cmd->add_flag("--insecure-skip-tls-verify", f->insecure_skip_tls_verify,
                "Register without verifying the cluster's certificate (reported in its status)");
  cmd->add_option("--location", f->location, "Location (region) of the cluster")->capture_default_str();
  cmd->add_option("--zone", f->zone, "Zone within the location");
  cmd->add_option("--provider", f->provider, "Infrastructure provider");
  cmd->add_option("--labels", f->labels, "Labels of the registration, key=value[,key=value]");
  cmd->add_option("--resources", f->extra_resources, "Also allow these resource.group kinds (custom resources)")
      ->delimiter(',');
  cmd->add_option("--credentials-namespace", f->credentials_namespace, "Namespace of the credentials Secret")
      ->capture_default_str();
  cmd->add_option("--token-ttl-hours", f->token_ttl_hours, "Lifetime of the requested token")
      ->capture_default_str()
      ->check(CLI::Range(1, 87600));
  cmd->add_flag("--wait", f->wait, "Wait until the cluster is Ready");
  cmd->add_option("--timeout", f->wait_timeout_seconds, "Seconds --wait waits")->capture_default_str();
  cmd->add_flag("--dry-run", f->dry_run, "Print what would be created on both sides; create nothing");
  cmd->footer(R"(Examples:
  tmcctl cluster register east --cluster-kubeconfig east.kubeconfig --location us-east --zone a --wait
  tmcctl cluster register east --cluster-kubeconfig east.kubeconfig --dry-run
  # Rotate the credentials: run it again (a new token replaces the old one in the Secret)
  tmcctl cluster register east --cluster-kubeconfig east.kubeconfig)");
  OnRun(cmd, action, [name, f](Session& s) { return ClusterRegister(s, *name, *f); });
}

void AddDeregister(CLI::App* cluster, Action& action) {
  auto* cmd = cluster->add_subcommand("deregister", "Drain a cluster, remove its registration, then the credentials");
  auto name = std::make_shared<std::string>();
  auto f = std::make_shared<DeregisterFlags>();
  cmd->add_option("name", *name, "Name of the ClusterRegistration")->required();
  cmd->add_option("--cluster-kubeconfig", f->cluster_kubeconfig, "Also remove tmcd's identity from the cluster");
  cmd->add_option("--cluster-context", f->cluster_context, "Context in --cluster-kubeconfig");
  auto skip = std::make_shared<bool>(false);
  cmd->add_flag("--skip-drain", *skip, "Remove the copies without moving them first");
  cmd->add_option("--timeout", f->timeout_seconds, "Seconds to wait for the drain and the removal")
      ->capture_default_str();
  cmd->footer("Examples:\n  tmcctl cluster deregister east --cluster-kubeconfig east.kubeconfig");
  OnRun(cmd, action, [name, f, skip](Session& s) {
    f->drain = !*skip;
    return ClusterDeregister(s, *name, *f);
  });
}

void AddClusterViews(CLI::App* cluster, Action& action) {
  for (const char* verb : {"list", "get"}) {
    auto* cmd = cluster->add_subcommand(
        verb, std::string(verb) == "list" ? "List the registered clusters" : "Show clusters by name (as list)");
    auto names = std::make_shared<std::vector<std::string>>();
    auto selector = std::make_shared<std::string>();
    auto watch = std::make_shared<bool>(false);
    cmd->add_option("names", *names, "Names (default: all)");
    cmd->add_option("-l,--selector", *selector, "Label selector, e.g. env=prod");
    cmd->add_flag("-w,--watch", *watch, "After listing, print every change (until interrupted)");
    cmd->footer(
        "Examples:\n  tmcctl cluster list -o wide\n  tmcctl cluster get east -o yaml\n  tmcctl cluster list -w");
    OnRun(cmd, action, [names, selector, watch](Session& s) { return ClusterList(s, *names, *selector, *watch); });
  }
  auto* describe = cluster->add_subcommand("describe", "Show a cluster's details, conditions, capacity and copies");
  auto dname = std::make_shared<std::string>();
  describe->add_option("name", *dname, "Cluster name")->required();
  describe->footer("Examples:\n  tmcctl cluster describe east");
  OnRun(describe, action, [dname](Session& s) { return ClusterDescribe(s, *dname); });
  for (const bool cordon : {true, false}) {
    auto* cmd = cluster->add_subcommand(cordon ? "cordon" : "uncordon",
                                        cordon ? "Stop new placements on a cluster" : "Allow new placements again");
    auto name = std::make_shared<std::string>();
    cmd->add_option("name", *name, "Cluster name")->required();
    cmd->footer(cordon ? "Examples:\n  tmcctl cluster cordon east" : "Examples:\n  tmcctl cluster uncordon east");
    OnRun(cmd, action, [name, cordon](Session& s) { return ClusterCordon(s, *name, cordon); });
  }
  auto* taint = cluster->add_subcommand("taint", "Add or remove taints (key[=value]:Effect, key[:Effect]-)");
  auto tname = std::make_shared<std::string>();
  auto specs = std::make_shared<std::vector<std::string>>();
  taint->add_option("name", *tname, "Cluster name")->required();
  taint->add_option("taints", *specs, "key[=value]:Effect to add, key[:Effect]- to remove")->required();
  taint->footer("Examples:\n  tmcctl cluster taint east gpu=true:NoSchedule\n  tmcctl cluster taint east gpu-");
  OnRun(taint, action, [tname, specs](Session& s) { return ClusterTaint(s, *tname, *specs); });
  auto* drain = cluster->add_subcommand("drain", "Move every copy away (cordon + NoExecute taint), then report");
  auto drname = std::make_shared<std::string>();
  auto df = std::make_shared<DrainFlags>();
  auto nowait = std::make_shared<bool>(false);
  drain->add_option("name", *drname, "Cluster name")->required();
  drain->add_flag("--no-wait", *nowait, "Do not wait for the copies to leave");
  drain->add_option("--timeout", df->timeout_seconds, "Seconds to wait")->capture_default_str();
  drain->footer(
      "Examples:\n  tmcctl cluster drain east\n  tmcctl cluster uncordon east && tmcctl cluster taint east "
      "tmc.kcp.io/drain-   # undo");
  OnRun(drain, action, [drname, df, nowait](Session& s) {
    df->wait = !*nowait;
    return ClusterDrain(s, *drname, *df);
  });
}

// A command group: its plural as an alias, one subcommand required, examples.
CLI::App* Group(CLI::App& app, const std::string& name, const std::string& help, const std::string& examples) {
  auto* group = app.add_subcommand(name, help);
  group->alias(name + "s");
  group->require_subcommand(1);
  group->footer("Examples:\n" + examples);
  return group;
}

}  // namespace

void AddClusterCommands(CLI::App& app, Action& action) {
  auto* cluster = Group(app, "cluster", "Register, inspect and operate clusters (ClusterRegistrations)",
                        "  tmcctl cluster list -o wide\n  tmcctl cluster register east --cluster-kubeconfig "
                        "east.kubeconfig --wait\n  tmcctl cluster drain east");
  AddRegister(cluster, action);
  AddDeregister(cluster, action);
  AddClusterViews(cluster, action);
}

void AddPlacementCommands(CLI::App& app, Action& action) {
  auto* placement = Group(app, "placement", "Create and inspect WorkloadPlacements",
                          "  tmcctl -n shop placement create web --selector app=web --clusters 2\n"
                          "  tmcctl -n shop placement explain web");
  auto* create = placement->add_subcommand("create", "Create a placement from flags or a file");
  auto name = std::make_shared<std::string>();
  auto f = std::make_shared<PlacementFlags>();
  create->add_option("name", *name, "Placement name (or metadata.name of -f)");
  create->add_option("-f,--filename", f->file, "A WorkloadPlacement in YAML or JSON ('-' = stdin)");
  create->add_option("--resources", f->resources, "Workload kinds, resource[.group] (default deployments.apps)")
      ->delimiter(',');
  create->add_option("--selector", f->selector, "Workload label selector, key=value[,key=value]");
  create->add_option("--locations", f->locations, "Only clusters in these locations")->delimiter(',');
  create->add_option("--cluster-names", f->clusters, "Only these clusters")->delimiter(',');
  create->add_option("--cluster-selector", f->cluster_selector, "Cluster label selector, key=value[,key=value]");
  create->add_option("--clusters", f->number_of_clusters, "How many clusters (default: every matching one)")
      ->check(CLI::Range(1, 1000));
  create->add_option("--strategy", f->strategy, "Spread, RoundRobin, LeastLoaded, Binpack or LocationAware");
  create->add_option("--replicas", f->replicas, "Duplicated or Divided")
      ->check(CLI::IsMember({"Duplicated", "Divided"}));
  create->add_option("--deletion-policy", f->deletion_policy, "Delete or Orphan")
      ->check(CLI::IsMember({"Delete", "Orphan"}));
  create->add_flag("--dry-run", f->dry_run, "Print the placement; create nothing");
  create->footer(
      "Examples:\n  tmcctl -n shop placement create web --selector app=web --clusters 2\n"
      "  tmcctl -n shop placement create -f placement.yaml");
  OnRun(create, action, [name, f](Session& s) { return PlacementCreate(s, *name, *f); });
  for (const char* verb : {"list", "get"}) {
    auto* cmd = placement->add_subcommand(verb, "List placements (-A: every namespace)");
    auto names = std::make_shared<std::vector<std::string>>();
    auto watch = std::make_shared<bool>(false);
    cmd->add_option("names", *names, "Names (default: all)");
    cmd->add_flag("-w,--watch", *watch, "After listing, print every change (until interrupted)");
    cmd->footer(
        "Examples:\n  tmcctl placement list -A\n  tmcctl -n shop placement get web -o yaml\n"
        "  tmcctl placement list -A -w");
    OnRun(cmd, action, [names, watch](Session& s) { return PlacementList(s, *names, *watch); });
  }
  struct Named {
    const char* verb;
    const char* help;
    int (*fn)(Session&, const std::string&);
    const char* example;
  };
  for (const auto& n : {Named{"describe", "Show a placement's decisions and conditions", PlacementDescribe,
                              "tmcctl -n shop placement describe web"},
                        Named{"explain", "Show every cluster's filter results and scores", PlacementExplain,
                              "tmcctl -n shop placement explain web"},
                        Named{"delete", "Delete a placement (its copies go by its deletionPolicy)", PlacementDelete,
                              "tmcctl -n shop placement delete web"}}) {
    auto* cmd = placement->add_subcommand(n.verb, n.help);
    auto arg = std::make_shared<std::string>();
    cmd->add_option("name", *arg, "Placement name")->required();
    cmd->footer(std::string("Examples:\n  ") + n.example);
    OnRun(cmd, action, [arg, fn = n.fn](Session& s) { return fn(s, *arg); });
  }
  auto* simulate = placement->add_subcommand("simulate", "What a placement would choose now; nothing is stored");
  auto file = std::make_shared<std::string>();
  simulate->add_option("-f,--filename", *file, "A WorkloadPlacement in YAML or JSON ('-' = stdin)")->required();
  simulate->footer("Examples:\n  tmcctl -n shop placement simulate -f placement.yaml");
  OnRun(simulate, action, [file](Session& s) { return PlacementSimulate(s, *file); });
}

void AddWorkloadCommands(CLI::App& app, Action& action) {
  auto* workload = Group(app, "workload", "Where workloads run and how they are doing",
                         "  tmcctl workload list -A\n  tmcctl -n shop workload status deployment/web");
  auto* list = workload->add_subcommand("list", "Every synced workload with its clusters and sync phase");
  auto watch = std::make_shared<bool>(false);
  list->add_flag("-w,--watch", *watch, "After listing, print every change (until interrupted)");
  list->footer("Examples:\n  tmcctl workload list -A\n  tmcctl -n shop workload list --watch");
  OnRun(list, action, [watch](Session& s) { return WorkloadList(s, *watch); });
  struct Named {
    const char* verb;
    const char* help;
    int (*fn)(Session&, const std::string&);
  };
  for (const auto& n :
       {Named{"status", "Per-cluster status of a workload: phase, replicas, last apply, errors", WorkloadStatus},
        Named{"where", "The clusters and namespaces a workload's copies are in", WorkloadWhere}}) {
    auto* cmd = workload->add_subcommand(n.verb, n.help);
    auto arg = std::make_shared<std::string>();
    cmd->add_option("workload", *arg, "KIND/NAME, e.g. deployment/web")->required();
    cmd->footer(std::string("Examples:\n  tmcctl -n shop workload ") + n.verb + " deployment/web");
    OnRun(cmd, action, [arg, fn = n.fn](Session& s) { return fn(s, *arg); });
  }
}

}  // namespace tmcd::ctl
