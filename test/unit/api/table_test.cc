#include "api/table.h"

#include <doctest/doctest.h>

#include "api/printers.h"
#include "apis/meta/selector.h"
#include "registry/objects.h"
#include "registry/resources.h"

namespace tmcd::api {
namespace {

using Json = nlohmann::json;

TEST_CASE("the JSONPath subset used by printer columns") {
  Json obj = Json::parse(R"({"spec":{"location":"us","list":[{"n":"a"},{"n":"b"}]},
    "status":{"conditions":[{"type":"Scheduled","status":"False"},{"type":"Ready","status":"True"}]}})");
  CHECK(EvalJsonPath(obj, ".spec.location") == std::vector<Json>{"us"});
  CHECK(EvalJsonPath(obj, ".spec.list[*].n") == std::vector<Json>{"a", "b"});
  CHECK(EvalJsonPath(obj, ".spec.list[1].n") == std::vector<Json>{"b"});
  CHECK(EvalJsonPath(obj, R"(.status.conditions[?(@.type=="Ready")].status)") == std::vector<Json>{"True"});
  CHECK(EvalJsonPath(obj, ".missing.x").empty());
  CHECK(EvalJsonPath(obj, "spec").empty());
}

TEST_CASE("ages render like the API server's") {
  using std::chrono::seconds;
  CHECK(HumanAge(seconds(5)) == "5s");
  CHECK(HumanAge(seconds(150)) == "2m30s");
  CHECK(HumanAge(seconds(3600)) == "60m");
  CHECK(HumanAge(seconds(4 * 3600 + 60)) == "4h1m");
  CHECK(HumanAge(seconds(30 * 3600)) == "30h");
  CHECK(HumanAge(seconds(3 * 86400 + 7200)) == "3d2h");
  CHECK(HumanAge(seconds(40 * 86400)) == "40d");
  CHECK(HumanAge(seconds(800 * 86400)) == "2y");
}

TEST_CASE("Table responses: printer columns, ages, partial metadata") {
  CHECK(WantsTable("application/json;as=Table;v=v1;g=meta.k8s.io,application/json"));
  CHECK_FALSE(WantsTable("application/json"));
  const ResourceInfo* creg = registry::FindResource("tmc.kcp.io", "v1alpha1", "clusterregistrations");
  REQUIRE(creg != nullptr);
  Json obj = Json::parse(R"({"metadata":{"name":"c1","creationTimestamp":"2026-11-27T10:00:00Z"},
    "spec":{"location":"us-west-2"},"status":{"conditions":[{"type":"Ready","status":"True"}]}})");
  auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1795773600 + 90));
  Json t = ToTable(*creg, {obj}, "7", now);
  CHECK(t["kind"] == "Table");
  CHECK(t["metadata"]["resourceVersion"] == "7");
  std::vector<std::string> names;
  for (const auto& c : t["columnDefinitions"]) names.push_back(c["name"]);
  CHECK(names == std::vector<std::string>{"Name", "Location", "Ready", "Version", "Age"});
  CHECK(t["rows"][0]["cells"] == Json::parse(R"(["c1","us-west-2","True",null,"90s"])"));
  CHECK(t["rows"][0]["object"]["kind"] == "PartialObjectMetadata");
}

}  // namespace
}  // namespace tmcd::api

#include "registry/objects.h"

namespace tmcd::api {
namespace {

TEST_CASE("DecorateText splices resourceVersion and uid into the top-level metadata only") {
  const std::string uid(16, '\x11');
  struct Row {
    const char* stored;
  };
  for (const Row& r : std::initializer_list<Row>{
           {R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a"}})"},
           {R"({"metadata":{}})"},
           {R"({"aaa":{"metadata":{"name":"nested"}},"metadata":{"name":"top"}})"},
           {R"({"data":{"k":"\"metadata\":{"},"metadata":{"name":"s"}})"},
           {R"({"data":{"k":"a\\"},"metadata":{"name":"esc"},"spec":{"template":{"metadata":{"labels":{}}}}})"},
           // backslash runs before a quote: odd escapes it, even ends the string
           {R"({"data":{"k":"\\\\\",\"metadata\":{\\\\"},"metadata":{"name":"runs"}})"},
           {R"({"data":{"k":"\\\\"},"metadata":{"name":"even"}})"},
           {R"({"data":["\"metadata\":{",{"metadata":{}}],"metadata":{"name":"arr"}})"},
       }) {
    CAPTURE(r.stored);
    store::StoredObject o{1, 42, uid, r.stored};
    const std::string text = registry::DecorateText(o);
    Json spliced = Json::parse(text);         // must stay valid JSON
    CHECK(spliced == registry::Decorate(o));  // and mean exactly what the parsing path produces
  }
  store::StoredObject nested{1, 7, uid, R"({"aaa":{"metadata":{"name":"nested"}},"metadata":{"name":"top"}})"};
  Json j = Json::parse(registry::DecorateText(nested));
  CHECK_FALSE(j["aaa"]["metadata"].contains("resourceVersion"));
  CHECK(j["metadata"]["resourceVersion"] == "7");
  // A long value with escaped quotes in it before the metadata (the scan skips string contents whole).
  Json big = {{"a", std::string(4000, 'x') + "\",\"metadata\":{\\" + std::string(999, '\\')},
              {"metadata", {{"name", "big"}}}};
  store::StoredObject long_value{1, 9, uid, big.dump()};
  CHECK(Json::parse(registry::DecorateText(long_value)) == registry::Decorate(long_value));
  // Text with no top-level metadata falls back to the parsing path.
  store::StoredObject none{1, 3, uid, R"({"kind":"X","spec":{"metadata":{}}})"};
  CHECK(Json::parse(registry::DecorateText(none)) == registry::Decorate(none));
}

}  // namespace
}  // namespace tmcd::api

namespace tmcd::api {
namespace {

TEST_CASE("built-in printers: kube-apiserver's columns and cells") {
  const auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000));
  const auto* d = FindBuiltinPrinter("Deployment");
  REQUIRE(d != nullptr);
  CHECK(d->columns.size() == 7);
  CHECK(d->columns[4].name == "Containers");
  CHECK(d->columns[4].priority == 1);
  const Json deploy = Json::parse(R"({"metadata":{"creationTimestamp":"2023-11-14T22:12:20Z"},
    "spec":{"selector":{"matchLabels":{"app":"web"},"matchExpressions":[{"key":"env","operator":"NotIn",
    "values":["qa","dev"]},{"key":"canary","operator":"DoesNotExist"}]},
    "template":{"spec":{"containers":[{"name":"a","image":"i:1"},{"name":"b","image":"j:2"}]}}},
    "status":{"readyReplicas":2,"updatedReplicas":3,"availableReplicas":2}})");
  CHECK(d->cells(deploy, now) ==
        Json::parse(R"j(["2/1",3,2,"60s","a,b","i:1,j:2","app=web,!canary,env notin (dev,qa)"])j"));
  const auto* s = FindBuiltinPrinter("Service");
  REQUIRE(s != nullptr);
  const Json svc = Json::parse(R"({"spec":{"type":"LoadBalancer","clusterIP":"10.0.0.1",
    "ports":[{"port":80,"nodePort":30080},{"port":53,"protocol":"UDP"}],"selector":{"b":"2","a":"1"}}})");
  const Json cells = s->cells(svc, now);
  CHECK(cells[0] == "LoadBalancer");
  CHECK(cells[1] == "10.0.0.1");
  CHECK(cells[2] == "<pending>");
  CHECK(cells[3] == "80:30080/TCP,53/UDP");
  CHECK(cells[5] == "a=1,b=2");
  CHECK(FindBuiltinPrinter("ConfigMap")->cells(Json::parse(R"({"data":{"a":"1"},"binaryData":{"b":""}})"), now)[0] ==
        2);
  CHECK(FindBuiltinPrinter("ClusterRegistration") == nullptr);  // printed from its printer columns
  CHECK(apis::LabelSelectorString(Json::parse(R"({"matchExpressions":[{"key":"k","operator":"Exists"}]})")) == "k");
  CHECK(apis::LabelSelectorString(Json()).empty());
}

TEST_CASE("built-in printers of the workload kinds: kube's cells from undefaulted objects") {
  const auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000));
  auto cells = [&](const char* kind, const char* obj) {
    const auto* p = FindBuiltinPrinter(kind);
    REQUIRE(p != nullptr);
    Json row = p->cells(Json::parse(obj), now);
    CHECK(row.size() == p->columns.size());
    return row;
  };
  CHECK(cells("StatefulSet", R"({"status":{"readyReplicas":0}})")[0] == "0/1");  // replicas default 1
  const Json job = cells("Job", R"({"spec":{"completions":3},"status":{"succeeded":2,
    "startTime":"2023-11-14T22:00:00Z","completionTime":"2023-11-14T22:02:30Z",
    "conditions":[{"type":"Complete","status":"True"}]}})");
  CHECK(job[0] == "Complete");
  CHECK(job[1] == "2/3");
  CHECK(job[2] == "2m30s");
  CHECK(cells("Job", R"({"spec":{"parallelism":4},"status":{}})")[1] == "0/1 of 4");
  const Json running = cells("Job", R"({"spec":{},"status":{"startTime":"2023-11-14T22:12:00Z"}})");
  CHECK(running[0] == "Running");
  CHECK(running[1] == "0/1");
  CHECK(running[2] == "80s");
  CHECK(cells("Job", R"({"metadata":{"deletionTimestamp":"2023-11-14T22:12:00Z"}})")[0] == "Terminating");
  const Json cron = cells("CronJob", R"({"spec":{"schedule":"*/5 * * * *"},
    "status":{"active":[{"name":"a"}],"lastScheduleTime":"2023-11-14T22:13:00Z"}})");
  CHECK(cron == Json::parse(R"(["*/5 * * * *","<none>","False",1,"20s","<unknown>","","","<none>"])"));
  const Json ds = cells("DaemonSet", R"({"spec":{"template":{"spec":{"nodeSelector":{"zone":"a"}}}},
    "status":{"desiredNumberScheduled":3,"numberReady":2}})");
  CHECK(ds[0] == 3);
  CHECK(ds[2] == 2);
  CHECK(ds[5] == "zone=a");
  CHECK(cells("ReplicaSet", R"({"status":{"replicas":2}})")[0] == 1);
  const Json ing = cells("Ingress", R"({"spec":{"tls":[{}],"rules":[{"host":"a"},{},{"host":"b"},{"host":"c"},
    {"host":"d"}]},"status":{"loadBalancer":{"ingress":[{"ip":"192.0.2.1"},{"hostname":"lb.example"}]}}})");
  CHECK(ing == Json::parse(R"(["<none>","a,b,c + 2 more...","192.0.2.1,lb.example","80, 443","<unknown>"])"));
  const Json pvc = cells("PersistentVolumeClaim", R"({"spec":{"volumeName":"pv-1","storageClassName":"fast"},
    "status":{"phase":"Bound","capacity":{"storage":"1Gi"},"accessModes":["ReadWriteMany","ReadWriteOnce"]}})");
  CHECK(pvc == Json::parse(R"(["Bound","pv-1","1Gi","RWO,RWX","fast","<unset>","<unknown>","<unset>"])"));
  CHECK(cells("PodDisruptionBudget", R"({"spec":{"minAvailable":"50%"},"status":{"disruptionsAllowed":1}})") ==
        Json::parse(R"(["50%","N/A",1,"<unknown>"])"));
  CHECK(cells("NetworkPolicy", R"({"spec":{"podSelector":{}}})")[0] == "<none>");
}

}  // namespace
}  // namespace tmcd::api
