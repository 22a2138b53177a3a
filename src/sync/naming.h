#pragma once
// Names and marks shared by everything that writes downstream (docs/design/architecture.md §6, exactly):
// cluster keys, downstream namespaces with their locator, tmcd's labels and annotations, and the
// SyncRecord naming. Pure functions; thread-safe.

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace tmcd::sync {

inline constexpr std::string_view kManagedByLabel = "tmc.kcp.io/managed-by";
inline constexpr std::string_view kManagedByValue = "tmcd";
inline constexpr std::string_view kWorkspaceLabel = "tmc.kcp.io/workspace";
inline constexpr std::string_view kUpstreamAnnotation = "tmc.kcp.io/upstream";
inline constexpr std::string_view kLocatorAnnotation = "tmc.kcp.io/namespace-locator";
inline constexpr std::string_view kClusterStatusAnnotation = "tmc.kcp.io/cluster-status";
inline constexpr std::string_view kStateLabelPrefix = "state.tmc.kcp.io/";
inline constexpr std::string_view kFinalizer = "tmc.kcp.io/syncer";
inline constexpr std::string_view kFieldManager = "tmcd";

// First `n` characters of base36(sha256(s)).
std::string HashName(std::string_view s, size_t n);
// First 10 chars of base36(sha256("<workspace>/<clusterregistration name>")).
std::string ClusterKey(const std::string& workspace, const std::string& cluster);
// 12-char hash of the workspace, the value of the tmc.kcp.io/workspace label.
std::string WorkspaceHash(const std::string& workspace);
// "tmc-" + first 12 chars of base36(sha256("<ws>/<ns>")).
std::string DownstreamNamespace(const std::string& workspace, const std::string& ns);
// The namespace locator annotation value: {"workspace":"<ws>","namespace":"<ns>"} (compact JSON).
std::string Locator(const std::string& workspace, const std::string& ns);
// The state label of a cluster on an upstream workload: state.tmc.kcp.io/<clusterKey>.
std::string StateLabel(const std::string& workspace, const std::string& cluster);
// SyncRecord name: <resource>.<group>.<workload name>.<clusterKey> (group "core" for "").
std::string SyncRecordName(const std::string& group, const std::string& resource, const std::string& name,
                           const std::string& cluster_key);

// Whether a downstream object carries tmcd's marks (labels and upstream annotation).
bool HasMarks(const nlohmann::json& obj);

}  // namespace tmcd::sync
