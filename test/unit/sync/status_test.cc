// Status aggregation by the kind's rules (docs/status.md): minimum across Duplicated copies, sum
// across Divided ones, observedGeneration only when every copy is current, conditions combined per
// type; the per-kind rules of Jobs, DaemonSets, Services, PVCs and generic kinds.
#include "sync/status.h"

#include <doctest/doctest.h>

namespace tmcd::sync {
namespace {

CopyStatus Copy(const std::string& cluster, const char* status, bool current = true) {
  return {cluster, Json::parse(status), current, "Applied", "", false};
}

const KindRules& Rules(const char* group, const char* resource) {
  const KindRules* r = BuiltinRules(group, resource);
  REQUIRE(r != nullptr);
  return *r;
}

const KindRules& Deploy() {
  return Rules("apps", "deployments");
}

TEST_CASE("Duplicated: each count is the minimum; Divided: the sum") {
  const std::vector<CopyStatus> copies = {
      Copy("a", R"({"replicas": 3, "readyReplicas": 3, "availableReplicas": 3, "updatedReplicas": 3})"),
      Copy("b", R"({"replicas": 3, "readyReplicas": 1, "availableReplicas": 1, "updatedReplicas": 2,
                   "unavailableReplicas": 2})")};
  Json dup = AggregateStatus(Deploy(), copies, 4, false, Json::object(), "T");
  CHECK(dup["replicas"] == 3);
  CHECK(dup["readyReplicas"] == 1);
  CHECK(dup["availableReplicas"] == 1);
  CHECK(dup["updatedReplicas"] == 2);
  CHECK(dup["unavailableReplicas"] == 2);
  CHECK(dup["observedGeneration"] == 4);
  Json div = AggregateStatus(Deploy(), copies, 4, true, Json::object(), "T");
  CHECK(div["replicas"] == 6);
  CHECK(div["readyReplicas"] == 4);
  CHECK(div["unavailableReplicas"] == 2);
}

TEST_CASE("observedGeneration waits for every copy") {
  const std::vector<CopyStatus> copies = {Copy("a", R"({"replicas": 1})"), Copy("b", R"({"replicas": 1})", false)};
  CHECK(AggregateStatus(Deploy(), copies, 5, false, Json{{"observedGeneration", 4}}, "T")["observedGeneration"] == 4);
  CHECK(!AggregateStatus(Deploy(), copies, 5, false, Json::object(), "T").contains("observedGeneration"));
  CHECK(AggregateStatus(Deploy(), {}, 5, false, Json::object(), "T") == Json::object());
}

TEST_CASE("conditions: True only everywhere, False wins, the culprit is named, transitions kept") {
  const std::vector<CopyStatus> copies = {
      Copy("a", R"({"conditions": [{"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"},
                                   {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"}]})"),
      Copy("b", R"({"conditions": [{"type": "Available", "status": "False", "reason": "MinimumReplicasUnavailable",
                                    "message": "needs 2"}]})"),
      Copy("c", R"({"conditions": [{"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"}]})")};
  const Json previous = Json::parse(R"({"conditions": [
      {"type": "Available", "status": "False", "lastTransitionTime": "EARLIER"},
      {"type": "Progressing", "status": "False", "lastTransitionTime": "EARLIER"}]})");
  Json st = AggregateStatus(Deploy(), copies, 1, false, previous, "NOW");
  REQUIRE(st["conditions"].size() == 2);
  const Json& available = st["conditions"][0];
  CHECK(available["type"] == "Available");
  CHECK(available["status"] == "False");
  CHECK(available["reason"] == "MinimumReplicasUnavailable");
  CHECK(available["message"] == "b: needs 2");
  CHECK(available["lastTransitionTime"] == "EARLIER");  // unchanged status keeps its transition time
  const Json& progressing = st["conditions"][1];
  CHECK(progressing["status"] == "Unknown");  // b does not report it
  CHECK(progressing["message"] == "b: condition not reported yet");
  CHECK(progressing["lastTransitionTime"] == "NOW");
  CHECK(!Healthy(Deploy(), {{"status", copies[1].status}}, nullptr));
  CHECK(Healthy(Deploy(), {{"status", copies[0].status}}, nullptr));
  // Clusters list their conditions in any order (the Deployment controller's order depends on timing);
  // the aggregate lists them by type, so the same facts never read as a change.
  const std::vector<CopyStatus> reordered = {copies[2], copies[1], copies[0]};
  CHECK(AggregateStatus(Deploy(), reordered, 1, false, previous, "NOW")["conditions"] == st["conditions"]);
}

TEST_CASE("the cluster-status annotation has every cluster's counts and errors") {
  std::vector<CopyStatus> copies = {Copy("a", R"({"replicas": 2, "readyReplicas": 1})")};
  copies.push_back({"b", Json::object(), false, "Failed", "NamespaceCollision: ...", false});
  const Json a = Json::parse(ClusterStatusAnnotation(Deploy(), copies));
  CHECK(a["a"]["replicas"] == 2);
  CHECK(a["a"]["readyReplicas"] == 1);
  CHECK(a["a"]["current"] == true);
  CHECK(a["b"]["phase"] == "Failed");
  CHECK(a["b"]["error"] == "NamespaceCollision: ...");
  CHECK(a["b"]["availableReplicas"] == 0);  // counters a cluster does not report read 0
}

TEST_CASE("Jobs: counters as Duplicated replicas, Complete only when every copy completed, Failed when any failed") {
  const KindRules& job = Rules("batch", "jobs");
  std::vector<CopyStatus> copies = {
      Copy("a", R"({"succeeded": 2, "startTime": "2026-01-01T00:00:05Z", "completionTime": "2026-01-01T00:01:00Z",
                   "conditions": [{"type": "Complete", "status": "True"}]})"),
      Copy("b", R"({"active": 1, "startTime": "2026-01-01T00:00:03Z"})")};
  Json st = AggregateStatus(job, copies, 1, false, Json::object(), "T");
  CHECK(!st.contains("succeeded"));  // b has none yet: the minimum is 0, omitted
  CHECK(!st.contains("active"));
  CHECK(AggregateStatus(job, copies, 1, true, Json::object(), "T")["succeeded"] == 2);  // Divided: the sum
  CHECK(st["startTime"] == "2026-01-01T00:00:03Z");                                     // the earliest
  CHECK(!st.contains("completionTime"));                                                // b has not completed
  CHECK(!st.contains("observedGeneration"));                                            // Jobs do not report one
  REQUIRE(st["conditions"].size() == 1);
  CHECK(st["conditions"][0]["status"] == "Unknown");
  CHECK(st["conditions"][0]["message"] == "b: condition not reported yet");
  copies[1].status = Json::parse(R"({"succeeded": 2, "completionTime": "2026-01-01T00:02:00Z",
                                     "conditions": [{"type": "Complete", "status": "True"}]})");
  st = AggregateStatus(job, copies, 1, false, Json::object(), "T");
  CHECK(st["succeeded"] == 2);                            // 2 on each cluster
  CHECK(st["completionTime"] == "2026-01-01T00:02:00Z");  // the latest, now that both have one
  CHECK(st["conditions"][0]["status"] == "True");
  copies[0].status = Json::parse(R"({"failed": 1, "conditions": [{"type": "Failed", "status": "True",
                                     "reason": "BackoffLimitExceeded", "message": "too many"}]})");
  st = AggregateStatus(job, copies, 1, false, Json::object(), "T");
  const Json& failed = st["conditions"][1];  // listed by type: Complete, then Failed
  CHECK(failed["type"] == "Failed");
  CHECK(failed["status"] == "True");  // one failed copy fails the Job
  CHECK(failed["reason"] == "BackoffLimitExceeded");
  CHECK(failed["message"] == "a: too many");
  CHECK(st["failed"] == 1);  // the worst cluster
  CHECK(st["conditions"][0]["type"] == "Complete");
  CHECK(st["conditions"][0]["status"] == "Unknown");
}

TEST_CASE("DaemonSets sum their Pods; Services and Ingresses unite their load-balancer ingress") {
  const std::vector<CopyStatus> ds = {Copy("a", R"({"desiredNumberScheduled": 3, "numberReady": 3})"),
                                      Copy("b", R"({"desiredNumberScheduled": 2, "numberReady": 1})")};
  const Json st = AggregateStatus(Rules("apps", "daemonsets"), ds, 2, false, Json::object(), "T");
  CHECK(st["desiredNumberScheduled"] == 5);
  CHECK(st["numberReady"] == 4);
  CHECK(st["observedGeneration"] == 2);
  const std::vector<CopyStatus> svc = {
      Copy("a", R"({"loadBalancer": {"ingress": [{"ip": "192.0.2.1"}]}})"),
      Copy("b", R"({"loadBalancer": {"ingress": [{"ip": "192.0.2.2"}, {"ip": "192.0.2.1"}]}})"), Copy("c", "{}")};
  for (const char* r : {"services", "ingresses"}) {
    const KindRules& rules = std::string(r) == "services" ? Rules("", r) : Rules("networking.k8s.io", r);
    const Json lb = AggregateStatus(rules, svc, 1, false, Json::object(), "T");
    CHECK(lb["loadBalancer"]["ingress"] == Json::parse(R"([{"ip": "192.0.2.1"}, {"ip": "192.0.2.2"}])"));
    const Json per = Json::parse(ClusterStatusAnnotation(rules, svc));
    CHECK(per["b"]["loadBalancer"]["ingress"].size() == 2);
    CHECK(!per["c"].contains("loadBalancer"));
  }
}

TEST_CASE("PVC phase is set only when every cluster agrees; generic kinds combine conditions") {
  const KindRules& pvc = Rules("", "persistentvolumeclaims");
  std::vector<CopyStatus> copies = {Copy("a", R"({"phase": "Bound"})"), Copy("b", R"({"phase": "Pending"})")};
  CHECK(!AggregateStatus(pvc, copies, 1, false, Json::object(), "T").contains("phase"));
  copies[1].status["phase"] = "Bound";
  CHECK(AggregateStatus(pvc, copies, 1, false, Json::object(), "T")["phase"] == "Bound");
  const KindRules generic = GenericRules("example.com", "v1", "widgets", "Widget");
  copies = {Copy("a", R"({"observedGeneration": 3, "conditions": [{"type": "Ready", "status": "True"}]})"),
            Copy("b", R"({"observedGeneration": 3, "conditions": [{"type": "Ready", "status": "True"}]})")};
  const Json st = AggregateStatus(generic, copies, 3, false, Json::object(), "T");
  CHECK(st["observedGeneration"] == 3);  // reported by the copies
  CHECK(st["conditions"][0]["status"] == "True");
  CHECK(st["conditions"][0]["message"] == "Ready on all 2 clusters");
  CHECK(!AggregateStatus(generic, {Copy("a", "{}")}, 3, false, Json::object(), "T").contains("observedGeneration"));
}

}  // namespace
}  // namespace tmcd::sync
