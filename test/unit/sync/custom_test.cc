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
  const std::string cond = Interpreter(R"({"rule":"Condition","condition":"Ready"})");
  auto first = kinds.Update(a, cond);
  CHECK(first.before == nullptr);
  CHECK(first.spec_changed);
  REQUIRE(first.now != nullptr);
  const RulesPtr now = first.now;
  CHECK(kinds.Find("root:a", "example.com", "widgets") == now);
  CHECK(kinds.Find("root:b", "example.com", "widgets") == nullptr);  // workspace isolation
  CHECK(kinds.InWorkspace("root:a").size() == 1);
  // A status write (tmcd's own Accepted condition) is no spec change: nothing to requeue.
  Json with_status = Json::parse(cond);
  with_status["status"] = {{"observedGeneration", 1}};
  auto status_only = kinds.Update(a, with_status.dump());
  CHECK_FALSE(status_only.spec_changed);
  CHECK(status_only.now != nullptr);
  // A stored object whose name is not its target's resource.group is not used.
  store::ObjectKey misnamed = a;
  misnamed.name = "gadgets.example.com";
  auto bad = kinds.Update(misnamed, Interpreter(R"({"rule":"Applied"})"));
  CHECK(bad.now == nullptr);
  CHECK(kinds.InWorkspace("root:a").size() == 1);
  auto gone = kinds.Update(a, "");
  CHECK(gone.before == status_only.now);
  CHECK(gone.spec_changed);
  CHECK(kinds.Find("root:a", "example.com", "widgets") == nullptr);
  CHECK(kinds.InWorkspace("root:a").empty());
}

TEST_CASE("a stored interpreter gets the local API's checks, which kcp does not run") {
  CHECK(RulesFromStored(Interpreter(R"({"rule":"Applied"})")).ok());
  // Name and target disagree; a path that does not parse; a health field the rule does not read;
  // a built-in group (its kind has the built-in rules).
  Json misnamed = Json::parse(Interpreter(R"({"rule":"Applied"})"));
  misnamed["metadata"]["name"] = "gadgets.example.com";
  Json bad_path = Json::parse(Interpreter(R"({"rule":"Applied"})"));
  bad_path["spec"]["replicas"] = ".spec[";
  Json builtin = Json::parse(Interpreter(R"({"rule":"Applied"})"));
  builtin["metadata"]["name"] = "deployments.apps";
  builtin["spec"]["target"] = {
      {"group", "apps"}, {"version", "v1"}, {"resource", "deployments"}, {"kind", "Deployment"}};
  const std::vector<std::pair<Json, std::string>> cases = {
      {misnamed, "metadata.name"},
      {bad_path, "spec.replicas"},
      {Json::parse(Interpreter(R"({"rule":"Applied","phase":"Running"})")), "spec.health.phase"},
      {builtin, "spec.target.group"}};
  for (const auto& c : cases) {  // not a structured binding: clang 14 cannot capture one in CAPTURE
    const std::string text = c.first.dump();
    auto r = RulesFromStored(text);
    CAPTURE(text);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().reason() == Reason::kInvalid);
    CHECK(r.status().message().find(c.second) != std::string::npos);
  }
}

}  // namespace
}  // namespace tmcd::sync
