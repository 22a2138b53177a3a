// Per-cluster overrides on a copy: registry rewrites of every container image, JSON patches, and the
// fields an override may not touch (the copy stays tmcd's; a failed override leaves the copy as it was).
#include "sync/overrides.h"

#include <doctest/doctest.h>

#include "sync/naming.h"

namespace tmcd::sync {
namespace {

using Json = nlohmann::json;

TEST_CASE("registry rewrite: explicit registries are replaced, Docker Hub names get one") {
  CHECK(RewriteRegistry("nginx:1.25", "mirror.example") == "mirror.example/nginx:1.25");
  CHECK(RewriteRegistry("library/nginx", "mirror.example/") == "mirror.example/library/nginx");
  CHECK(RewriteRegistry("registry.k8s.io/pause:3.9", "mirror.example:5000/k8s") == "mirror.example:5000/k8s/pause:3.9");
  CHECK(RewriteRegistry("localhost/app", "m.example") == "m.example/app");
  CHECK(RewriteRegistry("localhost:5000/team/app@sha256:ab", "m.example") == "m.example/team/app@sha256:ab");
}

Json Copy() {
  return Json::parse(R"({"apiVersion":"apps/v1","kind":"Deployment",
    "metadata":{"name":"web","namespace":"kcp-abc","labels":{"tmc.kcp.io/managed-by":"tmcd","tmc.kcp.io/workspace":"root"},
                "annotations":{"tmc.kcp.io/upstream":"root/shop/web"}},
    "spec":{"replicas":2,"template":{"spec":{
      "initContainers":[{"name":"init","image":"busybox"}],
      "containers":[{"name":"app","image":"registry.k8s.io/pause:3.9"},{"name":"side","image":"quay.io/org/side:1"}]}}}})");
}

v1::Override Image(const std::string& registry) {
  v1::Override o;
  o.image = v1::ImageOverride{registry};
  return o;
}

// A jsonPatch override from the operations' JSON.
v1::Override Patch(const std::string& ops) {
  v1::Override o;
  for (const auto& op : Json::parse(ops)) {
    v1::JsonPatchOp p{op.value("op", ""), op.value("path", ""), op.value("from", ""), std::nullopt};
    if (op.contains("value")) p.value = apis::RawJson{op["value"]};
    o.json_patch.push_back(std::move(p));
  }
  return o;
}

TEST_CASE("overrides: image registry on every container, then JSON patch operations in order") {
  const KindRules& rules = *BuiltinRules("apps", "deployments");
  Json c = Copy();
  REQUIRE(ApplyOverride(rules, Image("mirror.example"), c).ok());
  const Json& spec = c["spec"]["template"]["spec"];
  CHECK(spec["initContainers"][0]["image"] == "mirror.example/busybox");
  CHECK(spec["containers"][0]["image"] == "mirror.example/pause:3.9");
  CHECK(spec["containers"][1]["image"] == "mirror.example/org/side:1");

  auto patch = Patch(R"([{"op":"add","path":"/metadata/labels/tier","value":"edge"},
                        {"op":"replace","path":"/spec/replicas","value":5}])");
  REQUIRE(ApplyOverride(rules, patch, c).ok());
  CHECK(c["metadata"]["labels"]["tier"] == "edge");
  CHECK(c["spec"]["replicas"] == 5);
  CHECK(DescribeOverride(1, patch) == "overrides[1]: jsonPatch, 2 operations");
  CHECK(DescribeOverride(0, Image("m.example")) == "overrides[0]: image registry m.example");
}

TEST_CASE("overrides: what makes the copy tmcd's cannot be changed; a failure leaves the copy as it was") {
  const KindRules& rules = *BuiltinRules("apps", "deployments");
  for (const char* op : {R"({"op":"replace","path":"/metadata/name","value":"x"})",
                         R"({"op":"replace","path":"/metadata/namespace","value":"default"})",
                         R"({"op":"remove","path":"/metadata/labels/tmc.kcp.io~1managed-by"})",
                         R"({"op":"remove","path":"/metadata/annotations"})",
                         R"({"op":"replace","path":"/kind","value":"StatefulSet"})"}) {
    Json c = Copy();
    const Status s = ApplyOverride(rules, Patch(std::string("[") + op + "]"), c);
    CHECK_MESSAGE(s.reason() == Reason::kInvalid, op);
    CHECK(s.message().find("which tmcd owns on the copy") != std::string::npos);
    CHECK(c == Copy());
  }
  Json c = Copy();
  const Status s = ApplyOverride(rules, Patch(R"([{"op":"remove","path":"/spec/paused"}])"), c);
  CHECK(s.reason() == Reason::kInvalid);
  CHECK(s.message().find("jsonPatch: ") == 0);
  CHECK(c == Copy());
}

TEST_CASE("overrides: replicas through the kind's path, unless an HPA scales the copy; kinds without one unchanged") {
  const KindRules& rules = *BuiltinRules("apps", "deployments");
  v1::Override o;
  o.replicas = 7;
  Json c = Copy();
  REQUIRE(ApplyOverride(rules, o, c).ok());
  CHECK(c["spec"]["replicas"] == 7);
  c = Copy();
  c["spec"].erase("replicas");  // the syncer dropped it: the cluster's HPA owns the count
  REQUIRE(ApplyOverride(rules, o, c, /*autoscaled=*/true).ok());
  CHECK_FALSE(c["spec"].contains("replicas"));
  Json cm = R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cfg"},"data":{"a":"1"}})"_json;
  const Json before = cm;
  REQUIRE(ApplyOverride(*BuiltinRules("", "configmaps"), o, cm).ok());
  CHECK(cm == before);
  CHECK(DescribeOverride(2, o) == "overrides[2]: replicas 7");
}

TEST_CASE("overrides: labels and annotations of the copy are set, then removed; tmcd's marks stay") {
  const KindRules& rules = *BuiltinRules("apps", "deployments");
  v1::Override o;
  o.labels = v1::MetadataOverride{{{"tier", "edge"}, {"zone", "b"}}, {"zone", "absent"}};
  o.annotations = v1::MetadataOverride{{{"note", "hello world"}}, {}};
  Json c = Copy();
  c["metadata"]["labels"]["zone"] = "a";
  REQUIRE(ApplyOverride(rules, o, c).ok());
  CHECK(c["metadata"]["labels"] ==
        Json{{"tmc.kcp.io/managed-by", "tmcd"}, {"tmc.kcp.io/workspace", "root"}, {"tier", "edge"}});
  CHECK(c["metadata"]["annotations"]["note"] == "hello world");
  CHECK(c["spec"]["template"].value("metadata", Json::object()).empty());  // not the Pod template's
  CHECK(DescribeOverride(0, o) == "overrides[0]: labels, annotations");
  // What validation refuses in the local API, the copy refuses too (kcp mode validates by schema only).
  v1::Override bad;
  bad.labels = v1::MetadataOverride{{}, {"tmc.kcp.io/managed-by"}};
  c = Copy();
  CHECK(ApplyOverride(rules, bad, c).message() ==
        "changes metadata.labels[tmc.kcp.io/managed-by], which tmcd owns on the copy");
  CHECK(c == Copy());
}

TEST_CASE("overrides: env set in place or appended, removed, args replaced and appended, by container name") {
  const KindRules& rules = *BuiltinRules("apps", "deployments");
  Json c = Copy();
  Json& app = c["spec"]["template"]["spec"]["containers"][0];
  app["env"] = R"([{"name":"A","value":"1"},{"name":"B","valueFrom":{"secretKeyRef":{"name":"s","key":"k"}}},
                   {"name":"DEBUG","value":"1"}])"_json;
  app["args"] = R"(["--port=80"])"_json;
  v1::Override o;
  o.containers = {v1::ContainerOverride{"app", {{"B", "plain"}, {"C", "3"}}, {"DEBUG"}, {}, {"-v"}},
                  v1::ContainerOverride{"init", {}, {}, {"--fast"}, {}}};
  REQUIRE(ApplyOverride(rules, o, c).ok());
  const Json& spec = c["spec"]["template"]["spec"];
  CHECK(spec["containers"][0]["env"] ==
        R"([{"name":"A","value":"1"},{"name":"B","value":"plain"},{"name":"C","value":"3"}])"_json);
  CHECK(spec["containers"][0]["args"] == R"(["--port=80","-v"])"_json);
  CHECK(spec["initContainers"][0]["args"] == R"(["--fast"])"_json);  // a named override reaches init containers
  CHECK_FALSE(spec["containers"][1].contains("env"));                // other containers untouched
  CHECK(DescribeOverride(0, o) == "overrides[0]: container app, container init");

  // Unnamed: every container, init containers excepted; args replaced, then appended to.
  v1::Override all;
  all.containers = {v1::ContainerOverride{"", {{"REGION", "eu"}}, {}, {"--a"}, {"--b"}}};
  c = Copy();
  REQUIRE(ApplyOverride(rules, all, c).ok());
  for (const auto& ctr : c["spec"]["template"]["spec"]["containers"]) {
    CHECK(ctr["env"] == R"([{"name":"REGION","value":"eu"}])"_json);
    CHECK(ctr["args"] == R"(["--a","--b"])"_json);
  }
  CHECK_FALSE(c["spec"]["template"]["spec"]["initContainers"][0].contains("env"));
  CHECK(DescribeOverride(1, all) == "overrides[1]: every container");

  // A name no container has changes nothing.
  v1::Override none;
  none.containers = {v1::ContainerOverride{"missing", {{"X", "1"}}, {}, {}, {}}};
  c = Copy();
  REQUIRE(ApplyOverride(rules, none, c).ok());
  CHECK(c == Copy());
}

TEST_CASE("overrides: one entry applies image, replicas, metadata, containers, then its JSON patch") {
  const KindRules& rules = *BuiltinRules("apps", "deployments");
  v1::Override o = Patch(R"([{"op":"test","path":"/spec/replicas","value":3},
                             {"op":"test","path":"/spec/template/spec/containers/0/args","value":["x"]},
                             {"op":"test","path":"/metadata/labels/tier","value":"edge"}])");
  o.image = v1::ImageOverride{"m.example"};
  o.replicas = 3;
  o.labels = v1::MetadataOverride{{{"tier", "edge"}}, {}};
  o.containers = {v1::ContainerOverride{"app", {}, {}, {"x"}, {}}};
  Json c = Copy();
  const Status s = ApplyOverride(rules, o, c);  // the patch's tests see what the other fields did
  REQUIRE_MESSAGE(s.ok(), s.message());
  CHECK(c["spec"]["template"]["spec"]["containers"][0]["image"] == "m.example/pause:3.9");
  CHECK(DescribeOverride(0, o) ==
        "overrides[0]: image registry m.example, replicas 3, labels, container app, jsonPatch, 3 operations");
  // A failing patch undoes the entry's other changes too.
  o.json_patch.front().value = apis::RawJson{4};
  c = Copy();
  CHECK_FALSE(ApplyOverride(rules, o, c).ok());
  CHECK(c == Copy());
}

}  // namespace
}  // namespace tmcd::sync
