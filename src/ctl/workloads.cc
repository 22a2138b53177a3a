#include "ctl/workloads.h"

#include <map>
#include <set>
#include <tuple>

#include "common/strings.h"
#include "sync/interpreter.h"

namespace tmcd::ctl {
namespace {

const std::map<std::string, std::string>& ShortNames() {
  static const std::map<std::string, std::string> kShort = {{"deploy", "deployments"},
                                                            {"sts", "statefulsets"},
                                                            {"ds", "daemonsets"},
                                                            {"rs", "replicasets"},
                                                            {"cj", "cronjobs"},
                                                            {"svc", "services"},
                                                            {"ing", "ingresses"},
                                                            {"netpol", "networkpolicies"},
                                                            {"pvc", "persistentvolumeclaims"},
                                                            {"hpa", "horizontalpodautoscalers"},
                                                            {"pdb", "poddisruptionbudgets"},
                                                            {"cm", "configmaps"},
                                                            {"sa", "serviceaccounts"}};
  return kShort;
}

std::string GroupResource(const std::string& group, const std::string& resource) {
  return group.empty() ? resource : resource + "." + group;
}

// SyncRecords of the workspace, in the list namespace (all with -A); NotFound in kcp mode.
Result<std::vector<Json>> Records(Session& s, const std::string& ns) {
  auto list = s.conn.client->ListAll(s.Tmc("syncrecords", ns), {});
  if (!list.ok()) return list.status();
  return std::move(list->items);
}

constexpr const char* kNoRecords =
    "SyncRecords are served by tmcd's local API only: in kcp mode, point tmcctl at tmcd (--socket) with --workspace";

}  // namespace

Result<WorkloadRef> ParseWorkload(Session& s, const std::string& arg) {
  const auto slash = arg.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == arg.size()) {
    return BadRequest("want KIND/NAME (e.g. deployment/web or widgets.example.com/w), got " + Quote(arg));
  }
  std::string type = ToLower(arg.substr(0, slash));
  WorkloadRef out;
  out.name = arg.substr(slash + 1);
  if (auto it = ShortNames().find(type); it != ShortNames().end()) type = it->second;
  const auto dot = type.find('.');
  const std::string head = type.substr(0, dot);
  const std::string group = dot == std::string::npos ? "" : type.substr(dot + 1);
  for (const auto& k : sync::BuiltinKinds()) {
    const bool named = head == k.resource || head == ToLower(k.kind);
    if (named && (dot == std::string::npos || group == k.group)) {
      out.group = k.group;
      out.version = k.version;
      out.resource = k.resource;
      return out;
    }
  }
  if (dot == std::string::npos) {
    return BadRequest("unknown kind " + Quote(type) +
                      ": name other kinds as resource.group (e.g. widgets.example.com)");
  }
  std::string path = s.conn.workspace.empty() ? "" : "/clusters/" + s.conn.workspace;
  auto g = s.conn.client->GetPath(path + "/apis/" + group);
  if (!g.ok()) return Status(g.status().reason(), "API group " + Quote(group) + ": " + g.status().message());
  out.group = group;
  out.version = Text(*g, "/preferredVersion/version"_json_pointer);
  out.resource = head;
  if (out.version.empty()) return NotFound("API group " + Quote(group) + " has no preferred version");
  return out;
}

int WorkloadList(Session& s) {
  auto records = Records(s, s.ListNamespace());
  if (!records.ok()) return Fail(s, records.status(), records.status().reason() == Reason::kNotFound ? kNoRecords : "");
  // One row per workload: its clusters and the phases of its copies.
  std::map<std::tuple<std::string, std::string, std::string>, std::vector<const Json*>> by;
  for (const auto& r : *records) {
    const std::string gr =
        GroupResource(Text(r, "/spec/upstream/group"_json_pointer), Text(r, "/spec/upstream/resource"_json_pointer));
    by[{Text(r, "/spec/upstream/namespace"_json_pointer), gr + "/" + Text(r, "/spec/upstream/name"_json_pointer),
        Text(r, "/spec/placementName"_json_pointer)}]
        .push_back(&r);
  }
  if (s.format == Format::kJson || s.format == Format::kYaml || s.format == Format::kName) {
    *s.out << RenderObjects(*records, s.format, true);
    return kExitOk;
  }
  if (by.empty()) {
    NoResources(s, true);
    return kExitOk;
  }
  Table t{{"NAMESPACE", "WORKLOAD", "PLACEMENT", "CLUSTERS", "PHASE", "READY"}, {}, {}};
  for (const auto& [key, rs] : by) {
    std::vector<std::string> clusters;
    std::map<std::string, int> phases;
    int ready = 0;
    for (const Json* r : rs) {
      clusters.push_back(Text(*r, "/spec/clusterName"_json_pointer));
      ++phases[Text(*r, "/status/phase"_json_pointer).empty() ? "Pending" : Text(*r, "/status/phase"_json_pointer)];
      for (const auto& c : r->value("status", Json::object()).value("conditions", Json::array())) {
        if (c.value("type", "") == "Ready" && c.value("status", "") == "True") ++ready;
      }
    }
    std::vector<std::string> phase;
    phase.reserve(phases.size());
    for (const auto& [p, n] : phases) phase.push_back(phases.size() == 1 ? p : p + "(" + std::to_string(n) + ")");
    t.rows.push_back({std::get<0>(key), std::get<1>(key), std::get<2>(key), Join(clusters, ","), Join(phase, ","),
                      std::to_string(ready) + "/" + std::to_string(rs.size())});
  }
  if (!s.all_namespaces) {
    t.headers.erase(t.headers.begin());
    for (auto& r : t.rows) r.erase(r.begin());
  }
  *s.out << RenderTable(t, s.format == Format::kWide);
  return kExitOk;
}

}  // namespace tmcd::ctl
