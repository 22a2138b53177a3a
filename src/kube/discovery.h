#pragma once
// Discovery: which resources a group/version serves (name, kind, namespaced, verbs) and a group's
// preferred version, so callers can turn a kind into a ResourceRef. Works against kube-apiserver,
// kcp workspaces (`cluster` = the logical cluster path) and tmcd. Thread-safe (stateless).

#include <string>
#include <vector>

#include "kube/client.h"

namespace tmcd::kube {

struct ApiResource {
  std::string group;
  std::string version;
  std::string resource;  // plural name, e.g. "deployments"
  std::string kind;
  bool namespaced = false;
  std::vector<std::string> verbs;
  ResourceRef Ref(std::string ns = "", std::string cluster = "") const {
    return {group, version, resource, std::move(ns), std::move(cluster)};
  }
};

// Resources of /api/v1 (group "") or /apis/<group>/<version>; subresources are left out.
Result<std::vector<ApiResource>> ServerResources(Client& c, const std::string& group, const std::string& version,
                                                 const std::string& cluster = "");
// The resource serving `kind` in the group's preferred version (core: v1). NotFound when none does.
Result<ApiResource> ResolveKind(Client& c, const std::string& group, const std::string& kind,
                                const std::string& cluster = "");

}  // namespace tmcd::kube
