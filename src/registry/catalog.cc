#include "registry/catalog.h"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "registry/crd.h"

namespace tmcd::registry {
namespace {

const std::vector<ResourcePtr>& Builtins() {
  static const std::vector<ResourcePtr> kAll = [] {
    std::vector<ResourcePtr> out;
    // The static table outlives every caller: shared pointers that never delete.
    for (const auto& r : ServedResources()) out.emplace_back(std::shared_ptr<const ResourceInfo>(), &r);
    return out;
  }();
  return kAll;
}

}  // namespace

std::vector<ResourcePtr> Catalog::Load(const std::string& ws) const {
  std::vector<ResourcePtr> out;
  auto list = store_.List(store::ResourcePrefix(ws, kCrdGroup, kCrdResource), 0, "");
  if (!list.ok()) {
    spdlog::warn("cannot read the CustomResourceDefinitions of workspace {}: {}", ws, list.status().ToString());
    return out;
  }
  for (const auto& [key, o] : list->items) {
    auto crd = nlohmann::json::parse(o.json, nullptr, false);
    if (crd.is_discarded()) continue;
    ResourceInfo r = CustomResource(crd);
    if (r.version.empty()) continue;  // no served version
    out.push_back(std::make_shared<const ResourceInfo>(std::move(r)));
  }
  return out;
}

std::vector<ResourcePtr> Catalog::Custom(const std::string& ws) const {
  std::lock_guard lock(mu_);
  auto it = custom_.find(ws);
  if (it != custom_.end()) return it->second;
  if (custom_.size() >= kMaxCachedWorkspaces) {
    std::erase_if(custom_, [](const auto& e) { return e.second.empty(); });
  }
  auto loaded = Load(ws);
  custom_[ws] = loaded;
  return loaded;
}

void Catalog::Reload(const std::string& ws) {
  std::lock_guard lock(mu_);
  custom_[ws] = Load(ws);
}

ResourcePtr Catalog::Find(const std::string& ws, std::string_view group, std::string_view version,
                          std::string_view resource) const {
  for (const auto& r : Builtins()) {
    if (r->group == group && r->version == version && r->resource == resource) return r;
  }
  if (group.empty() || group == kCrdGroup) return nullptr;  // CRDs cannot claim the core or their own group
  for (const auto& r : Custom(ws)) {
    if (r->group == group && r->version == version && r->resource == resource) return r;
  }
  return nullptr;
}

std::vector<ResourcePtr> Catalog::All(const std::string& ws) const {
  std::vector<ResourcePtr> out = Builtins();
  auto custom = Custom(ws);
  out.insert(out.end(), custom.begin(), custom.end());
  return out;
}

}  // namespace tmcd::registry
