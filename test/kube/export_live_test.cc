// tmcd's APIExport on a real kcp: bootstrap in a provider workspace (twice: the second run changes
// nothing), two tenants bind it, and tmcd's client reads and writes their objects through the
// export's virtual workspace, each under its own logical cluster.
#include <doctest/doctest.h>

#include <set>
#include <thread>

#include "kcp_helpers.h"
#include "upstream/kcp_bootstrap.h"

namespace tmcd::kube::live {
namespace {

using namespace std::chrono_literals;

Json Binding(const std::string& provider) {
  Json claims = Json::array();
  for (const char* r : {"secrets", "configmaps", "serviceaccounts", "namespaces", "events"}) {
    claims.push_back({{"group", ""}, {"resource", r}, {"all", true}, {"state", "Accepted"}});
  }
  return {{"apiVersion", "apis.kcp.io/v1alpha1"},
          {"kind", "APIBinding"},
          {"metadata", {{"name", "tmc"}}},
          {"spec",
           {{"reference", {{"export", {{"path", provider}, {"name", "tmc.kcp.io"}}}}}, {"permissionClaims", claims}}}};
}

Json Registration(const std::string& name, const std::string& location) {
  return {{"apiVersion", "tmc.kcp.io/v1alpha1"},
          {"kind", "ClusterRegistration"},
          {"metadata", {{"name", name}}},
          {"spec", {{"location", location}, {"endpoint", {{"server", "https://10.0.0.1:6443"}}}}}};
}

TEST_CASE("kcp: the TMC export bootstraps idempotently and serves bound tenants apart" * doctest::test_suite("kcp")) {
  auto c = KcpClient("root");
  const std::string suffix = std::to_string(::time(nullptr) % 100000);
  const std::string provider = "root:" + std::string("tmc-") + suffix;
  NewWorkspace(*c, "tmc-" + suffix);

  auto first = upstream::BootstrapExport(*c, provider);
  REQUIRE_MESSAGE(first.ok(), first.status().ToString());
  CHECK(first->export_version == "v1alpha1");  // kcp v0.27 serves no v1alpha2
  CHECK(first->created.size() == 16);          // 15 schemas (3 TMC, 12 workload kinds) + the export
  auto second = upstream::BootstrapExport(*c, provider);
  REQUIRE(second.ok());
  CHECK(second->created.empty());
  CHECK(second->updated.empty());
  CHECK(second->unchanged.size() == 16);

  // Two tenants bind the export and each creates a same-named registration.
  std::map<std::string, std::string> cluster_of;  // tenant path → logical cluster
  for (const char* t : {"tenant-a", "tenant-b"}) {
    const std::string path = "root:" + std::string(t) + "-" + suffix;
    cluster_of[path] = NewWorkspace(*c, std::string(t) + "-" + suffix);
    const ResourceRef bindings{"apis.kcp.io", "v1alpha1", "apibindings", "", path};
    REQUIRE(c->Create(bindings, Binding(provider)).ok());
    bool bound = false;
    for (int i = 0; i < 240 && !bound; ++i) {
      auto b = c->Get(bindings, "tmc");
      bound = b.ok() && StatusField(*b, "phase") == "Bound";
      if (!bound) std::this_thread::sleep_for(250ms);
    }
    REQUIRE_MESSAGE(bound, "APIBinding in " << path << " not Bound");
    const ResourceRef regs{"tmc.kcp.io", "v1alpha1", "clusterregistrations", "", path};
    Status created = Status::Ok();
    for (int i = 0; i < 40; ++i) {  // the bound API takes a moment to be served
      created = c->Create(regs, Registration("edge", "loc-" + std::string(t))).status();
      if (created.ok()) break;
      std::this_thread::sleep_for(250ms);
    }
    REQUIRE_MESSAGE(created.ok(), created.ToString());
  }

  auto urls = upstream::ExportEndpoints(*c, provider);
  REQUIRE_MESSAGE(urls.ok(), urls.status().ToString());
  REQUIRE_FALSE(urls->empty());
  MESSAGE("virtual workspace: " << urls->front());
  RestConfig vw_cfg = c->config();
  vw_cfg.server = urls->front();
  auto vw = NewClient(vw_cfg);
  const ResourceRef everywhere{"tmc.kcp.io", "v1alpha1", "clusterregistrations", "", "*"};
  auto all = vw->List(everywhere, {});
  REQUIRE_MESSAGE(all.ok(), all.status().ToString());
  REQUIRE(all->items.size() == 2);
  std::set<std::string> seen;
  for (const auto& item : all->items) {
    const std::string cluster = LogicalCluster(item);
    seen.insert(cluster);
    const std::string tenant = cluster == cluster_of.begin()->second ? "tenant-a" : "tenant-b";
    CHECK(item["spec"]["location"] == "loc-" + tenant);  // same name, distinct objects
  }
  CHECK(seen == std::set<std::string>{cluster_of.begin()->second, std::next(cluster_of.begin())->second});

  // A status write through the virtual workspace lands in tenant a only.
  const std::string cluster_a = cluster_of.begin()->second;
  const ResourceRef in_a{"tmc.kcp.io", "v1alpha1", "clusterregistrations", "", cluster_a};
  auto obj = vw->Get(in_a, "edge");
  REQUIRE(obj.ok());
  (*obj)["status"] = {{"observedGeneration", 1}};
  auto written = vw->Update(in_a, *obj, "status");
  REQUIRE_MESSAGE(written.ok(), written.status().ToString());
  for (const auto& [path, cluster] : cluster_of) {
    auto direct = c->Get({"tmc.kcp.io", "v1alpha1", "clusterregistrations", "", path}, "edge");
    REQUIRE(direct.ok());
    CHECK(direct->contains("status") == (cluster == cluster_a));
  }
  // Claimed resources are readable across the bound tenants too.
  auto cms = vw->List({"", "v1", "configmaps", "", "*"}, {});
  CHECK_MESSAGE(cms.ok(), cms.status().ToString());
}

}  // namespace
}  // namespace tmcd::kube::live
