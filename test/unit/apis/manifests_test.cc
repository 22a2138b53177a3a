#include "apis/tmc/v1alpha1/manifests.h"

#include <doctest/doctest.h>
#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#include "apis/tmc/v1alpha1/reference_doc.h"

namespace tmcd::apis::v1alpha1 {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST_CASE("checked-in manifests under config/ are what the code generates") {
  const char* root = std::getenv("TMCD_SOURCE_DIR");  // NOLINT(concurrency-mt-unsafe)
  REQUIRE_MESSAGE(root != nullptr, "TMCD_SOURCE_DIR must point at the repository");
  auto all = CrdManifests();
  auto kcp = KcpManifests();
  all.insert(all.end(), kcp.begin(), kcp.end());
  all.push_back({"docs/api-reference.md", ApiReferenceMarkdown()});
  REQUIRE(all.size() == 21);  // 3 CRDs, 15 APIResourceSchemas, 2 APIExports, the API reference
  for (const auto& m : all) {
    CAPTURE(m.path);
    CHECK_MESSAGE(ReadFile(std::string(root) + "/" + m.path) == m.yaml,
                  "stale: run scripts/generate-manifests.sh and commit config/");
  }
}

TEST_CASE("generated CRDs parse as YAML and carry the schema, printer columns and status subresource") {
  for (const auto& m : CrdManifests()) {
    CAPTURE(m.path);
    YAML::Node doc = YAML::Load(m.yaml);
    CHECK(doc["kind"].as<std::string>() == "CustomResourceDefinition");
    auto version = doc["spec"]["versions"][0];
    CHECK(version["subresources"]["status"].IsMap());
    CHECK(version["additionalPrinterColumns"].size() >= 3);
    auto schema = version["schema"]["openAPIV3Schema"];
    CHECK(schema["type"].as<std::string>() == "object");
    CHECK(schema["properties"]["spec"]["type"].as<std::string>() == "object");
    CHECK(schema["properties"]["metadata"]["type"].as<std::string>() == "object");
  }
  YAML::Node creg = YAML::Load(CrdManifests()[0].yaml);
  auto spec = creg["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"];
  CHECK(spec["properties"]["healthCheck"]["default"].IsMap());
  CHECK(spec["properties"]["healthCheck"]["properties"]["periodSeconds"]["default"].as<int>() == 10);
  CHECK(spec["properties"]["endpoint"]["x-kubernetes-validations"].size() == 2);
  auto status = creg["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["status"];
  auto cond = status["properties"]["conditions"];
  CHECK(cond["x-kubernetes-list-type"].as<std::string>() == "map");
  // "True" must stay a string for YAML 1.1 readers.
  CHECK(CrdManifests()[0].yaml.find("- \"True\"") != std::string::npos);
}

TEST_CASE("APIResourceSchema names are content-addressed; the APIExport points at them") {
  auto kcp = KcpManifests();
  YAML::Node ars = YAML::Load(kcp[0].yaml);
  const std::string name = ars["metadata"]["name"].as<std::string>();
  CHECK(name.size() == 11 + std::string(".clusterregistrations.tmc.kcp.io").size());
  CHECK(name.rfind("v", 0) == 0);
  CHECK(ars["spec"]["versions"][0]["schema"]["type"].as<std::string>() == "object");  // body, not wrapped
  YAML::Node exp = YAML::Load(kcp[kcp.size() - 2].yaml);
  CHECK(exp["apiVersion"].as<std::string>() == "apis.kcp.io/v1alpha2");
  CHECK(exp["spec"]["resources"][0]["schema"].as<std::string>() == name);
  CHECK(exp["spec"]["resources"].size() == 15);
  CHECK(exp["spec"]["permissionClaims"].size() == 5);
  CHECK(exp["spec"]["permissionClaims"][4]["resource"].as<std::string>() == "events");  // written: create, patch
  CHECK(exp["spec"]["permissionClaims"][4]["verbs"].size() == 6);
  YAML::Node old = YAML::Load(kcp.back().yaml);
  CHECK(old["apiVersion"].as<std::string>() == "apis.kcp.io/v1alpha1");
  CHECK(old["spec"]["latestResourceSchemas"][0].as<std::string>() == name);
  CHECK(old["spec"]["permissionClaims"][0]["all"].as<bool>());
  CHECK(KcpObjects("v1alpha2", /*workload_types=*/false).size() == 4);
  // upstream.claimedResources: claims with the providing export's identity, full access (status,
  // finalizer and labels are written back) in either export version.
  const std::string hash(64, 'f');
  const std::vector<ClaimedResource> claimed = {{"example.com", "v1", "widgets", hash}, {"", "v1", "pods", ""}};
  auto v1claims = KcpObjects("v1alpha1", true, claimed).back()["spec"]["permissionClaims"];
  REQUIRE(v1claims.size() == 7);
  CHECK(v1claims[5] ==
        OrderedJson({{"group", "example.com"}, {"resource", "widgets"}, {"identityHash", hash}, {"all", true}}));
  CHECK(!v1claims[6].contains("identityHash"));
  auto v2claims = KcpObjects("v1alpha2", true, claimed).back()["spec"]["permissionClaims"];
  CHECK(v2claims[5]["verbs"].size() == 5);
  CHECK(v2claims[5]["identityHash"] == hash);
  OrderedJson a = {{"x", 1}};
  OrderedJson b = {{"x", 2}};
  CHECK(SchemaPrefix(a) == SchemaPrefix(a));
  CHECK(SchemaPrefix(a) != SchemaPrefix(b));
}

TEST_CASE("workload schemas are structural, named by group, and carry status and scale") {
  auto kcp = KcpManifests();
  YAML::Node deploy = YAML::Load(kcp[3].yaml);
  YAML::Node svc = YAML::Load(kcp[4].yaml);
  CHECK(deploy["metadata"]["name"].as<std::string>().ends_with(".deployments.apps"));
  CHECK(svc["metadata"]["name"].as<std::string>().ends_with(".services.core"));
  CHECK(svc["spec"]["group"].as<std::string>().empty());
  auto v = deploy["spec"]["versions"][0];
  CHECK(v["name"].as<std::string>() == "v1");
  CHECK(v["subresources"]["scale"]["specReplicasPath"].as<std::string>() == ".spec.replicas");
  auto spec = v["schema"]["properties"]["spec"];
  CHECK(spec["type"].as<std::string>() == "object");
  CHECK(spec["properties"]["replicas"]["type"].as<std::string>() == "integer");
  CHECK(spec["properties"]["template"]["x-kubernetes-preserve-unknown-fields"].as<bool>());
  // The other synced kinds: loose schemas in their own group and version, status (and scale) as served.
  std::map<std::string, YAML::Node> by_plural;
  for (size_t i = 5; i + 2 < kcp.size(); ++i) {
    YAML::Node n = YAML::Load(kcp[i].yaml);
    by_plural[n["spec"]["names"]["plural"].as<std::string>()] = n;
  }
  REQUIRE(by_plural.size() == 10);
  auto hpa = by_plural["horizontalpodautoscalers"]["spec"];
  CHECK(hpa["group"].as<std::string>() == "autoscaling");
  CHECK(hpa["versions"][0]["name"].as<std::string>() == "v2");
  CHECK(hpa["versions"][0]["subresources"]["status"].IsMap());
  CHECK(by_plural["statefulsets"]["spec"]["versions"][0]["subresources"]["scale"].IsMap());
  CHECK(!by_plural["networkpolicies"]["spec"]["versions"][0]["subresources"]["status"].IsDefined());
  CHECK(by_plural["persistentvolumeclaims"]["metadata"]["name"].as<std::string>().ends_with(
      ".persistentvolumeclaims.core"));
  auto job_spec = by_plural["jobs"]["spec"]["versions"][0]["schema"]["properties"]["spec"];
  CHECK(job_spec["x-kubernetes-preserve-unknown-fields"].as<bool>());
}

TEST_CASE("the API reference lists every field with its rules") {
  std::string doc = ApiReferenceMarkdown();
  for (const char* want :
       {"| `spec.endpoint.server` | string |  | required; ≤ 2048 chars |",
        "| `spec.healthCheck.periodSeconds` | integer (int32) | `10` | ≥ 1; ≤ 3600 |",
        "| `spec.taints[].effect` | string |  | required; one of `NoSchedule`",
        "| `spec.strategy` | string | `\"Spread\"` |", "## SyncRecord", "`spec.capacity` | map[string]quantity"}) {
    CAPTURE(want);
    CHECK(doc.find(want) != std::string::npos);
  }
}

}  // namespace
}  // namespace tmcd::apis::v1alpha1
