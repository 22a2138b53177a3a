// KcpUpstream against a real kcp with a real RocksDB store: objects of two bound tenants reach the
// cache under their logical clusters; a status write through Mutate lands on the right tenant's
// object only and comes back into the cache; a second KcpUpstream on the same store resumes.
#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "kcp_helpers.h"
#include "store/store.h"
#include "upstream/kcp_upstream.h"

namespace tmcd::kube::live {
namespace {

using namespace std::chrono_literals;

Json Binding(const std::string& provider) {
  return {{"apiVersion", "apis.kcp.io/v1alpha1"},
          {"kind", "APIBinding"},
          {"metadata", {{"name", "tmc"}}},
          {"spec", {{"reference", {{"export", {{"path", provider}, {"name", "tmc.kcp.io"}}}}}}}};
}

template <class F>
bool Eventually(F f, std::chrono::seconds timeout = 60s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (f()) return true;
    std::this_thread::sleep_for(200ms);
  }
  return false;
}

TEST_CASE("kcp: KcpUpstream caches bound tenants apart and writes status to the right one" *
          doctest::test_suite("kcp")) {
  auto c = KcpClient("root");
  const std::string suffix = std::to_string(::time(nullptr) % 100000);
  const std::string provider = "root:up-" + suffix;
  NewWorkspace(*c, "up-" + suffix);
  char tmpl[] = "/tmp/tmcd-upstream-XXXXXX";
  const std::string dir = ::mkdtemp(tmpl);
  RealClock clock;
  auto store = store::Store::Open({.path = dir + "/store", .sync_writes = false}, clock);
  REQUIRE(store.ok());
  auto cfg = LoadKubeconfig(KcpKubeconfig(), "root");
  REQUIRE(cfg.ok());
  upstream::KcpOptions opts;
  opts.workspace = provider;
  opts.save_interval = 200ms;
  auto up = std::make_unique<upstream::KcpUpstream>(**store, *cfg, opts);
  REQUIRE(up->Start().ok());
  REQUIRE_MESSAGE(Eventually([&] { return up->NotReadyReason().empty(); }), up->NotReadyReason());

  std::vector<std::string> clusters;
  for (const char* t : {"a", "b"}) {
    const std::string name = "up-" + std::string(t) + "-" + suffix;
    clusters.push_back(NewWorkspace(*c, name));
    REQUIRE(c->Create({"apis.kcp.io", "v1alpha1", "apibindings", "", "root:" + name}, Binding(provider)).ok());
    const ResourceRef regs{"tmc.kcp.io", "v1alpha1", "clusterregistrations", "", "root:" + name};
    Json reg = {{"apiVersion", "tmc.kcp.io/v1alpha1"},
                {"kind", "ClusterRegistration"},
                {"metadata", {{"name", "edge"}}},
                {"spec", {{"location", std::string("loc-") + t}, {"endpoint", {{"server", "https://10.0.0.1:6443"}}}}}};
    REQUIRE(Eventually([&] { return c->Create(regs, reg).ok(); }));
  }
  const upstream::ObjectRef in_a{clusters[0], "tmc.kcp.io", "v1alpha1", "clusterregistrations", "", "edge"};
  upstream::ObjectRef in_b = in_a;
  in_b.workspace = clusters[1];
  REQUIRE(Eventually([&] { return up->Get(in_a).ok() && up->Get(in_b).ok(); }));
  CHECK((*up->Get(in_a))["spec"]["location"] == "loc-a");
  CHECK((*up->Get(in_b))["spec"]["location"] == "loc-b");
  CHECK(up->List(clusters[0], "tmc.kcp.io", "clusterregistrations", "")->size() == 1);

  // Mutate writes /status in kcp through the virtual workspace, for tenant a only.
  auto written = up->Mutate(in_a, true, [](Json& obj) -> Result<bool> {
    obj["status"]["conditions"] = Json::array({{{"type", "Ready"},
                                                {"status", "True"},
                                                {"reason", "Probed"},
                                                {"message", "set by the upstream test"},
                                                {"lastTransitionTime", "2026-01-01T00:00:00Z"}}});
    return true;
  });
  REQUIRE_MESSAGE(written.ok(), written.status().ToString());
  auto direct_a = c->Get({"tmc.kcp.io", "v1alpha1", "clusterregistrations", "", "root:up-a-" + suffix}, "edge");
  auto direct_b = c->Get({"tmc.kcp.io", "v1alpha1", "clusterregistrations", "", "root:up-b-" + suffix}, "edge");
  REQUIRE(direct_a.ok());
  REQUIRE(direct_b.ok());
  CHECK((*direct_a)["status"]["conditions"][0]["reason"] == "Probed");
  const bool b_has_conditions = direct_b->contains("status") && (*direct_b)["status"].contains("conditions");
  CHECK_FALSE(b_has_conditions);
  CHECK(Eventually([&] {
    auto cached = up->Get(in_a);
    return cached.ok() && cached->contains("status") && (*cached)["status"].contains("conditions");
  }));
  // Unchanged mutations write nothing; unknown clusters are NotFound.
  auto same = up->Mutate(in_b, false, [](Json&) -> Result<bool> { return false; });
  CHECK(same.ok());
  upstream::ObjectRef nowhere = in_a;
  nowhere.workspace = "nosuchcluster";
  CHECK(up->Mutate(nowhere, true, [](Json&) -> Result<bool> { return true; }).status().reason() == Reason::kNotFound);

  // A second instance on the same store resumes every informer without listing.
  std::this_thread::sleep_for(500ms);
  up->Stop();
  up = std::make_unique<upstream::KcpUpstream>(**store, *cfg, opts);
  REQUIRE(up->Start().ok());
  REQUIRE(Eventually([&] { return up->NotReadyReason().empty(); }));
  const auto st = up->GetStats();
  CHECK(st.resumed == up->Resources().size());
  CHECK(st.lists == 0);
  CHECK(st.bound_clusters >= 2);
  CHECK((*up->Get(in_b))["spec"]["location"] == "loc-b");
  up->Stop();
  up.reset();
  store->reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace tmcd::kube::live
