// Strategic merge patch: merge keys, list order, the directives, and the errors for malformed
// patches. The same cases run against a real kube-apiserver in test/e2e/test_kubectl_parity.py.
#include "registry/strategic_patch.h"

#include <doctest/doctest.h>

namespace tmcd::registry {
namespace {

using Json = nlohmann::json;

Json Deploy() {
  return Json::parse(R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d","labels":{"a":"1"},
    "finalizers":["x","y"]},"spec":{"replicas":1,"strategy":{"type":"RollingUpdate","rollingUpdate":{"maxSurge":1}},
    "template":{"spec":{"containers":[
      {"name":"app","image":"app:1","env":[{"name":"A","value":"1"},{"name":"B","value":"2"}]},
      {"name":"side","image":"side:1"}],
    "tolerations":[{"key":"k1"}]}}}})");
}

Json Patch(const Json& original, const char* patch, const char* kind = "Deployment") {
  auto r = StrategicMergePatch(original, Json::parse(patch), kind);
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  return *r;
}

Status PatchError(const char* patch) {
  return StrategicMergePatch(Deploy(), Json::parse(patch), "Deployment").status();
}

TEST_CASE("containers merge by name; an untagged list (tolerations) is replaced") {
  const Json out = Patch(Deploy(), R"({"spec":{"template":{"spec":{
      "containers":[{"name":"side","image":"side:2"},{"name":"new","image":"new:1"}],
      "tolerations":[{"key":"k2"}]}}}})");
  const Json& c = out["spec"]["template"]["spec"]["containers"];
  REQUIRE(c.size() == 3);
  CHECK(c[0]["name"] == "app");
  CHECK(c[0]["env"].size() == 2);  // untouched
  CHECK(c[1] == Json::parse(R"({"name":"side","image":"side:2"})"));
  CHECK(c[2]["name"] == "new");
  CHECK(out["spec"]["template"]["spec"]["tolerations"] == Json::parse(R"([{"key":"k2"}])"));
}

TEST_CASE("nested merge keys: env by name inside a container; null deletes a field") {
  const Json out = Patch(Deploy(), R"({"metadata":{"labels":{"a":null,"b":"2"}},"spec":{"template":{"spec":{
      "containers":[{"name":"app","env":[{"name":"B","value":"3"},{"name":"C","value":"4"}]}]}}}})");
  CHECK(out["metadata"]["labels"] == Json::parse(R"({"b":"2"})"));
  const Json& env = out["spec"]["template"]["spec"]["containers"][0]["env"];
  CHECK(env == Json::parse(R"([{"name":"A","value":"1"},{"name":"B","value":"3"},{"name":"C","value":"4"}])"));
  CHECK(out["spec"]["template"]["spec"]["containers"][0]["image"] == "app:1");
}

TEST_CASE("$patch: delete removes a list element; $patch: replace replaces the list or an object") {
  Json out = Patch(Deploy(), R"({"spec":{"template":{"spec":{"containers":[{"name":"app","$patch":"delete"}]}}}})");
  REQUIRE(out["spec"]["template"]["spec"]["containers"].size() == 1);
  CHECK(out["spec"]["template"]["spec"]["containers"][0]["name"] == "side");
  out = Patch(Deploy(),
              R"({"spec":{"template":{"spec":{"containers":[{"$patch":"replace"},{"name":"only","image":"o"}]}}}})");
  CHECK(out["spec"]["template"]["spec"]["containers"] == Json::parse(R"([{"name":"only","image":"o"}])"));
  out = Patch(Deploy(), R"({"spec":{"strategy":{"$patch":"replace","type":"Recreate"}}})");
  CHECK(out["spec"]["strategy"] == Json::parse(R"({"type":"Recreate"})"));
  out = Patch(Deploy(), R"({"metadata":{"labels":{"$patch":"delete"}}})");
  CHECK(out["metadata"]["labels"] == Json::object());
}

TEST_CASE("$retainKeys clears the fields it does not name") {
  const Json out = Patch(Deploy(), R"({"spec":{"strategy":{"$retainKeys":["type"],"type":"Recreate"}}})");
  CHECK(out["spec"]["strategy"] == Json::parse(R"({"type":"Recreate"})"));
  CHECK(PatchError(R"({"spec":{"strategy":{"$retainKeys":["type"],"rollingUpdate":{}}}})").reason() ==
        Reason::kBadRequest);
}

TEST_CASE("$setElementOrder orders the merged list; a primitive merge list unions and deletes") {
  Json out = Patch(Deploy(), R"({"spec":{"template":{"spec":{
      "$setElementOrder/containers":[{"name":"side"},{"name":"app"}],
      "containers":[{"name":"app","image":"app:2"}]}}}})");
  const Json& c = out["spec"]["template"]["spec"]["containers"];
  REQUIRE(c.size() == 2);
  CHECK(c[0]["name"] == "side");
  CHECK(c[1]["image"] == "app:2");
  out = Patch(Deploy(), R"({"metadata":{"finalizers":["z","x"]}})");
  // kube-apiserver's order: the patch's items first where the live order does not relate them.
  CHECK(out["metadata"]["finalizers"] == Json::parse(R"(["z","x","y"])"));
  out = Patch(Deploy(), R"({"metadata":{"$deleteFromPrimitiveList/finalizers":["x"]}})");
  CHECK(out["metadata"]["finalizers"] == Json::parse(R"(["y"])"));
  CHECK(PatchError(R"({"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"app"}],
      "containers":[{"name":"side","image":"s"}]}}}})")
            .reason() == Reason::kInvalid);
}

TEST_CASE("directives never reach the stored object, also where the original has no such field") {
  const Json out = Patch(Json::parse(R"({"metadata":{"name":"d"}})"), R"({"spec":{"template":{"spec":{
      "$setElementOrder/containers":[{"name":"a"}],"containers":[{"name":"a","image":"i",
      "$setElementOrder/env":[{"name":"E"}],"env":[{"name":"E","value":"v"}]}]}}}})");
  CHECK(out["spec"]["template"]["spec"] ==
        Json::parse(R"({"containers":[{"name":"a","image":"i","env":[{"name":"E","value":"v"}]}]})"));
  CHECK(out.dump().find('$') == std::string::npos);
}

TEST_CASE("malformed patches are 4xx, never a crash") {
  CHECK(PatchError(R"({"$patch":"merge"})").reason() == Reason::kBadRequest);
  CHECK(PatchError(R"({"metadata":{"$retainKeys":"name"}})").reason() == Reason::kBadRequest);
  CHECK(PatchError(R"({"metadata":{"$deleteFromPrimitiveList/finalizers":"x"}})").reason() == Reason::kBadRequest);
  CHECK(PatchError(R"({"spec":{"template":{"spec":{"containers":[{"image":"no-name"}]}}}})").reason() ==
        Reason::kInvalid);
  CHECK(PatchError(R"({"spec":{"template":{"spec":{"containers":[[1]]}}}})").reason() == Reason::kInvalid);
  CHECK(PatchError(R"({"spec":{"template":{"spec":{"containers":[{"name":"x","$patch":"merge"}]}}}})").reason() ==
        Reason::kBadRequest);
  CHECK(StrategicMergePatch(Deploy(), Json::array(), "Deployment").status().reason() == Reason::kBadRequest);
}

TEST_CASE("a $key that is no directive is an unknown field: dropped with a warning, as kube-apiserver does") {
  std::vector<std::string> warnings;
  auto out = StrategicMergePatch(
      Deploy(), Json::parse(R"({"metadata":{"$bogus":1},"spec":{"template":{"spec":{"containers":[{"name":"app",
      "$x":2}]}}}})"),
      "Deployment", &warnings);
  REQUIRE(out.ok());
  CHECK(out->dump().find("$") == std::string::npos);
  CHECK(warnings == std::vector<std::string>{"unknown field \"metadata.$bogus\"",
                                             "unknown field \"spec.template.spec.containers[0].$x\""});
}

TEST_CASE("schemas exist for the served built-in kinds, not for custom resources") {
  for (const char* kind : {"Namespace", "ConfigMap", "Secret", "ServiceAccount", "Service", "Deployment", "Role"}) {
    CHECK(HasStrategicPatchSchema(kind));
  }
  CHECK_FALSE(HasStrategicPatchSchema("WorkloadPlacement"));
  CHECK_FALSE(HasStrategicPatchSchema("ClusterRegistration"));
  const Json svc = Patch(Json::parse(R"({"spec":{"ports":[{"port":80,"name":"http"},{"port":443,"name":"https"}]}})"),
                         R"({"spec":{"ports":[{"port":443,"targetPort":8443}]}})", "Service");
  CHECK(svc["spec"]["ports"][1] == Json::parse(R"({"port":443,"name":"https","targetPort":8443})"));
}

}  // namespace
}  // namespace tmcd::registry
