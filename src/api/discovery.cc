#include "api/discovery.h"

#include <set>

#include "registry/resources.h"

namespace tmcd::api {

using registry::ResourceInfo;
using registry::ResourcePtr;
namespace {

using Json = nlohmann::json;

Json Verbs(const ResourceInfo& r, bool read_only) {
  if (r.create_only) return {"create"};
  if (r.read_only || (read_only && !r.local_only)) return {"get", "list", "watch"};
  return {"create", "delete", "get", "list", "patch", "update", "watch"};
}

Json ResourceList(const std::vector<ResourcePtr>& served, const std::string& group, const std::string& version,
                  bool read_only) {
  Json list = {{"kind", "APIResourceList"},
               {"apiVersion", "v1"},
               {"groupVersion", group.empty() ? version : group + "/" + version},
               {"resources", Json::array()}};
  for (const auto& rp : served) {
    const ResourceInfo& r = *rp;
    if (r.group != group || r.version != version) continue;
    Json entry = {{"name", r.resource},
                  {"singularName", r.singular},
                  {"namespaced", r.namespaced},
                  {"kind", r.kind},
                  {"verbs", Verbs(r, read_only)}};
    if (!r.short_names.empty()) entry["shortNames"] = r.short_names;
    if (r.normalize) entry["categories"] = {"tmc"};
    if (!r.categories.empty()) entry["categories"] = r.categories;
    list["resources"].push_back(entry);
    if (r.has_status) {
      list["resources"].push_back({{"name", r.resource + "/status"},
                                   {"singularName", ""},
                                   {"namespaced", r.namespaced},
                                   {"kind", r.kind},
                                   {"verbs", r.read_only || read_only ? Json{"get"} : Json{"get", "patch", "update"}}});
    }
    if (r.scale) {
      list["resources"].push_back({{"name", r.resource + "/scale"},
                                   {"singularName", ""},
                                   {"namespaced", r.namespaced},
                                   {"group", "autoscaling"},
                                   {"version", "v1"},
                                   {"kind", "Scale"},
                                   {"verbs", read_only ? Json{"get"} : Json{"get", "patch", "update"}}});
    }
  }
  return list;
}

Json Group(const std::vector<ResourcePtr>& served, const std::string& name) {
  std::set<std::string> versions;
  for (const auto& r : served) {
    if (r->group == name) versions.insert(r->version);
  }
  Json g = {{"name", name}, {"versions", Json::array()}};
  for (const auto& v : versions) g["versions"].push_back({{"groupVersion", name + "/" + v}, {"version", v}});
  if (!versions.empty()) g["preferredVersion"] = g["versions"][0];
  return g;
}

}  // namespace

Result<Json> Discovery(const RequestPath& p, bool read_only, const std::vector<ResourcePtr>& served) {
  auto not_found = [] { return NotFound("the server could not find the requested resource"); };
  if (p.core) {
    if (p.kind == RequestPath::Kind::kDiscoveryRoot) {
      return Json{{"kind", "APIVersions"},
                  {"versions", {"v1"}},
                  {"serverAddressByClientCIDRs", {{{"clientCIDR", "0.0.0.0/0"}, {"serverAddress", ""}}}}};
    }
    if (p.version != "v1") return not_found();
    return ResourceList(served, "", "v1", read_only);
  }
  if (p.kind == RequestPath::Kind::kDiscoveryRoot) {
    std::set<std::string> names;
    for (const auto& r : served) {
      if (!r->group.empty()) names.insert(r->group);
    }
    Json list = {{"kind", "APIGroupList"}, {"apiVersion", "v1"}, {"groups", Json::array()}};
    for (const auto& n : names) list["groups"].push_back(Group(served, n));
    return list;
  }
  Json g = Group(served, p.group);
  if (g["versions"].empty()) return not_found();
  if (p.kind == RequestPath::Kind::kDiscoveryGroup) {
    g["kind"] = "APIGroup";
    g["apiVersion"] = "v1";
    return g;
  }
  Json list = ResourceList(served, p.group, p.version, read_only);
  if (list["resources"].empty()) return not_found();
  return list;
}

}  // namespace tmcd::api
