#include "sync/naming.h"

#include "common/strings.h"

namespace tmcd::sync {

std::string HashName(std::string_view s, size_t n) {
  std::string b = Base36(Sha256(s));
  return b.substr(0, n);
}

std::string ClusterKey(const std::string& workspace, const std::string& cluster) {
  return HashName(workspace + "/" + cluster, 10);
}

std::string WorkspaceHash(const std::string& workspace) {
  return HashName(workspace, 12);
}

std::string DownstreamNamespace(const std::string& workspace, const std::string& ns) {
  return "tmc-" + HashName(workspace + "/" + ns, 12);
}

std::string Locator(const std::string& workspace, const std::string& ns) {
  return nlohmann::json{{"workspace", workspace}, {"namespace", ns}}.dump();
}

std::string StateLabel(const std::string& workspace, const std::string& cluster) {
  return std::string(kStateLabelPrefix) + ClusterKey(workspace, cluster);
}

std::string SyncRecordName(const std::string& group, const std::string& resource, const std::string& name,
                           const std::string& cluster_key) {
  return resource + "." + (group.empty() ? "core" : group) + "." + name + "." + cluster_key;
}

bool HasMarks(const nlohmann::json& obj) {
  if (!obj.contains("metadata")) return false;
  const auto& m = obj["metadata"];
  const auto labels = m.value("labels", nlohmann::json::object());
  const auto annotations = m.value("annotations", nlohmann::json::object());
  return labels.value(std::string(kManagedByLabel), "") == kManagedByValue &&
         labels.contains(std::string(kWorkspaceLabel)) && annotations.contains(std::string(kUpstreamAnnotation));
}

}  // namespace tmcd::sync
