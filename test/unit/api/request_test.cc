#include "api/request.h"

#include <doctest/doctest.h>

#include "api/discovery.h"
#include "api/openapi.h"

namespace tmcd::api {
namespace {

TEST_CASE("request paths, with and without a workspace prefix") {
  struct Row {
    const char* path;
    const char* ws;
    const char* group;
    const char* version;
    const char* ns;
    const char* resource;
    const char* name;
    const char* sub;
  };
  for (const Row& r : std::initializer_list<Row>{
           {"/api/v1/namespaces", "root", "", "v1", "", "namespaces", "", ""},
           {"/api/v1/namespaces/shop", "root", "", "v1", "", "namespaces", "shop", ""},
           {"/api/v1/namespaces/shop/status", "root", "", "v1", "", "namespaces", "shop", "status"},
           {"/api/v1/namespaces/shop/configmaps/c", "root", "", "v1", "shop", "configmaps", "c", ""},
           {"/apis/apps/v1/deployments", "root", "apps", "v1", "", "deployments", "", ""},
           {"/clusters/root:org:team/apis/apps/v1/namespaces/a/deployments/d/status", "root:org:team", "apps", "v1",
            "a", "deployments", "d", "status"},
           {"/clusters/root/apis/tmc.kcp.io/v1alpha1/clusterregistrations/c1", "root", "tmc.kcp.io", "v1alpha1", "",
            "clusterregistrations", "c1", ""},
       }) {
    CAPTURE(r.path);
    auto p = ParsePath(r.path);
    REQUIRE(p.ok());
    CHECK(p->kind == RequestPath::Kind::kResource);
    CHECK(p->workspace == r.ws);
    CHECK(p->group == r.group);
    CHECK(p->version == r.version);
    CHECK(p->namespace_ == r.ns);
    CHECK(p->resource == r.resource);
    CHECK(p->name == r.name);
    CHECK(p->subresource == r.sub);
  }
  CHECK(ParsePath("/apis")->kind == RequestPath::Kind::kDiscoveryRoot);
  CHECK(ParsePath("/apis/apps")->kind == RequestPath::Kind::kDiscoveryGroup);
  CHECK(ParsePath("/clusters/root:a/api/v1")->kind == RequestPath::Kind::kDiscoveryVersion);
  for (const char* bad : {"/", "/healthy", "/apis/apps/v1/a/b/c/d", "/clusters/x"}) {
    CAPTURE(bad);
    CHECK(ParsePath(bad).status().reason() == Reason::kNotFound);
  }
  for (const char* bad : {"/clusters/Root/api/v1", "/clusters/a::b/api/v1", "/clusters/-a/api/v1"}) {
    CAPTURE(bad);
    CHECK(ParsePath(bad).status().reason() == Reason::kBadRequest);
  }
}

// The built-in kinds, as registry::Catalog serves them to a workspace without CRDs.
std::vector<registry::ResourcePtr> Served() {
  std::vector<registry::ResourcePtr> out;
  for (const auto& r : registry::ServedResources()) out.emplace_back(registry::ResourcePtr(), &r);
  return out;
}

TEST_CASE("discovery lists every served resource with its verbs and status subresource") {
  auto groups = Discovery(*ParsePath("/apis"), false, Served());
  REQUIRE(groups.ok());
  // apps, batch, networking.k8s.io, autoscaling, policy, tmc.kcp.io, apiextensions.k8s.io,
  // rbac.authorization.k8s.io, authorization.k8s.io
  CHECK((*groups)["groups"].size() == 9);
  auto batch = Discovery(*ParsePath("/apis/batch/v1"), false, Served());
  REQUIRE(batch.ok());
  CHECK((*batch)["resources"].size() == 4);  // jobs, jobs/status, cronjobs, cronjobs/status
  auto hpa = Discovery(*ParsePath("/apis/autoscaling/v2"), false, Served());
  REQUIRE(hpa.ok());
  CHECK((*hpa)["resources"][0]["shortNames"][0] == "hpa");
  auto tmc = Discovery(*ParsePath("/apis/tmc.kcp.io/v1alpha1"), false, Served());
  REQUIRE(tmc.ok());
  bool saw_status = false;
  for (const auto& r : (*tmc)["resources"]) {
    if (r["name"] == "clusterregistrations") CHECK(r["shortNames"][0] == "creg");
    if (r["name"] == "syncrecords") CHECK(r["verbs"] == nlohmann::json{"get", "list", "watch"});
    saw_status = saw_status || r["name"] == "workloadplacements/status";
  }
  CHECK(saw_status);
  CHECK(Discovery(*ParsePath("/apis/nope/v1"), false, Served()).status().reason() == Reason::kNotFound);
  CHECK((*Discovery(*ParsePath("/api"), false, Served()))["versions"][0] == "v1");
  // kcp mode: the local API is a read-only cache.
  auto ro = Discovery(*ParsePath("/apis/apps/v1"), true, Served());
  REQUIRE(ro.ok());
  CHECK((*ro)["resources"][0]["verbs"] == nlohmann::json{"get", "list", "watch"});
  CHECK((*ro)["resources"][1]["verbs"] == nlohmann::json{"get"});
  // RBAC is tmcd's own: writable in kcp mode too. Access reviews are create-only.
  auto rbac = Discovery(*ParsePath("/apis/rbac.authorization.k8s.io/v1"), true, Served());
  REQUIRE(rbac.ok());
  CHECK((*rbac)["resources"].size() == 4);
  CHECK((*rbac)["resources"][0]["verbs"].size() == 7);
  auto reviews = Discovery(*ParsePath("/apis/authorization.k8s.io/v1"), false, Served());
  REQUIRE(reviews.ok());
  CHECK((*reviews)["resources"][0]["verbs"] == nlohmann::json{"create"});
}

TEST_CASE("OpenAPI v3 index and documents carry GVKs and the fieldValidation parameter") {
  auto index = OpenApiIndex(Served());
  REQUIRE(index["paths"].contains("apis/tmc.kcp.io/v1alpha1"));
  CHECK(index["paths"]["api/v1"]["serverRelativeURL"].get<std::string>().rfind("/openapi/v3/api/v1?hash=", 0) == 0);
  auto doc = OpenApiDocument("apis/tmc.kcp.io/v1alpha1", Served());
  REQUIRE(doc.ok());
  auto creg = (*doc)["components"]["schemas"]["io.kcp.tmc.v1alpha1.ClusterRegistration"];
  CHECK(creg["x-kubernetes-group-version-kind"][0]["kind"] == "ClusterRegistration");
  CHECK(creg["properties"]["spec"]["properties"]["endpoint"]["required"][0] == "server");
  auto patch = (*doc)["paths"]["/apis/tmc.kcp.io/v1alpha1/clusterregistrations/{name}"]["patch"];
  CHECK(patch["parameters"][0]["name"] == "fieldValidation");
  CHECK(OpenApiDocument("apis/nope/v1", Served()).status().reason() == Reason::kNotFound);
}

}  // namespace
}  // namespace tmcd::api
