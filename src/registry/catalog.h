#pragma once
// The resources the local API serves in one workspace (docs/design/architecture.md §4): the built-in kinds
// (resources.h) and the custom resources of the workspace's CustomResourceDefinitions (crd.h). A CRD's
// resource is served as soon as its write returns: the registry reloads the workspace after every CRD
// commit. Workspaces are loaded on first use and cached (at most kMaxCachedWorkspaces without CRDs).
// Thread-safe.

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "registry/resources.h"
#include "store/store.h"

namespace tmcd::registry {

using ResourcePtr = std::shared_ptr<const ResourceInfo>;

class Catalog {
 public:
  static constexpr size_t kMaxCachedWorkspaces = 4096;

  explicit Catalog(store::Store& store) : store_(store) {}

  // Null when `ws` serves no such resource.
  ResourcePtr Find(const std::string& ws, std::string_view group, std::string_view version,
                   std::string_view resource) const;
  // The built-in kinds, then the workspace's custom resources by group and plural.
  std::vector<ResourcePtr> All(const std::string& ws) const;
  // Re-reads the workspace's CRDs from the store (after a CRD was written).
  void Reload(const std::string& ws);

 private:
  std::vector<ResourcePtr> Custom(const std::string& ws) const;
  std::vector<ResourcePtr> Load(const std::string& ws) const;

  store::Store& store_;
  mutable std::mutex mu_;
  mutable std::map<std::string, std::vector<ResourcePtr>, std::less<>> custom_;
};

}  // namespace tmcd::registry
