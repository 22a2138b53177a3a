// `tmcctl cluster describe` and `tmcctl placement describe` (docs/tmcctl.md).
#include <map>

#include "common/strings.h"
#include "ctl/clusters.h"
#include "ctl/describe.h"
#include "ctl/placements.h"

namespace tmcd::ctl {
namespace {

std::string CapacityTable(const Json& c) {
  const Json st = c.value("status", Json::object());
  Table t{{"RESOURCE", "CAPACITY", "ALLOCATABLE", "AVAILABLE"}, {}, {}};
  for (const char* r : {"cpu", "memory", "pods"}) {
    const auto get = [&](const char* what) {
      return st.contains(what) && st[what].contains(r) ? BinaryQuantity(st[what][r].get<std::string>())
                                                       : std::string("-");
    };
    t.rows.push_back({r, get("capacity"), get("allocatable"), get("available")});
  }
  return RenderTable(t, false);
}

std::string SyncedResources(const Json& c) {
  const Json list = c.value("status", Json::object()).value("syncedResources", Json::array());
  if (list.empty()) return "<none>";
  Table t{{"RESOURCE", "VERSIONS", "STATE"}, {}, {}};
  for (const auto& r : list) {
    const std::string g = r.value("group", "");
    std::vector<std::string> versions;
    for (const auto& v : r.value("versions", Json::array())) versions.push_back(v.get<std::string>());
    t.rows.push_back({r.value("resource", "") + (g.empty() ? "" : "." + g), Join(versions, ","), r.value("state", "")});
  }
  return RenderTable(t, false);
}

std::string Placed(Session& s, const std::string& name) {
  auto records = RecordsOn(s, name);
  if (!records.ok()) {
    return records.status().reason() == Reason::kNotFound
               ? "(not listed here: SyncRecords are served by tmcd's local API only)"
               : "(cannot list SyncRecords: " + records.status().message() + ")";
  }
  if (records->empty()) return "<none>";
  Table t{{"NAMESPACE", "WORKLOAD", "PLACEMENT", "PHASE", "LAST SYNC"}, {}, {}};
  for (const auto& r : *records) {
    const Json up = r["spec"]["upstream"];
    const std::string g = up.value("group", "");
    t.rows.push_back({up.value("namespace", ""),
                      up.value("resource", "") + (g.empty() ? "" : "." + g) + "/" + up.value("name", ""),
                      Text(r, "/spec/placementName"_json_pointer), Text(r, "/status/phase"_json_pointer),
                      Age(Text(r, "/status/lastSyncTime"_json_pointer), s.now)});
  }
  return RenderTable(t, false);
}

}  // namespace

int ClusterDescribe(Session& s, const std::string& name) {
  auto got = GetCluster(s, name);
  if (!got.ok()) return Fail(s, got.status(), "`tmcctl cluster list` shows the registered clusters");
  const Json& c = *got;
  Describer d;
  std::vector<std::string> taints;
  for (const auto& t : c["spec"].value("taints", Json::array())) {
    taints.push_back(t.value("key", "") + (t.value("value", "").empty() ? "" : "=" + t.value("value", "")) + ":" +
                     t.value("effect", ""));
  }
  const std::string creds = c["spec"].contains("credentialsRef")
                                ? Text(c, "/spec/credentialsRef/namespace"_json_pointer) + "/" +
                                      Text(c, "/spec/credentialsRef/name"_json_pointer) + " (Secret)"
                                : "";
  d.Section({{"Name", name},
             {"Labels", LabelLines(c["metadata"].value("labels", Json::object()))},
             {"Location", Text(c, "/spec/location"_json_pointer)},
             {"Zone", Text(c, "/spec/zone"_json_pointer)},
             {"Provider", Text(c, "/spec/provider"_json_pointer)},
             {"Server", Text(c, "/spec/endpoint/server"_json_pointer)},
             {"Credentials", creds},
             {"Unschedulable", c["spec"].value("unschedulable", false) ? "true" : "false"},
             {"Taints", taints.empty() ? "<none>" : Join(taints, "\n")},
             {"Kubernetes Version", Text(c, "/status/kubernetesVersion"_json_pointer)},
             {"Cluster ID", Text(c, "/status/clusterID"_json_pointer)},
             {"Last Heartbeat", Text(c, "/status/lastHeartbeatTime"_json_pointer)},
             {"Created", Text(c, "/metadata/creationTimestamp"_json_pointer)}});
  d.Heading("Capacity");
  d.Indented(CapacityTable(c));
  d.Heading("Synced Resources");
  d.Indented(SyncedResources(c));
  d.Heading("Conditions");
  d.Indented(ConditionTable(c.value("status", Json::object()).value("conditions", Json::array()), s.now));
  d.Heading("Placed Workloads");
  d.Indented(Placed(s, name));
  *s.out << d.str();
  return kExitOk;
}

int PlacementDescribe(Session& s, const std::string& name) {
  auto got = s.conn.client->Get(s.Tmc("workloadplacements", s.namespace_), name);
  if (!got.ok()) return Fail(s, got.status(), "`tmcctl placement list -A` shows the placements");
  const Json& p = *got;
  const Json spec = p.value("spec", Json::object());
  const Json st = p.value("status", Json::object());
  std::vector<std::string> resources;
  for (const auto& r : spec["workloadSelector"].value("resources", Json::array())) {
    const std::string g = r.value("group", "");
    resources.push_back(r.value("resource", "") + (g.empty() ? "" : "." + g));
  }
  Describer d;
  d.Section({{"Name", name},
             {"Namespace", s.namespace_},
             {"Workloads", Join(resources, ", ") + " matching " +
                               spec["workloadSelector"].value("labelSelector", Json::object()).dump()},
             {"Cluster Selector", spec.value("clusterSelector", Json::object()).dump()},
             {"Clusters Wanted", spec.contains("numberOfClusters") ? spec["numberOfClusters"].dump() : "all matching"},
             {"Strategy", spec.value("strategy", "")},
             {"Replicas", spec.value("replicaScheduling", Json::object()).value("type", "Duplicated")},
             {"Deletion Policy", spec.value("deletionPolicy", "Delete")},
             {"Selected Workloads", st.contains("selectedWorkloads") ? st["selectedWorkloads"].dump() : "0"},
             {"Last Scheduled", st.value("lastScheduleTime", "")}});
  d.Heading("Decisions");
  Table t{{"CLUSTER", "LOCATION", "REPLICAS", "SCORE", "REASON"}, {}, {}};
  for (const auto& dd : st.value("decisions", Json::array())) {
    t.rows.push_back({dd.value("clusterName", ""), dd.value("location", ""),
                      dd.contains("replicas") ? dd["replicas"].dump() : "-",
                      dd.contains("score") ? dd["score"].dump() : "-", dd.value("reason", "")});
  }
  d.Indented(t.rows.empty() ? "<none>" : RenderTable(t, false));
  if (!st.value("evictions", Json::array()).empty()) {
    d.Heading("Evictions");
    Table e{{"CLUSTER", "REASON", "SINCE", "MESSAGE"}, {}, {}};
    for (const auto& ev : st["evictions"]) {
      e.rows.push_back({ev.value("clusterName", ""), ev.value("reason", ""), Age(ev.value("startTime", ""), s.now),
                        ev.value("message", "")});
    }
    d.Indented(RenderTable(e, false));
  }
  d.Heading("Conditions");
  d.Indented(ConditionTable(st.value("conditions", Json::array()), s.now));
  *s.out << d.str();
  return kExitOk;
}

}  // namespace tmcd::ctl
