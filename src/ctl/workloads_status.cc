// `tmcctl workload status|where` (docs/tmcctl.md "Workloads").
#include <map>

#include "common/strings.h"
#include "ctl/describe.h"
#include "ctl/workloads.h"
#include "sync/naming.h"

namespace tmcd::ctl {
namespace {

// The SyncRecords of one workload by cluster; `available` false when the server serves none (kcp).
struct Copies {
  bool available = true;
  std::map<std::string, Json> by_cluster;
};

Result<Copies> CopiesOf(Session& s, const WorkloadRef& w) {
  Copies out;
  auto list = s.conn.client->ListAll(s.Tmc("syncrecords", s.namespace_), {});
  if (!list.ok()) {
    if (list.status().reason() != Reason::kNotFound) return list.status();
    out.available = false;
    return out;
  }
  for (auto& r : list->items) {
    if (Text(r, "/spec/upstream/name"_json_pointer) == w.name &&
        Text(r, "/spec/upstream/resource"_json_pointer) == w.resource &&
        Text(r, "/spec/upstream/group"_json_pointer) == w.group) {
      const std::string cluster = Text(r, "/spec/clusterName"_json_pointer);
      out.by_cluster[cluster] = std::move(r);
    }
  }
  return out;
}

std::string Replicas(const Json& e) {
  if (!e.contains("replicas") && !e.contains("readyReplicas")) return "-";
  return std::to_string(e.value("readyReplicas", 0)) + "/" + std::to_string(e.value("replicas", 0));
}

// Corrections of drift on the cluster: "0", or "2 (5m)" with the age of the last one.
std::string Drift(const Json& record, std::chrono::system_clock::time_point now) {
  const Json st = record.value("status", Json::object());
  const int64_t n = st.value("driftCorrections", int64_t{0});
  if (n == 0) return "0";
  return std::to_string(n) + " (" + Age(Text(record, "/status/lastDriftCorrectionTime"_json_pointer), now) + ")";
}

// kcp mode: kcp serves no SyncRecords. The workload's tmc.kcp.io/cluster-status annotation names its
// clusters and phases, and its kcp.io/cluster annotation the logical cluster the namespace on each
// cluster is derived from (docs/sync.md "Names and marks"); the placement is not recorded there.
int WhereFromAnnotation(Session& s, const WorkloadRef& w, const std::string& arg) {
  auto obj = s.conn.client->Get(s.Ref(w.group, w.version, w.resource, s.namespace_), w.name);
  if (!obj.ok()) return Fail(s, obj.status(), "`tmcctl workload list` shows the workloads tmcd syncs");
  Json per = Json::parse(Text(*obj, "/metadata/annotations/tmc.kcp.io~1cluster-status"_json_pointer), nullptr, false);
  if (!per.is_object() || per.empty()) {
    *s.err << "not placed: no cluster runs " << arg << " in namespace " << s.namespace_ << "\n";
    return kExitFailure;
  }
  const std::string lc = Text(*obj, "/metadata/annotations/kcp.io~1cluster"_json_pointer);
  const std::string dns = lc.empty() ? "-" : sync::DownstreamNamespace(lc, s.namespace_);
  if (s.format == Format::kJson || s.format == Format::kYaml) {
    Json doc = Json::object();
    for (const auto& [cluster, e] : per.items()) doc[cluster] = {{"namespace", dns}, {"phase", e.value("phase", "")}};
    *s.out << (s.format == Format::kJson ? doc.dump(4) + "\n" : ToYaml(doc));
    return kExitOk;
  }
  if (s.format == Format::kName) {
    for (const auto& [cluster, e] : per.items()) *s.out << "clusterregistration.tmc.kcp.io/" << cluster << "\n";
    return kExitOk;
  }
  Table t{{"CLUSTER", "NAMESPACE", "PHASE", "PLACEMENT"}, {}, {}};
  for (const auto& [cluster, e] : per.items()) t.rows.push_back({cluster, dns, e.value("phase", ""), "-"});
  *s.out << RenderTable(t, false);
  return kExitOk;
}

}  // namespace

int WorkloadStatus(Session& s, const std::string& arg) {
  auto w = ParseWorkload(s, arg);
  if (!w.ok()) return Fail(s, w.status());
  auto obj = s.conn.client->Get(s.Ref(w->group, w->version, w->resource, s.namespace_), w->name);
  if (!obj.ok()) return Fail(s, obj.status(), "`tmcctl workload list` shows the workloads tmcd syncs");
  auto copies = CopiesOf(s, *w);
  if (!copies.ok()) return Fail(s, copies.status());
  Json per_cluster = Json::object();
  const std::string ann = Text(*obj, "/metadata/annotations/tmc.kcp.io~1cluster-status"_json_pointer);
  if (!ann.empty()) per_cluster = Json::parse(ann, nullptr, false);
  if (!per_cluster.is_object()) per_cluster = Json::object();
  for (const auto& [cluster, r] : copies->by_cluster) {
    if (!per_cluster.contains(cluster)) per_cluster[cluster] = {{"phase", Text(r, "/status/phase"_json_pointer)}};
    const Json st = r.value("status", Json::object());
    per_cluster[cluster]["driftCorrections"] = st.value("driftCorrections", int64_t{0});
    if (st.contains("lastDriftCorrectionTime")) {
      per_cluster[cluster]["lastDriftCorrectionTime"] = st["lastDriftCorrectionTime"];
    }
  }
  if (s.format == Format::kJson || s.format == Format::kYaml) {
    Json doc = {
        {"workload", {{"group", w->group}, {"resource", w->resource}, {"namespace", s.namespace_}, {"name", w->name}}},
        {"status", obj->value("status", Json::object())},
        {"clusters", per_cluster}};
    *s.out << (s.format == Format::kJson ? doc.dump(4) + "\n" : ToYaml(doc));
    return kExitOk;
  }
  Describer d;
  const std::string gen = Text(*obj, "/metadata/generation"_json_pointer);
  const std::string observed = Text(*obj, "/status/observedGeneration"_json_pointer);
  d.Section({{"Workload", (w->group.empty() ? w->resource : w->resource + "." + w->group) + "/" + w->name},
             {"Namespace", s.namespace_},
             {"Generation", gen + (observed.empty() ? "" : " (observed " + observed + " on every cluster)")},
             {"Replicas", Replicas(obj->value("status", Json::object())) + " ready (aggregated)"}});
  d.Heading("Clusters");
  Table t{{"CLUSTER", "PHASE", "CURRENT", "HEALTHY", "READY", "NAMESPACE", "LAST SYNC", "DRIFT", "ERROR"}, {}, {}};
  for (const auto& [cluster, e] : per_cluster.items()) {
    const auto rec = copies->by_cluster.find(cluster);
    const Json r = rec == copies->by_cluster.end() ? Json::object() : rec->second;
    std::string err = e.value("error", "");
    if (err.empty()) err = Text(r, "/status/lastError"_json_pointer);
    t.rows.push_back({cluster, e.value("phase", ""), e.value("current", false) ? "yes" : "no",
                      e.value("healthy", false) ? "yes" : "no", Replicas(e),
                      Text(r, "/status/downstreamNamespace"_json_pointer),
                      copies->available ? Age(Text(r, "/status/lastSyncTime"_json_pointer), s.now) : "-",
                      copies->available ? Drift(r, s.now) : "-", err.empty() ? "-" : err});
  }
  d.Indented(t.rows.empty() ? "<none> (no placement selects it yet)" : RenderTable(t, false));
  d.Heading("Conditions");
  d.Indented(ConditionTable(obj->value("status", Json::object()).value("conditions", Json::array()), s.now));
  *s.out << d.str();
  return kExitOk;
}

int WorkloadWhere(Session& s, const std::string& arg) {
  auto w = ParseWorkload(s, arg);
  if (!w.ok()) return Fail(s, w.status());
  auto copies = CopiesOf(s, *w);
  if (!copies.ok()) return Fail(s, copies.status());
  if (!copies->available) return WhereFromAnnotation(s, *w, arg);
  if (copies->by_cluster.empty()) {
    *s.err << "not placed: no cluster runs " << arg << " in namespace " << s.namespace_ << "\n";
    return kExitFailure;
  }
  if (s.format == Format::kJson || s.format == Format::kYaml || s.format == Format::kName) {
    std::vector<Json> items;
    for (const auto& [c, r] : copies->by_cluster) items.push_back(r);
    *s.out << RenderObjects(items, s.format, true);
    return kExitOk;
  }
  Table t{{"CLUSTER", "NAMESPACE", "PHASE", "PLACEMENT"}, {}, {}};
  for (const auto& [c, r] : copies->by_cluster) {
    t.rows.push_back({c, Text(r, "/status/downstreamNamespace"_json_pointer), Text(r, "/status/phase"_json_pointer),
                      Text(r, "/spec/placementName"_json_pointer)});
  }
  *s.out << RenderTable(t, false);
  return kExitOk;
}

}  // namespace tmcd::ctl
