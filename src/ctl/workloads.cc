#include "ctl/workloads.h"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include "apis/meta/selector.h"
#include "common/strings.h"
#include "ctl/watch.h"
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
Result<kube::ObjectList> Records(Session& s, const std::string& ns) {
  return s.conn.client->ListAll(s.Tmc("syncrecords", ns), {});
}

using WorkloadKey = std::tuple<std::string, std::string, std::string>;  // namespace, resource/name, placement

WorkloadKey KeyOf(const Json& r) {
  const std::string gr =
      GroupResource(Text(r, "/spec/upstream/group"_json_pointer), Text(r, "/spec/upstream/resource"_json_pointer));
  return {Text(r, "/spec/upstream/namespace"_json_pointer), gr + "/" + Text(r, "/spec/upstream/name"_json_pointer),
          Text(r, "/spec/placementName"_json_pointer)};
}

// "Applied", or "Applied(1),Failed(1)" when the copies differ; `none` without copies.
std::string Phases(const std::map<std::string, int>& phases, const std::string& none) {
  if (phases.empty()) return none;
  if (phases.size() == 1) return phases.begin()->first;
  std::vector<std::string> out;
  out.reserve(phases.size());
  for (const auto& [p, n] : phases) out.push_back(p + "(" + std::to_string(n) + ")");
  return Join(out, ",");
}

// One row per workload: its clusters and the phases of its copies ("-" for one whose copies all went).
Table WorkloadTable(const Session& s, const std::map<WorkloadKey, std::vector<const Json*>>& by) {
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
    t.rows.push_back({std::get<0>(key), std::get<1>(key), std::get<2>(key),
                      clusters.empty() ? "-" : Join(clusters, ","), Phases(phases, "-"),
                      std::to_string(ready) + "/" + std::to_string(rs.size())});
  }
  if (!s.all_namespaces) {
    t.headers.erase(t.headers.begin());
    for (auto& r : t.rows) r.erase(r.begin());
  }
  return t;
}

// The version to list group/resource at and its kind: the interpreter's for built-in kinds, else
// discovery's preferred version.
Result<std::pair<std::string, std::string>> VersionAndKind(Session& s, const std::string& group,
                                                           const std::string& resource) {
  for (const auto& k : sync::BuiltinKinds()) {
    if (k.group == group && k.resource == resource) return std::make_pair(k.version, k.kind);
  }
  const std::string path = (s.conn.workspace.empty() ? "" : "/clusters/" + s.conn.workspace) + "/apis/" + group;
  auto g = s.conn.client->GetPath(path);
  if (!g.ok()) return g.status();
  const std::string v = Text(*g, "/preferredVersion/version"_json_pointer);
  if (v.empty()) return NotFound("API group " + Quote(group) + " has no preferred version");
  auto d = s.conn.client->GetPath(path + "/" + v);
  if (!d.ok()) return d.status();
  for (const auto& r : d->value("resources", Json::array())) {
    if (r.value("name", "") == resource) return std::make_pair(v, r.value("kind", ""));
  }
  return NotFound(Quote(resource + "." + group) + " is not served in this workspace");
}

// kcp mode: kcp serves no SyncRecords, so the placements say which workloads they select and each
// workload's tmc.kcp.io/cluster-status annotation (written by tmcd) where its copies are and how they do.
int ListFromAnnotations(Session& s) {
  auto placements = s.conn.client->ListAll(s.Tmc("workloadplacements", s.ListNamespace()), {});
  if (!placements.ok()) return Fail(s, placements.status());
  Table t{{"NAMESPACE", "WORKLOAD", "PLACEMENT", "CLUSTERS", "PHASE", "READY"}, {}, {}};
  std::vector<Json> objects;
  for (const auto& p : placements->items) {
    const std::string ns = Text(p, "/metadata/namespace"_json_pointer);
    const Json sel = p.value("spec", Json::object()).value("workloadSelector", Json::object());
    kube::ListOptions lo;
    lo.label_selector = apis::LabelSelectorString(sel.value("labelSelector", Json::object()));
    for (const auto& gr : sel.value("resources", Json::array())) {
      const std::string group = gr.value("group", ""), resource = gr.value("resource", "");
      auto vk = VersionAndKind(s, group, resource);
      if (!vk.ok()) return Fail(s, vk.status());
      auto list = s.conn.client->ListAll(s.Ref(group, vk->first, resource, ns), lo);
      if (!list.ok()) return Fail(s, list.status());
      for (auto& w : list->items) {
        w["apiVersion"] = group.empty() ? vk->first : group + "/" + vk->first;  // list items carry neither
        w["kind"] = vk->second;
        Json per =
            Json::parse(Text(w, "/metadata/annotations/tmc.kcp.io~1cluster-status"_json_pointer), nullptr, false);
        if (!per.is_object()) per = Json::object();
        std::vector<std::string> clusters;
        std::map<std::string, int> phases;
        int healthy = 0;
        for (const auto& [cluster, e] : per.items()) {
          clusters.push_back(cluster);
          ++phases[e.value("phase", "").empty() ? "Pending" : e.value("phase", "")];
          if (e.value("healthy", false)) ++healthy;
        }
        t.rows.push_back({ns, GroupResource(group, resource) + "/" + Text(w, "/metadata/name"_json_pointer),
                          Text(p, "/metadata/name"_json_pointer), clusters.empty() ? "-" : Join(clusters, ","),
                          Phases(phases, "Pending"), std::to_string(healthy) + "/" + std::to_string(clusters.size())});
        objects.push_back(std::move(w));
      }
    }
  }
  if (s.format == Format::kJson || s.format == Format::kYaml || s.format == Format::kName) {
    *s.out << RenderObjects(objects, s.format, true);
    return kExitOk;
  }
  if (t.rows.empty()) {
    NoResources(s, true);
    return kExitOk;
  }
  std::sort(t.rows.begin(), t.rows.end());
  if (!s.all_namespaces) {
    t.headers.erase(t.headers.begin());
    for (auto& r : t.rows) r.erase(r.begin());
  }
  *s.out << RenderTable(t, s.format == Format::kWide);
  return kExitOk;
}

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
  auto vk = VersionAndKind(s, group, head);
  if (!vk.ok()) return Status(vk.status().reason(), "API group " + Quote(group) + ": " + vk.status().message());
  out.group = group;
  out.version = vk->first;
  out.resource = head;
  return out;
}

int WorkloadList(Session& s, bool watch) {
  auto records = Records(s, s.ListNamespace());
  if (!records.ok() && records.status().reason() == Reason::kNotFound) {
    if (watch) {
      return Fail(s, BadRequest("--watch follows tmcd's SyncRecords, which kcp does not serve"),
                  "watch through tmcd itself: tmcctl --socket PATH --workspace <logical cluster> workload list -w");
    }
    return ListFromAnnotations(s);
  }
  if (!records.ok()) return Fail(s, records.status());
  if (s.format == Format::kJson || s.format == Format::kYaml || s.format == Format::kName) {
    *s.out << RenderObjects(records->items, s.format, !watch);
  } else {
    std::map<WorkloadKey, std::vector<const Json*>> by;
    for (const auto& r : records->items) by[KeyOf(r)].push_back(&r);
    if (by.empty()) NoResources(s, true);
    // A watching list prints the header even with nothing in it yet, as kubectl get -w does.
    if (!by.empty() || watch) *s.out << RenderTable(WorkloadTable(s, by), s.format == Format::kWide);
  }
  if (!watch) return kExitOk;
  s.out->flush();
  // Every change of a SyncRecord prints its workload's row again, over every copy known so far.
  std::map<std::string, Json> known;  // record namespace/name → record
  for (auto& r : records->items) {
    std::string id = Text(r, "/metadata/namespace"_json_pointer) + "/" + Text(r, "/metadata/name"_json_pointer);
    known[std::move(id)] = std::move(r);
  }
  return WatchRows(s, s.Tmc("syncrecords", s.ListNamespace()), records->resource_version, "",
                   [&s, &known](const std::vector<Json>& changed, bool deleted) {
                     std::map<WorkloadKey, std::vector<const Json*>> by;
                     for (const Json& c : changed) {
                       const std::string id =
                           Text(c, "/metadata/namespace"_json_pointer) + "/" + Text(c, "/metadata/name"_json_pointer);
                       if (deleted) {
                         known.erase(id);
                       } else {
                         known[id] = c;
                       }
                       by[KeyOf(c)];
                     }
                     for (const auto& [id, r] : known) {
                       if (auto it = by.find(KeyOf(r)); it != by.end()) it->second.push_back(&r);
                     }
                     return WorkloadTable(s, by);
                   });
}

}  // namespace tmcd::ctl
