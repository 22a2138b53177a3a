// Field sets and managed fields for server-side apply: extraction with keyed lists and sets, path
// operations, the apply merge, conflicts and the Update bookkeeping. The kubectl parity test compares
// the managedFields kube-apiserver writes with tmcd's for the same session.
#include "registry/field_set.h"

#include <doctest/doctest.h>

#include "registry/managed_fields.h"

namespace tmcd::registry {
namespace {

using Json = nlohmann::json;

const Json kDeploy = Json::parse(R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d",
  "resourceVersion":"5","labels":{"a":"1"},"finalizers":["f1"]},"spec":{"replicas":2,"template":{"spec":{
  "containers":[{"name":"app","image":"i","ports":[{"containerPort":80,"protocol":"TCP"}]}],
  "tolerations":[{"key":"k"}]}}},"status":{"replicas":1}})");

TEST_CASE("fields: keyed lists by their keys, sets by value, atomic lists as one leaf; server fields out") {
  const Json f = ExtractFields(kDeploy, "Deployment");
  CHECK(f == Json::parse(R"({"f:metadata":{"f:labels":{"f:a":{}},"f:finalizers":{"v:\"f1\"":{}}},
    "f:spec":{"f:replicas":{},"f:template":{"f:spec":{"f:tolerations":{},"f:containers":{
      "k:{\"name\":\"app\"}":{".":{},"f:name":{},"f:image":{},"f:ports":{
        "k:{\"containerPort\":80,\"protocol\":\"TCP\"}":{".":{},"f:containerPort":{},"f:protocol":{}}}}}}}}})"));
  CHECK(ExtractFields(kDeploy, "Deployment", true) == Json::parse(R"({"f:status":{"f:replicas":{}}})"));
  const FieldPath image = {"f:spec", "f:template", "f:spec", "f:containers", R"(k:{"name":"app"})", "f:image"};
  CHECK(Contains(f, image));
  CHECK_FALSE(Contains(f, {"f:spec", "f:template"}));  // not a leaf
  CHECK(ValueAt(kDeploy, image) == Json("i"));
  CHECK(FieldPathString(image) == R"(.spec.template.spec.containers[name="app"].image)");
  CHECK(Leaves(f).size() == 10);
}

TEST_CASE("path edits: removing the last leaf prunes its parents; removing an item's '.' removes the item") {
  Json set = Json::parse(R"({"f:data":{"f:k":{}}})");
  RemovePath(set, {"f:data", "f:k"});
  CHECK(set == Json::object());
  AddPath(set, {"f:data", "f:x"});
  CHECK(Contains(set, {"f:data", "f:x"}));
  Json obj = kDeploy;
  RemoveValue(obj, {"f:spec", "f:template", "f:spec", "f:containers", R"(k:{"name":"app"})", "."});
  CHECK(obj["spec"]["template"]["spec"]["containers"].empty());
  RemoveValue(obj, {"f:metadata", "f:finalizers", R"(v:"f1")"});
  CHECK(obj["metadata"]["finalizers"].empty());
}

TEST_CASE("apply: conflicts name manager and field; force transfers; dropped fields go unless shared") {
  const ManagerInfo a{"a", "", "v1", "2026-01-01T00:00:00Z"};
  const ManagerInfo b{"b", "", "v1", "2026-01-01T00:00:00Z"};
  auto one = ApplyConfiguration(Json(), Json::parse(R"({"data":{"k":"1","x":"1"}})"), "ConfigMap", a, false);
  REQUIRE(one.ok());
  auto clash = ApplyConfiguration(*one, Json::parse(R"({"data":{"k":"2"}})"), "ConfigMap", b, false);
  REQUIRE_FALSE(clash.ok());
  CHECK(clash.status().reason() == Reason::kConflict);
  REQUIRE(clash.status().causes().size() == 1);
  CHECK(clash.status().causes()[0].field == ".data.k");
  auto forced = ApplyConfiguration(*one, Json::parse(R"({"data":{"k":"2"}})"), "ConfigMap", b, true);
  REQUIRE(forced.ok());
  CHECK((*forced)["metadata"]["managedFields"][0]["fieldsV1"] == Json::parse(R"({"f:data":{"f:x":{}}})"));
  auto dropped = ApplyConfiguration(*forced, Json::parse(R"({"data":{}})"), "ConfigMap", a, false);
  REQUIRE(dropped.ok());
  CHECK((*dropped)["data"] == Json::parse(R"({"k":"2"})"));  // x was a's alone; k is b's
}

TEST_CASE("updates record what they change and take it from its owners; [] clears managedFields") {
  const ManagerInfo a{"a", "", "v1", "t"};
  const ManagerInfo e{"editor", "", "v1", "t"};
  Json obj = Json::parse(R"({"metadata":{"name":"c"},"data":{"k":"1","x":"1"}})");
  TrackUpdate(nullptr, obj, "ConfigMap", a);
  CHECK(obj["metadata"]["managedFields"][0]["operation"] == "Update");
  Json next = obj;
  next["data"]["k"] = "2";
  TrackUpdate(&obj, next, "ConfigMap", e);
  REQUIRE(next["metadata"]["managedFields"].size() == 2);
  CHECK(next["metadata"]["managedFields"][0]["fieldsV1"] == Json::parse(R"({"f:data":{"f:x":{}}})"));
  CHECK(next["metadata"]["managedFields"][1]["fieldsV1"] == Json::parse(R"({"f:data":{"f:k":{}}})"));
  Json cleared = next;
  cleared["metadata"]["managedFields"] = Json::array();
  TrackUpdate(&next, cleared, "ConfigMap", e);
  CHECK_FALSE(cleared["metadata"].contains("managedFields"));
  CHECK(ManagerFromUserAgent("kubectl/v1.35.4 (linux/amd64) kubernetes/abc") == "kubectl");
}

// A custom resource's schema declares its lists: ports keyed by name, tags a set, steps atomic; its
// metadata is ObjectMeta whatever the schema says (finalizers a set).
const Json kWidgetSchema = Json::parse(R"({"type":"object","properties":{
  "metadata":{"type":"object"},
  "spec":{"type":"object","properties":{
    "ports":{"type":"array","x-kubernetes-list-type":"map","x-kubernetes-list-map-keys":["name"],
             "items":{"type":"object","properties":{"name":{"type":"string"},"port":{"type":"integer"},
               "hosts":{"type":"array","x-kubernetes-list-type":"set","items":{"type":"string"}}}}},
    "tags":{"type":"array","x-kubernetes-list-type":"set","items":{"type":"string"}},
    "steps":{"type":"array","items":{"type":"string"}},
    "labels":{"type":"object","additionalProperties":{"type":"array","x-kubernetes-list-type":"set",
                                                      "items":{"type":"string"}}}}}}})");

TEST_CASE("fields of a custom resource follow its schema's list types") {
  const ObjectType widget("Widget", &kWidgetSchema);
  const Json obj = Json::parse(R"({"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w",
    "finalizers":["f"]},"spec":{"ports":[{"name":"http","port":80,"hosts":["a"]}],"tags":["x"],"steps":["s"],
    "labels":{"team":["t1"]}}})");
  CHECK(ExtractFields(obj, widget) == Json::parse(R"({"f:metadata":{"f:finalizers":{"v:\"f\"":{}}},
    "f:spec":{"f:ports":{"k:{\"name\":\"http\"}":{".":{},"f:name":{},"f:port":{},"f:hosts":{"v:\"a\"":{}}}},
      "f:tags":{"v:\"x\"":{}},"f:steps":{},"f:labels":{"f:team":{"v:\"t1\"":{}}}}})"));
  // Without the schema every list of a custom resource is atomic.
  CHECK(ExtractFields(obj, "Widget")["f:spec"]["f:ports"] == Json::object());

  const Json live = Json::parse(R"({"spec":{"ports":[{"name":"http","port":80},{"name":"admin","port":9}],
    "tags":["x"],"steps":["a","b"]}})");
  const Json config = Json::parse(R"({"spec":{"ports":[{"name":"http","port":8080}],"tags":["y"],"steps":["c"]}})");
  CHECK(MergeApplied(live, config, widget) == Json::parse(R"({"spec":{
    "ports":[{"name":"http","port":8080},{"name":"admin","port":9}],"tags":["x","y"],"steps":["c"]}})"));
}

TEST_CASE("apply on a custom resource: two managers own one port each, without conflict") {
  const ObjectType widget("Widget", &kWidgetSchema);
  const ManagerInfo a{"a", "", "example.com/v1", "2026-01-01T00:00:00Z"};
  const ManagerInfo b{"b", "", "example.com/v1", "2026-01-01T00:00:00Z"};
  const Json base = Json::parse(R"({"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w"}})");
  Json cfg_a = base;
  cfg_a["spec"]["ports"] = Json::parse(R"([{"name":"http","port":80}])");
  Json cfg_b = base;
  cfg_b["spec"]["ports"] = Json::parse(R"([{"name":"admin","port":9}])");
  auto first = ApplyConfiguration(Json(), cfg_a, widget, a, false);
  REQUIRE(first.ok());
  auto second = ApplyConfiguration(*first, cfg_b, widget, b, false);
  REQUIRE_MESSAGE(second.ok(), second.status().ToString());
  CHECK((*second)["spec"]["ports"].size() == 2);
  // a stops applying its port: only a's entry goes.
  Json none_a = base;
  none_a["spec"]["tags"] = Json::array({"t"});
  auto third = ApplyConfiguration(*second, none_a, widget, a, false);
  REQUIRE(third.ok());
  CHECK((*third)["spec"]["ports"] == Json::parse(R"([{"name":"admin","port":9}])"));
  // The same port by two managers with different values conflicts on that field alone.
  Json clash = base;
  clash["spec"]["ports"] = Json::parse(R"([{"name":"admin","port":10}])");
  auto conflict = ApplyConfiguration(*third, clash, widget, a, false);
  REQUIRE_FALSE(conflict.ok());
  CHECK(conflict.status().message().find(R"(.spec.ports[name="admin"].port)") != std::string::npos);
}

}  // namespace
}  // namespace tmcd::registry
