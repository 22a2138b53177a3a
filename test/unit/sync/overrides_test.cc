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

}  // namespace
}  // namespace tmcd::sync
