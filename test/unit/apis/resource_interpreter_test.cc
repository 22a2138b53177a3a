// ResourceInterpreter: a valid object decodes with its defaults; every rule that could let a field be
// accepted and ignored (a path that does not parse, health fields the rule does not read, a built-in
// group) is a 422 naming the field.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "apis/tmc/v1alpha1/register.h"

namespace tmcd::apis::v1alpha1 {
namespace {

using Json = nlohmann::json;

Json Valid() {
  return Json::parse(R"({
    "apiVersion": "tmc.kcp.io/v1alpha1", "kind": "ResourceInterpreter",
    "metadata": {"name": "widgets.example.com"},
    "spec": {
      "target": {"group": "example.com", "version": "v1", "resource": "widgets", "kind": "Widget"},
      "replicas": ".spec.replicas",
      "dependencies": [{"path": ".spec.configRef.name", "version": "v1", "resource": "configmaps"}],
      "strip": [".spec.nodeName"],
      "status": [{"path": ".readyReplicas", "aggregation": "Replicas"}, {"path": ".endpoints", "aggregation": "Union"}],
      "anyConditions": ["Degraded"],
      "observedGeneration": true,
      "health": {"rule": "Condition", "condition": "Ready"}}})");
}

Result<ResourceInterpreter> Decode(const Json& doc) {
  return DecodeObject<ResourceInterpreter>(doc.dump());
}

TEST_CASE("a ResourceInterpreter decodes, with the Applied health rule by default") {
  auto ok = Decode(Valid());
  REQUIRE_MESSAGE(ok.ok(), ok.status().ToString());
  CHECK(ok->spec.status[1].aggregation == "Union");
  Json minimal = Valid();
  minimal["spec"].erase("health");
  auto m = Decode(minimal);
  REQUIRE(m.ok());
  CHECK(m->spec.health.rule == "Applied");
}

TEST_CASE("a ResourceInterpreter that would be accepted and ignored is refused") {
  auto refuse = [](const std::function<void(Json&)>& change, const std::string& want) {
    Json doc = Valid();
    change(doc);
    auto r = Decode(doc);
    CAPTURE(want);
    REQUIRE_FALSE(r.ok());
    CAPTURE(r.status().message());
    CHECK(r.status().message().find(want) != std::string::npos);
  };
  refuse([](Json& d) { d["metadata"]["name"] = "gadgets.example.com"; },
         "metadata.name: Invalid value: \"gadgets.example.com\": must be <spec.target.resource>.<spec.target.group>");
  refuse([](Json& d) { d["spec"]["target"]["group"] = "apps"; }, "must be a custom resource's group");
  refuse([](Json& d) { d["spec"]["replicas"] = "spec.replicas"; }, "spec.replicas: Invalid value");
  refuse([](Json& d) { d["spec"]["replicas"] = ".spec.items[*].n"; }, "must name one field");
  refuse([](Json& d) { d["spec"]["status"][0]["aggregation"] = "Average"; }, "spec.status[0].aggregation: Unsupported");
  refuse([](Json& d) { d["spec"]["health"] = {{"rule", "Condition"}}; }, "spec.health.condition: Required value");
  refuse([](Json& d) { d["spec"]["health"]["phase"] = "Running"; }, "spec.health.phase: Forbidden: not used by rule");
  refuse(
      [](Json& d) {
        d["spec"]["health"] = {{"rule", "Counter"}, {"desired", ".spec.replicas"}};
      },
      "spec.health.ready: Required value");
  refuse([](Json& d) { d["spec"]["dependencies"][0]["resource"] = "Config_Maps"; }, "spec.dependencies[0].resource");
  refuse([](Json& d) { d["spec"]["surprise"] = true; }, "unknown field \"spec.surprise\"");
}

}  // namespace
}  // namespace tmcd::apis::v1alpha1
