// CustomResourceDefinitions in the registry: the checks a CRD must pass, and the lifecycle through the real registry on
// a real RocksDB store — served once stored, per workspace, and deleted after its custom resources.
#include "registry/crd.h"

#include <doctest/doctest.h>

#include "common/clock.h"
#include "registry/objects.h"
#include "temp_store.h"

namespace tmcd::registry {
namespace {

using Json = nlohmann::json;
using store::testing::OpenAt;
using store::testing::TempDir;

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

TEST_CASE("a stored CRD serves its resource in its workspace only, and takes its resources when deleted") {
  TempDir dir;
  auto s = OpenAt(dir.path());
  RealClock clock;
  ObjectService objects(*s, clock);
  const ResourceInfo* crds = FindResource("apiextensions.k8s.io", "v1", "customresourcedefinitions");
  REQUIRE(crds != nullptr);
  Request a;
  a.workspace = "root:a";
  CHECK(objects.catalog().Find("root:a", "example.com", "v1", "widgets") == nullptr);
  auto created = objects.Create(a, *crds, Crd());
  REQUIRE_MESSAGE(created.ok(), created.status().ToString());
  CHECK((*created)["metadata"]["finalizers"] == Json::array({"customresourcecleanup.apiextensions.k8s.io"}));
  auto widgets = objects.catalog().Find("root:a", "example.com", "v1", "widgets");
  REQUIRE(widgets != nullptr);
  CHECK(objects.catalog().Find("root:b", "example.com", "v1", "widgets") == nullptr);  // isolation

  Request w = a;
  w.namespace_ = "shop";
  Json widget = {{"apiVersion", "example.com/v1"},
                 {"kind", "Widget"},
                 {"metadata", {{"name", "w"}, {"finalizers", {"example.com/hold"}}}},
                 {"spec", {{"color", "blue"}}}};
  auto made = objects.Create(w, *widgets, widget);
  REQUIRE_MESSAGE(made.ok(), made.status().ToString());
  CHECK((*made)["spec"]["size"] == 3);
  widget["metadata"]["name"] = "v";
  widget["metadata"].erase("finalizers");
  REQUIRE(objects.Create(w, *widgets, widget).ok());
  widget["spec"]["size"] = 0;
  widget["metadata"]["name"] = "bad";
  CHECK(objects.Create(w, *widgets, widget).status().reason() == Reason::kInvalid);

  // Deleting the CRD deletes "v" now; "w" waits for its finalizer, and so does the CRD.
  Request del = a;
  del.name = "widgets.example.com";
  REQUIRE(objects.Delete(del, *crds, Json()).ok());
  CHECK(s->Get({"root:a", "example.com", "widgets", "shop", "v"}).status().reason() == Reason::kNotFound);
  auto terminating = objects.catalog().Find("root:a", "example.com", "v1", "widgets");
  REQUIRE(terminating != nullptr);
  CHECK(terminating->terminating);
  widget["metadata"]["name"] = "late";
  CHECK(objects.Create(w, *terminating, widget).status().reason() == Reason::kMethodNotAllowed);
  auto crd = objects.Get(del, *crds);
  REQUIRE(crd.ok());
  CHECK((*crd)["status"]["conditions"][2]["type"] == "Terminating");
  // The last finalizer of the last custom resource goes: the CRD goes with it.
  Request wr = w;
  wr.name = "w";
  auto held = objects.Get(wr, *terminating);
  REQUIRE(held.ok());
  (*held)["metadata"]["finalizers"] = Json::array();
  REQUIRE(objects.Update(wr, *terminating, *held, false).ok());
  CHECK(objects.Get(del, *crds).status().reason() == Reason::kNotFound);
  CHECK(objects.catalog().Find("root:a", "example.com", "v1", "widgets") == nullptr);
}

}  // namespace
}  // namespace tmcd::registry
