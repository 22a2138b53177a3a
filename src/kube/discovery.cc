#include "kube/discovery.h"

namespace tmcd::kube {

Result<std::vector<ApiResource>> ServerResources(Client& c, const std::string& group, const std::string& version,
                                                 const std::string& cluster) {
  std::string path = cluster.empty() ? "" : "/clusters/" + cluster;
  path += group.empty() ? "/api/" + version : "/apis/" + group + "/" + version;
  TMCD_ASSIGN_OR_RETURN(Json doc, c.GetPath(path));
  std::vector<ApiResource> out;
  if (!doc.contains("resources") || !doc["resources"].is_array()) return out;
  for (const auto& r : doc["resources"]) {
    const std::string name = r.value("name", "");
    if (name.empty() || name.find('/') != std::string::npos) continue;  // "deployments/status"
    ApiResource a{group, version, name, r.value("kind", ""), r.value("namespaced", false), {}};
    if (r.contains("verbs") && r["verbs"].is_array()) {
      for (const auto& v : r["verbs"]) {
        if (v.is_string()) a.verbs.push_back(v.get<std::string>());
      }
    }
    out.push_back(std::move(a));
  }
  return out;
}

Result<ApiResource> ResolveKind(Client& c, const std::string& group, const std::string& kind,
                                const std::string& cluster) {
  std::string version = "v1";
  if (!group.empty()) {
    const std::string prefix = cluster.empty() ? "" : "/clusters/" + cluster;
    TMCD_ASSIGN_OR_RETURN(Json g, c.GetPath(prefix + "/apis/" + group));
    version = g.contains("preferredVersion") ? g["preferredVersion"].value("version", "") : "";
    if (version.empty()) return NotFound("the server has no preferred version for group " + group);
  }
  TMCD_ASSIGN_OR_RETURN(auto resources, ServerResources(c, group, version, cluster));
  for (auto& r : resources) {
    if (r.kind == kind) return r;
  }
  return NotFound("no resource of kind " + kind + " in " + (group.empty() ? "" : group + "/") + version);
}

}  // namespace tmcd::kube
