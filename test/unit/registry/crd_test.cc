// CustomResourceDefinitions in the registry: the checks a CRD must pass, and the lifecycle through the real registry on
// a real RocksDB store — served once stored, per workspace, and deleted after its custom resources.
#include "registry/crd.h"

#include <doctest/doctest.h>


namespace tmcd::registry {
namespace {

using Json = nlohmann::json;

const Json kSchema = Json::parse(R"({"type": "object", "properties": {
    "spec": {"type": "object", "required": ["color"], "properties": {
      "size": {"type": "integer", "minimum": 1, "maximum": 10, "default": 3}, "color": {"type": "string"}}},
    "status": {"type": "object", "properties": {"replicas": {"type": "integer"}}}}})");

Json Crd(const std::string& group = "example.com", const std::string& plural = "widgets") {
  Json v = {{"name", "v1"},
            {"served", true},
            {"storage", true},
            {"schema", {{"openAPIV3Schema", kSchema}}},
            {"subresources",
             {{"status", Json::object()},
              {"scale", {{"specReplicasPath", ".spec.size"}, {"statusReplicasPath", ".status.replicas"}}}}}};
  return {{"apiVersion", "apiextensions.k8s.io/v1"},
          {"kind", "CustomResourceDefinition"},
          {"metadata", {{"name", plural + "." + group}}},
          {"spec",
           {{"group", group},
            {"scope", "Namespaced"},
            {"names", {{"plural", plural}, {"kind", "Widget"}}},
            {"versions", Json::array({v})}}}};
}

TEST_CASE("a CRD is checked, defaulted and given its status") {
  Json crd = Crd();
  REQUIRE(PrepareCrd(crd, nullptr, {}).ok());
  CHECK(crd["spec"]["names"]["singular"] == "widget");
  CHECK(crd["spec"]["names"]["listKind"] == "WidgetList");
  CHECK(crd["spec"]["conversion"]["strategy"] == "None");
  SetCrdStatus(crd, nullptr, "2026-11-30T10:00:00Z");
  CHECK(crd["status"]["conditions"][1]["type"] == "Established");
  CHECK(crd["status"]["storedVersions"] == Json::array({"v1"}));
  ResourceInfo r = CustomResource(crd);
  CHECK(r.kind == "Widget");
  CHECK(r.has_status);
  CHECK(r.scale);
  CHECK(r.spec_replicas_path == ".spec.size");
  CHECK(r.columns[0].name == "Age");

  auto reject = [](Json c, const std::string& want) {
    Status s = PrepareCrd(c, nullptr, {});
    CAPTURE(s.message());
    CHECK(s.reason() == Reason::kInvalid);
    CHECK(s.message().find(want) != std::string::npos);
  };
  reject(Crd("apps", "widgets"), "should be a domain with at least one dot");
  reject(Crd("apps.k8s.io", "widgets"), "api-approved.kubernetes.io");
  reject(Crd("tmc.kcp.io", "widgets"), "is served by tmcd itself");
  Json cel = Crd();
  cel["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["x-kubernetes-validations"] =
      Json::array({{{"rule", "self.spec.size > 0"}}});
  reject(cel, "CEL validation rules are not supported");
  Json untyped = Crd();
  untyped["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"].erase("type");
  reject(untyped, "spec.versions[0].schema.openAPIV3Schema.properties[spec].type: Required value");
  Json two = Crd();
  two["spec"]["versions"].push_back(two["spec"]["versions"][0]);
  two["spec"]["versions"][1]["name"] = "v2";
  two["spec"]["versions"][1]["storage"] = false;
  reject(two, "tmcd serves one version");
  Json webhook = Crd();
  webhook["spec"]["conversion"] = {{"strategy", "Webhook"}};
  reject(webhook, "only None");
  Json unknown = Crd();
  unknown["spec"]["versions"][0]["selectableFields"] = Json::array();
  reject(unknown, "spec.versions[0].selectableFields: Forbidden");
  Json bad_default = Crd();
  bad_default["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]["size"]
             ["default"] = 50;
  reject(bad_default, "default");
  // A kind another CRD of the group already serves.
  Json taken = Crd("example.com", "gadgets");
  Status clash = PrepareCrd(taken, nullptr, {Crd()});
  CHECK(clash.message().find("is already in use by widgets.example.com") != std::string::npos);
}

}  // namespace
}  // namespace tmcd::registry
