// The built-in interpreter rules (docs/interpreter.md, docs/sync.md "Per-kind rules"): what travels
// with each kind, what is stripped, when a copy is healthy.
#include "sync/interpreter.h"

#include <doctest/doctest.h>

namespace tmcd::sync {
namespace {

const KindRules& Rules(const char* group, const char* resource) {
  const KindRules* r = BuiltinRules(group, resource);
  REQUIRE(r != nullptr);
  return *r;
}

std::vector<std::string> Names(const std::vector<Dependency>& deps) {
  std::vector<std::string> out;
  for (const auto& d : deps) out.push_back(d.String());
  return out;
}

TEST_CASE("dependencies per kind: pod templates, Ingress backends and TLS, StatefulSet service, HPA target") {
  const Json sts = Json::parse(R"({"spec": {"serviceName": "db-headless", "template": {"spec": {
    "volumes": [{"name": "c", "configMap": {"name": "db-conf"}}]}}}})");
  CHECK(Names(DependenciesOf(Rules("apps", "statefulsets"), sts)) ==
        std::vector<std::string>{"configmaps/db-conf", "services/db-headless"});
  const Json cron = Json::parse(R"({"spec": {"jobTemplate": {"spec": {"template": {"spec": {
    "containers": [{"name": "c", "envFrom": [{"secretRef": {"name": "creds"}}]}]}}}}}})");
  CHECK(Names(DependenciesOf(Rules("batch", "cronjobs"), cron)) == std::vector<std::string>{"secrets/creds"});
  const Json ing = Json::parse(R"({"spec": {"defaultBackend": {"service": {"name": "fallback"}},
    "tls": [{"secretName": "tls-a"}, {"hosts": ["x"]}],
    "rules": [{"http": {"paths": [{"backend": {"service": {"name": "web"}}},
                                  {"backend": {"resource": {"kind": "Bucket", "name": "b"}}}]}},
              {"http": {"paths": [{"backend": {"service": {"name": "web"}}}]}}]}})");
  CHECK(Names(DependenciesOf(Rules("networking.k8s.io", "ingresses"), ing)) ==
        std::vector<std::string>{"secrets/tls-a", "services/fallback", "services/web"});
  const Json hpa = Json::parse(R"({"spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment",
                                                               "name": "web"}}})");
  CHECK(Names(DependenciesOf(Rules("autoscaling", "horizontalpodautoscalers"), hpa)) ==
        std::vector<std::string>{"deployments.apps/web"});
  const Json unknown = Json::parse(R"({"spec": {"scaleTargetRef": {"apiVersion": "example.com/v1", "kind": "Widget",
                                                                   "name": "w"}}})");
  CHECK(DependenciesOf(Rules("autoscaling", "horizontalpodautoscalers"), unknown).empty());
}

TEST_CASE("dependency names round-trip through SyncRecord status.dependencies") {
  auto d = Dependency::FromString("deployments.apps/web");
  REQUIRE(d);
  CHECK(d->group == "apps");
  CHECK(d->version == "v1");
  CHECK(d->resource == "deployments");
  CHECK(d->name == "web");
  d = Dependency::FromString("configmaps/cm");
  REQUIRE(d);
  CHECK(d->group.empty());
  CHECK(d->String() == "configmaps/cm");
  CHECK(!Dependency::FromString("noslash"));
  CHECK(!Dependency::FromString("configmaps/"));
}

TEST_CASE("Jobs lose their generated selector and labels unless the selector is manual; PVCs their volume") {
  Json job = Json::parse(R"({"spec": {"selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": "u"}},
    "template": {"metadata": {"labels": {"app": "x", "controller-uid": "u", "job-name": "j",
                                         "batch.kubernetes.io/controller-uid": "u",
                                         "batch.kubernetes.io/job-name": "j"}}}}})");
  Json manual = job;
  StripFields(Rules("batch", "jobs"), job);
  CHECK(!job["spec"].contains("selector"));
  CHECK(job["spec"]["template"]["metadata"]["labels"] == Json{{"app", "x"}});
  manual["spec"]["manualSelector"] = true;
  StripFields(Rules("batch", "jobs"), manual);
  CHECK(manual["spec"].contains("selector"));
  Json pvc = Json::parse(R"({"metadata": {"annotations": {"pv.kubernetes.io/bind-completed": "yes", "keep": "1"}},
                            "spec": {"volumeName": "pv-7", "resources": {"requests": {"storage": "1Gi"}}}})");
  StripFields(Rules("", "persistentvolumeclaims"), pvc);
  CHECK(!pvc["spec"].contains("volumeName"));
  CHECK(pvc["metadata"]["annotations"] == Json{{"keep", "1"}});
}

TEST_CASE("health per kind") {
  std::string why;
  const Json sts = Json::parse(R"({"spec": {"replicas": 3}, "status": {"readyReplicas": 2}})");
  CHECK(!Healthy(Rules("apps", "statefulsets"), sts, &why));
  CHECK(why == ".status.readyReplicas is 2 of 3");
  CHECK(Healthy(Rules("apps", "statefulsets"), Json::parse(R"({"spec": {}, "status": {"readyReplicas": 1}})"), &why));
  CHECK(Healthy(Rules("apps", "daemonsets"), Json::parse(R"({"status": {"desiredNumberScheduled": 0}})"), &why));
  CHECK(!Healthy(Rules("batch", "jobs"), Json::parse(R"({"status": {"active": 1}})"), &why));
  CHECK(why == "condition Complete is not True on the cluster yet");
  CHECK(Healthy(Rules("batch", "jobs"),
                Json::parse(R"({"status": {"conditions": [{"type": "Complete", "status": "True"}]}})"), &why));
  CHECK(!Healthy(Rules("", "persistentvolumeclaims"), Json::parse(R"({"status": {"phase": "Pending"}})"), &why));
  CHECK(why == "phase is Pending, not Bound");
  CHECK(Healthy(Rules("", "configmaps"), Json::object(), &why));
  CHECK(Healthy(GenericRules("example.com", "v1", "widgets", "Widget"), Json::object(), &why));
}

TEST_CASE("aggregation names parse and print") {
  for (const char* n : {"Replicas", "Shortfall", "Sum", "Min", "Max", "All", "Any", "Union", "Latest", "Earliest",
                        "LatestOfAll", "Unanimous"}) {
    auto a = ParseAggregation(n);
    REQUIRE(a);
    CHECK(AggregationName(*a) == n);
  }
  CHECK(!ParseAggregation("sum"));
}

}  // namespace
}  // namespace tmcd::sync
