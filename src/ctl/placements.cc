#include "ctl/placements.h"

#include <fstream>
#include <iostream>
#include <sstream>

#include "common/strings.h"
#include "registry/yaml_body.h"

namespace tmcd::ctl {
namespace {

Result<Json> MatchLabels(const std::string& selector, const std::string& flag) {
  Json labels = Json::object();
  if (selector.empty()) return labels;
  for (const auto& part : Split(selector, ',')) {
    const auto eq = part.find('=');
    if (eq == std::string::npos || eq == 0 || part.find_first_of("!() ") != std::string::npos) {
      return BadRequest(flag + " " + Quote(selector) +
                        ": only key=value pairs joined by ',' (use -f FILE for matchExpressions)");
    }
    const size_t value_at = part.compare(eq, 2, "==") == 0 ? eq + 2 : eq + 1;  // k=v or k==v, as kubectl
    labels[part.substr(0, eq)] = part.substr(value_at);
  }
  return labels;
}

Result<Json> ResourceList(const std::vector<std::string>& resources) {
  Json out = Json::array();
  for (const auto& r : resources) {
    const auto dot = r.find('.');
    const std::string resource = r.substr(0, dot);
    if (resource.empty())
      return BadRequest("--resources " + Quote(r) + ": want resource[.group], e.g. deployments.apps");
    out.push_back({{"group", dot == std::string::npos ? "" : r.substr(dot + 1)}, {"resource", resource}});
  }
  if (out.empty()) out.push_back({{"group", "apps"}, {"resource", "deployments"}});
  return out;
}

Result<std::string> ReadInput(const std::string& file) {
  std::stringstream ss;
  if (file == "-") {
    ss << std::cin.rdbuf();
  } else {
    std::ifstream in(file);
    if (!in) return BadRequest("-f " + Quote(file) + ": cannot be read");
    ss << in.rdbuf();
  }
  return ss.str();
}

Result<Json> PlacementFromFile(const std::string& file, const std::string& ns) {
  TMCD_ASSIGN_OR_RETURN(std::string text, ReadInput(file));
  auto obj = registry::ParseApplyBody(text);
  if (!obj.ok()) return BadRequest("-f " + Quote(file) + ": " + obj.status().message());
  Json p = std::move(*obj);
  if (p.value("kind", "") != "WorkloadPlacement") {
    return BadRequest("-f " + Quote(file) + ": kind " + Quote(p.value("kind", "")) + " is not WorkloadPlacement");
  }
  if (!p.contains("metadata") || !p["metadata"].is_object()) p["metadata"] = Json::object();
  const std::string file_ns = p["metadata"].value("namespace", "");
  if (!file_ns.empty() && file_ns != ns) {
    return BadRequest("the namespace from the provided object " + Quote(file_ns) + " does not match the namespace " +
                      Quote(ns) + ". You must pass '--namespace=" + file_ns + "' to perform this operation.");
  }
  p["metadata"]["namespace"] = ns;
  return p;
}

}  // namespace

Result<Json> PlacementFromFlags(const std::string& name, const std::string& ns, const PlacementFlags& f) {
  if (!f.file.empty()) return PlacementFromFile(f.file, ns);
  if (name.empty()) return BadRequest("a placement needs a NAME (or -f FILE)");
  TMCD_ASSIGN_OR_RETURN(Json workload_labels, MatchLabels(f.selector, "--selector"));
  TMCD_ASSIGN_OR_RETURN(Json resources, ResourceList(f.resources));
  Json spec = {{"workloadSelector", {{"resources", resources}, {"labelSelector", Json::object()}}}};
  if (!workload_labels.empty()) spec["workloadSelector"]["labelSelector"]["matchLabels"] = workload_labels;
  Json cs = Json::object();
  if (!f.locations.empty()) cs["locations"] = f.locations;
  if (!f.clusters.empty()) cs["clusterNames"] = f.clusters;
  TMCD_ASSIGN_OR_RETURN(Json cluster_labels, MatchLabels(f.cluster_selector, "--cluster-selector"));
  if (!cluster_labels.empty()) cs["labelSelector"] = {{"matchLabels", cluster_labels}};
  if (!cs.empty()) spec["clusterSelector"] = cs;
  if (f.number_of_clusters > 0) spec["numberOfClusters"] = f.number_of_clusters;
  if (!f.strategy.empty()) spec["strategy"] = f.strategy;
  if (!f.replicas.empty()) spec["replicaScheduling"] = {{"type", f.replicas}};
  if (!f.deletion_policy.empty()) spec["deletionPolicy"] = f.deletion_policy;
  return Json{{"apiVersion", "tmc.kcp.io/v1alpha1"},
              {"kind", "WorkloadPlacement"},
              {"metadata", {{"name", name}, {"namespace", ns}}},
              {"spec", spec}};
}

int PlacementCreate(Session& s, const std::string& name, const PlacementFlags& f) {
  auto p = PlacementFromFlags(name, s.namespace_, f);
  if (!p.ok()) return Fail(s, p.status());
  if (f.dry_run) {
    *s.out << (s.format == Format::kJson ? p->dump(4) + "\n" : ToYaml(*p));
    return kExitOk;
  }
  auto created = s.conn.client->Create(s.Tmc("workloadplacements", s.namespace_), *p);
  if (!created.ok()) {
    return Fail(s, created.status(),
                created.status().reason() == Reason::kAlreadyExists
                    ? "`tmcctl placement describe NAME` shows it; delete it first to replace it"
                    : "");
  }
  if (s.format == Format::kJson || s.format == Format::kYaml || s.format == Format::kName) {
    *s.out << RenderObjects({*created}, s.format, false);
  } else {
    *s.out << "workloadplacement.tmc.kcp.io/" << (*created)["metadata"].value("name", "") << " created\n";
  }
  return kExitOk;
}

int PlacementDelete(Session& s, const std::string& name) {
  Status st = s.conn.client->Delete(s.Tmc("workloadplacements", s.namespace_), name);
  if (!st.ok()) return Fail(s, st, "`tmcctl placement list` shows the placements of the namespace");
  *s.out << "workloadplacement.tmc.kcp.io/" << name << " deleted\n";
  return kExitOk;
}

}  // namespace tmcd::ctl
