// Names, marks and transformations of docs/design/architecture.md §6, with golden values computed independently
// (Python: base36 of the SHA-256 integer).
#include "sync/transform.h"

#include <doctest/doctest.h>

#include "kube/informer.h"
#include "sync/interpreter.h"
#include "sync/naming.h"

namespace tmcd::sync {
namespace {

TEST_CASE("a copy is cached under ns/name, also when a kcp workspace serves as the cluster") {
  Json copy = Json::parse(R"({"metadata": {"name": "web", "namespace": "tmc-x", "generation": 2,
    "annotations": {"kcp.io/cluster": "2xrnodvyf5gkna7w", "tmc.kcp.io/upstream": "{}"},
    "managedFields": [{"manager": "tmcd"}]}})");
  CHECK(kube::Informer::KeyOf(copy) == "2xrnodvyf5gkna7w|tmc-x/web");  // what made every lookup miss
  TrimForCache(copy);
  CHECK(kube::Informer::KeyOf(copy) == "tmc-x/web");
  CHECK_FALSE(copy["metadata"].contains("managedFields"));
  CHECK(copy["metadata"]["annotations"] == Json{{"tmc.kcp.io/upstream", "{}"}});
  CHECK(copy["metadata"]["generation"] == 2);
  Json bare = Json::parse(R"({"metadata": {"name": "web", "annotations": {"kcp.io/cluster": "c"}}})");
  TrimForCache(bare);
  CHECK_FALSE(bare["metadata"].contains("annotations"));
  Json odd = Json::parse(R"({"metadata": "not an object"})");
  TrimForCache(odd);  // left alone, no throw
  CHECK(odd["metadata"] == "not an object");
}

TEST_CASE("cluster keys, workspace hashes and downstream namespaces are the documented hashes") {
  CHECK(ClusterKey("root", "east") == "dtkv18vvkg");
  CHECK(DownstreamNamespace("root", "shop") == "tmc-1y22vhkcx0sj");
  CHECK(WorkspaceHash("root") == "1so4ucii0bd9");
  CHECK(DownstreamNamespace("other", "shop") != DownstreamNamespace("root", "shop"));
  CHECK(StateLabel("root", "east") == "state.tmc.kcp.io/dtkv18vvkg");
  CHECK(Locator("root", "shop") == R"({"namespace":"shop","workspace":"root"})");
  CHECK(SyncRecordName("apps", "deployments", "web", "abc") == "deployments.apps.web.abc");
  CHECK(SyncRecordName("", "services", "web", "abc") == "services.core.web.abc");
}

TEST_CASE("the desired object drops server fields, maps the namespace and carries the marks") {
  const Json up = Json::parse(R"({
    "apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {"name": "web", "namespace": "shop", "uid": "u-1", "resourceVersion": "42", "generation": 3,
      "creationTimestamp": "2026-01-01T00:00:00Z", "finalizers": ["tmc.kcp.io/syncer"],
      "managedFields": [{}], "ownerReferences": [{"name": "x"}],
      "labels": {"app": "web", "state.tmc.kcp.io/dtkv18vvkg": "Sync"},
      "annotations": {"kcp.io/cluster": "2abc", "note": "kept", "tmc.kcp.io/cluster-status": "{}",
                      "kubectl.kubernetes.io/last-applied-configuration": "{}"}},
    "spec": {"replicas": 2},
    "status": {"replicas": 2}})");
  const UpstreamId id{"root", "apps", "v1", "deployments", "shop", "web", "u-1"};
  const Json d = Desired(up, id, "tmc-1y22vhkcx0sj");
  CHECK(d["metadata"] == Json::parse(R"({
    "name": "web", "namespace": "tmc-1y22vhkcx0sj",
    "labels": {"app": "web", "tmc.kcp.io/managed-by": "tmcd", "tmc.kcp.io/workspace": "1so4ucii0bd9"},
    "annotations": {"note": "kept",
                    "tmc.kcp.io/upstream": "{\"name\":\"web\",\"namespace\":\"shop\",\"uid\":\"u-1\",\"workspace\":\"root\"}"}})"));
  CHECK(d["spec"] == up["spec"]);
  CHECK(!d.contains("status"));
  CHECK(HasMarks(d));
  UpstreamId back;
  REQUIRE(UpstreamFromAnnotation(d, back));
  CHECK(back.workspace == "root");
  CHECK(back.namespace_ == "shop");
  CHECK(back.name == "web");
  CHECK(back.uid == "u-1");
  CHECK(!HasMarks(up));
}

TEST_CASE("a Service goes with the workloads whose Pods it selects") {
  const Json web = Json::parse(R"({"metadata": {"labels": {"app": "web", "tier": "fe"}}})");
  auto svc = [](const char* selector) {
    return Json::parse(std::string(R"({"kind": "Service", "spec": {"selector": )") + selector + "}}");
  };
  CHECK(ServiceSelects(svc(R"({"app": "web"})"), web));
  CHECK(ServiceSelects(svc(R"({"app": "web", "tier": "fe"})"), web));
  CHECK_FALSE(ServiceSelects(svc(R"({"app": "web", "tier": "be"})"), web));
  CHECK_FALSE(ServiceSelects(svc(R"({"app": "api"})"), web));
  CHECK_FALSE(ServiceSelects(svc("{}"), web));  // no selector: manual endpoints, not ours
  CHECK_FALSE(ServiceSelects(Json::parse(R"({"kind": "Service", "spec": {}})"), web));
  CHECK_FALSE(ServiceSelects(svc(R"({"app": "web"})"), Json::parse(R"({"spec": {}})")));
  CHECK_FALSE(ServiceSelects(svc(R"({"app": "web"})"), Json()));
}

TEST_CASE("Services lose per-cluster fields; ServiceAccounts their token Secrets") {
  const Json svc = Json::parse(R"({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
    "spec": {"clusterIP": "10.0.0.7", "clusterIPs": ["10.0.0.7"], "ipFamilies": ["IPv4"], "type": "NodePort",
             "ports": [{"port": 80, "nodePort": 30080}]}})");
  Json d = Desired(svc, {"root", "", "v1", "services", "shop", "s", ""}, "n");
  CHECK(d["spec"] == Json::parse(R"({"type": "NodePort", "ports": [{"port": 80}]})"));
  Json headless = svc;
  headless["spec"]["clusterIP"] = "None";
  d = Desired(headless, {"root", "", "v1", "services", "shop", "s", ""}, "n");
  CHECK(d["spec"]["clusterIP"] == "None");
  const Json sa = Json::parse(R"({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "a"},
    "secrets": [{"name": "a-token"}], "imagePullSecrets": [{"name": "pull"}]})");
  d = Desired(sa, {"root", "", "v1", "serviceaccounts", "shop", "a", ""}, "n");
  StripFields(*BuiltinRules("", "serviceaccounts"), d);
  CHECK(!d.contains("secrets"));
  CHECK(d["imagePullSecrets"] == sa["imagePullSecrets"]);
}

TEST_CASE("a Pod template's ConfigMaps, Secrets, PVCs and ServiceAccount are found") {
  const Json w = Json::parse(R"({"spec": {
    "serviceAccountName": "runner",
    "imagePullSecrets": [{"name": "pull"}],
    "volumes": [{"name": "a", "configMap": {"name": "cm-vol"}}, {"name": "b", "secret": {"secretName": "s-vol"}},
                {"name": "c", "projected": {"sources": [{"configMap": {"name": "cm-proj"}},
                                                        {"secret": {"name": "s-proj"}}]}},
                {"name": "d", "emptyDir": {}}, {"name": "e", "persistentVolumeClaim": {"claimName": "data"}}],
    "initContainers": [{"name": "i", "envFrom": [{"configMapRef": {"name": "cm-init"}}]}],
    "containers": [{"name": "c", "env": [{"name": "X", "valueFrom": {"secretKeyRef": {"name": "s-env", "key": "k"}}},
                                         {"name": "Y", "value": "plain"}],
                    "envFrom": [{"secretRef": {"name": "s-from"}}, {"configMapRef": {"name": "cm-vol"}}]}]}})");
  std::vector<Reference> want = {{"configmaps", "cm-init"}, {"configmaps", "cm-proj"},
                                 {"configmaps", "cm-vol"},  {"persistentvolumeclaims", "data"},
                                 {"secrets", "pull"},       {"secrets", "s-env"},
                                 {"secrets", "s-from"},     {"secrets", "s-proj"},
                                 {"secrets", "s-vol"},      {"serviceaccounts", "runner"}};
  CHECK(PodTemplateReferences(w) == want);
  const Json plain = Json::parse(R"({"spec": {"serviceAccountName": "default"}})");
  CHECK(PodTemplateReferences(plain).empty());
}

TEST_CASE("the desired hash changes with the object and with its dependencies") {
  const Json a = {{"spec", {{"replicas", 1}}}};
  const Json b = {{"spec", {{"replicas", 2}}}};
  const Json cm = {{"data", {{"k", "v"}}}};
  CHECK(DesiredHash(a, {}) == DesiredHash(a, {}));
  CHECK(DesiredHash(a, {}) != DesiredHash(b, {}));
  CHECK(DesiredHash(a, {cm}) != DesiredHash(a, {}));
  CHECK(DesiredHash(a, {}).size() == 32);
}

}  // namespace
}  // namespace tmcd::sync
