// Custom resources' rules from ResourceInterpreter objects: the same KindRules the built-in kinds have,
// per workspace, replaced and removed with their interpreter.
#include "sync/custom.h"

#include <doctest/doctest.h>

namespace tmcd::sync {
namespace {

namespace v1 = apis::v1alpha1;

std::string Interpreter(const std::string& health) {
  return R"({"apiVersion":"tmc.kcp.io/v1alpha1","kind":"ResourceInterpreter",
    "metadata":{"name":"widgets.example.com"},
    "spec":{"target":{"group":"example.com","version":"v1","resource":"widgets","kind":"Widget"},
      "replicas":".spec.replicas","strip":[".spec.nodeName"],
      "dependencies":[{"path":".spec.configRef.name","version":"v1","resource":"configmaps"}],
      "status":[{"path":".readyReplicas","aggregation":"Replicas"},{"path":".endpoints","aggregation":"Union"}],
      "anyConditions":["Degraded"],"observedGeneration":true,"health":)" +
         health + "}}";
}

TEST_CASE("every aggregation the API accepts is one the syncer knows") {
  for (auto name : v1::kAggregations) {
    CAPTURE(name);
    auto op = ParseAggregation(name);
    REQUIRE(op.has_value());
    CHECK(AggregationName(*op) == name);
  }
}

TEST_CASE("an interpreter becomes the kind's rules") {
  auto ri = v1::DecodeObject<v1::ResourceInterpreter>(
      Interpreter(R"({"rule":"Counter","ready":".status.readyReplicas","desired":".spec.replicas"})"));
  REQUIRE_MESSAGE(ri.ok(), ri.status().ToString());
  auto r = RulesFromInterpreter(*ri);
  REQUIRE(r.ok());
  CHECK(r->GroupResource() == "widgets.example.com");
  CHECK(r->replicas->String() == ".spec.replicas");
  CHECK(r->status.size() == 2);
  CHECK(r->status[1].op == Aggregation::kUnion);
  CHECK(r->any_conditions == std::vector<std::string>{"Degraded"});
  CHECK(r->health.rule == Health::Rule::kCounter);

  Json obj = Json::parse(R"({"metadata":{"name":"w"},"spec":{"replicas":2,"nodeName":"n1",
    "configRef":{"name":"settings"}},"status":{"readyReplicas":1}})");
  const auto deps = DependenciesOf(*r, obj);
  REQUIRE(deps.size() == 1);
  CHECK(deps[0].String() == "configmaps/settings");
  std::string why;
  CHECK_FALSE(Healthy(*r, obj, &why));
  obj["status"]["readyReplicas"] = 2;
  CHECK(Healthy(*r, obj, &why));
  StripFields(*r, obj);
  CHECK_FALSE(obj["spec"].contains("nodeName"));
}

TEST_CASE("custom kinds are per workspace and follow their interpreter") {
  CustomKinds kinds;
  const store::ObjectKey a{"root:a", "tmc.kcp.io", "resourceinterpreters", "", "widgets.example.com"};
  auto [before, now] = kinds.Update(a, Interpreter(R"({"rule":"Condition","condition":"Ready"})"));
  CHECK(before == nullptr);
  REQUIRE(now != nullptr);
  CHECK(kinds.Find("root:a", "example.com", "widgets") == now);
  CHECK(kinds.Find("root:b", "example.com", "widgets") == nullptr);  // workspace isolation
  CHECK(kinds.InWorkspace("root:a").size() == 1);
  // A stored object whose name is not its target's resource.group is not used.
  store::ObjectKey misnamed = a;
  misnamed.name = "gadgets.example.com";
  CHECK(kinds.Update(misnamed, Interpreter(R"({"rule":"Applied"})")).second == nullptr);
  CHECK(kinds.Update(a, "").first == now);
  CHECK(kinds.Find("root:a", "example.com", "widgets") == nullptr);
  CHECK(kinds.InWorkspace("root:a").empty());
}

}  // namespace
}  // namespace tmcd::sync
