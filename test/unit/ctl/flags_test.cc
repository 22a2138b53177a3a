// What tmcctl builds from its flags before any request: placements, the least-privilege ClusterRole of a
// registration, workspace paths and workload names.
#include <doctest/doctest.h>

#include <set>

#include "ctl/connect.h"
#include "ctl/placements.h"
#include "ctl/register.h"
#include "ctl/workloads.h"
#include "sync/interpreter.h"

namespace tmcd::ctl {
namespace {

TEST_CASE("placement create: flags become exactly the fields they name") {
  PlacementFlags f;
  f.selector = "app=web,tier==front";
  f.resources = {"deployments.apps", "services", "widgets.example.com"};
  f.locations = {"us-east"};
  f.number_of_clusters = 2;
  f.replicas = "Divided";
  auto p = PlacementFromFlags("web", "shop", f);
  REQUIRE(p.ok());
  CHECK((*p)["metadata"] == Json{{"name", "web"}, {"namespace", "shop"}});
  const Json& spec = (*p)["spec"];
  CHECK(spec["workloadSelector"]["labelSelector"]["matchLabels"] == Json{{"app", "web"}, {"tier", "front"}});
  CHECK(spec["workloadSelector"]["resources"] ==
        Json::parse(R"([{"group":"apps","resource":"deployments"},{"group":"","resource":"services"},
                        {"group":"example.com","resource":"widgets"}])"));
  CHECK(spec["clusterSelector"] == Json{{"locations", {"us-east"}}});
  CHECK(spec["numberOfClusters"] == 2);
  CHECK(spec["replicaScheduling"] == Json{{"type", "Divided"}});
  CHECK_FALSE(spec.contains("strategy"));  // not given: the server's default
  PlacementFlags none;
  auto bare = PlacementFromFlags("all", "shop", none);
  REQUIRE(bare.ok());
  CHECK((*bare)["spec"]["workloadSelector"]["resources"] ==
        Json::parse(R"([{"group":"apps","resource":"deployments"}])"));
  CHECK((*bare)["spec"]["workloadSelector"]["labelSelector"] == Json::object());  // selects every workload
}

TEST_CASE("placement create: set-based selectors, a missing name and a foreign file are usage errors") {
  PlacementFlags f;
  f.selector = "app in (a,b)";
  CHECK(PlacementFromFlags("x", "shop", f).status().message().find("use -f FILE") != std::string::npos);
  CHECK(PlacementFromFlags("", "shop", {}).status().reason() == Reason::kBadRequest);
  PlacementFlags file;
  file.file = "/nonexistent/placement.yaml";
  CHECK(PlacementFromFlags("", "shop", file).status().message().find("cannot be read") != std::string::npos);
}

TEST_CASE("the registration's ClusterRole: every kind the syncer manages, nothing it does not need") {
  const Json rules = SyncerClusterRole({"widgets.example.com"});
  std::set<std::string> writable;
  std::set<std::string> groups;
  for (const auto& r : rules) {
    for (const auto& v : r.value("verbs", Json::array())) CHECK(v != "*");
    if (!r.contains("resources")) continue;
    for (const auto& g : r["apiGroups"]) groups.insert(g.get<std::string>());
    for (const auto& res : r["resources"]) {
      CHECK(res != "*");
      const bool writes = std::find(r["verbs"].begin(), r["verbs"].end(), "create") != r["verbs"].end();
      if (writes) writable.insert(r["apiGroups"][0].get<std::string>() + "/" + res.get<std::string>());
    }
  }
  for (const auto& k : sync::BuiltinKinds()) CHECK(writable.count(k.group + "/" + k.resource) == 1);
  CHECK(writable.count("/namespaces") == 1);
  CHECK(writable.count("example.com/widgets") == 1);
  CHECK(writable.count("/nodes") == 0);  // read for capacity only
  CHECK(writable.count("/pods") == 0);
  CHECK(groups.count("rbac.authorization.k8s.io") == 0);  // it cannot grant itself anything
  const auto objects = MemberObjects("east", "root:a", {});
  REQUIRE(objects.size() == 4);
  CHECK(objects[1]["metadata"]["name"] == MemberName("east", "root:a"));
  CHECK(MemberName("east", "root:a") != MemberName("east", "root:b"));  // two workspaces, two identities
  CHECK(objects[3]["subjects"][0]["name"] == objects[1]["metadata"]["name"]);
}

TEST_CASE("workspace paths and workload names") {
  CHECK(ValidWorkspacePath("root"));
  CHECK(ValidWorkspacePath("root:org-1:team"));
  CHECK_FALSE(ValidWorkspacePath(""));
  CHECK_FALSE(ValidWorkspacePath("root::a"));
  CHECK_FALSE(ValidWorkspacePath("Root"));
  CHECK_FALSE(ValidWorkspacePath("root:-a"));
  CHECK_FALSE(ValidWorkspacePath("root/a"));
  Session s;  // the built-in kinds resolve without a request
  for (const char* arg :
       {"deployment/web", "deploy/web", "deployments/web", "Deployment/web", "deployments.apps/web"}) {
    auto w = ParseWorkload(s, arg);
    REQUIRE(w.ok());
    CHECK(w->group == "apps");
    CHECK(w->resource == "deployments");
    CHECK(w->name == "web");
  }
  CHECK(ParseWorkload(s, "svc/front")->resource == "services");
  CHECK(ParseWorkload(s, "web").status().reason() == Reason::kBadRequest);
  CHECK(ParseWorkload(s, "deployment/").status().reason() == Reason::kBadRequest);
  CHECK(ParseWorkload(s, "gizmo/x").status().message().find("resource.group") != std::string::npos);
}

}  // namespace
}  // namespace tmcd::ctl
