// The client against a real kcp (test/peers/kcp-up.sh; TMCD_KCP_KUBECONFIG names its admin
// kubeconfig): workspaces, objects addressed by logical-cluster path, the kcp.io/cluster annotation,
// workspace isolation, wildcard lists, and an informer's cluster-aware keys.
#include <doctest/doctest.h>

#include <thread>

#include "kcp_helpers.h"
#include "kube/informer.h"

namespace tmcd::kube::live {
namespace {

using namespace std::chrono_literals;

TEST_CASE("kcp: workspaces, logical-cluster paths, isolation, wildcards and informers" * doctest::test_suite("kcp")) {
  auto c = KcpClient("root");
  const std::string suffix = std::to_string(::time(nullptr) % 100000);
  const std::string a = "tmcd-a-" + suffix;
  const std::string b = "tmcd-b-" + suffix;
  const std::string cluster_a = NewWorkspace(*c, a);
  const std::string cluster_b = NewWorkspace(*c, b);
  const std::string name = "only-in-a-" + suffix;  // unique: other runs may share this kcp
  REQUIRE_FALSE(cluster_a.empty());
  CHECK(cluster_a != cluster_b);

  // Read by path: the default namespace of root:<a> exists once the workspace is Ready.
  CHECK(c->Get({"", "v1", "namespaces", "", "root:" + a}, "default").ok());
  const ResourceRef cms_a{"", "v1", "configmaps", "default", "root:" + a};
  const ResourceRef cms_b{"", "v1", "configmaps", "default", "root:" + b};
  auto made = c->Create(cms_a, ConfigMap(name, "1"));
  REQUIRE_MESSAGE(made.ok(), made.status().ToString());
  CHECK(LogicalCluster(*made) == cluster_a);
  auto listed = c->List(cms_a, {});
  REQUIRE(listed.ok());
  bool found = false;
  for (const auto& item : listed->items) found = found || item["metadata"]["name"] == name;
  CHECK(found);
  // Workspace isolation: the same name in b is not there.
  CHECK(c->Get(cms_b, name).status().reason() == Reason::kNotFound);

  // Wildcard: across every logical cluster only for the shard admin; a workspace admin is refused.
  const ResourceRef all{"", "v1", "configmaps", "", "*"};
  CHECK(c->List(all, {}).status().reason() == Reason::kForbidden);
  auto shard = KcpClient("shard-base");
  auto everywhere = shard->List(all, {"", "metadata.name=" + name, "", 0, ""});
  REQUIRE_MESSAGE(everywhere.ok(), everywhere.status().ToString());
  REQUIRE(everywhere->items.size() == 1);
  CHECK(LogicalCluster(everywhere->items[0]) == cluster_a);

  // An informer over every workspace keys objects by logical cluster.
  Informer inf(*shard, all, Informer::Options{"", "metadata.name=" + name});
  inf.Start();
  REQUIRE(inf.WaitForSync(30s));
  CHECK(inf.Get(cluster_a + "|default/" + name).has_value());
  REQUIRE(c->Create(cms_b, ConfigMap(name, "2")).ok());  // same name, other workspace
  bool both = false;
  for (int i = 0; i < 200 && !both; ++i) {
    both = inf.Get(cluster_b + "|default/" + name).has_value();
    std::this_thread::sleep_for(50ms);
  }
  CHECK(both);
  CHECK((*inf.Get(cluster_a + "|default/" + name))["data"]["k"] == "1");
  inf.Stop();
}

}  // namespace
}  // namespace tmcd::kube::live
