// Status aggregation (ARCHITECTURE.md §6): minimum across Duplicated copies, sum across Divided
// ones, observedGeneration only when every copy is current, conditions combined per type.
#include "sync/status.h"

#include <doctest/doctest.h>

namespace tmcd::sync {
namespace {

CopyStatus Copy(const std::string& cluster, const char* status, bool current = true) {
  return {cluster, Json::parse(status), current, "Applied", ""};
}

TEST_CASE("Duplicated: each count is the minimum; Divided: the sum") {
  const std::vector<CopyStatus> copies = {
      Copy("a", R"({"replicas": 3, "readyReplicas": 3, "availableReplicas": 3, "updatedReplicas": 3})"),
      Copy("b", R"({"replicas": 3, "readyReplicas": 1, "availableReplicas": 1, "updatedReplicas": 2,
                   "unavailableReplicas": 2})")};
  Json dup = AggregateStatus(copies, 4, false, Json::object(), "T");
  CHECK(dup["replicas"] == 3);
  CHECK(dup["readyReplicas"] == 1);
  CHECK(dup["availableReplicas"] == 1);
  CHECK(dup["updatedReplicas"] == 2);
  CHECK(dup["unavailableReplicas"] == 2);
  CHECK(dup["observedGeneration"] == 4);
  Json div = AggregateStatus(copies, 4, true, Json::object(), "T");
  CHECK(div["replicas"] == 6);
  CHECK(div["readyReplicas"] == 4);
  CHECK(div["unavailableReplicas"] == 2);
}

TEST_CASE("observedGeneration waits for every copy") {
  const std::vector<CopyStatus> copies = {Copy("a", R"({"replicas": 1})"), Copy("b", R"({"replicas": 1})", false)};
  CHECK(AggregateStatus(copies, 5, false, Json{{"observedGeneration", 4}}, "T")["observedGeneration"] == 4);
  CHECK(!AggregateStatus(copies, 5, false, Json::object(), "T").contains("observedGeneration"));
  CHECK(AggregateStatus({}, 5, false, Json::object(), "T") == Json::object());
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
  Json st = AggregateStatus(copies, 1, false, previous, "NOW");
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
  CHECK(!CopyAvailable(copies[1].status));
  CHECK(CopyAvailable(copies[0].status));
}

TEST_CASE("the cluster-status annotation has every cluster's counts and errors") {
  std::vector<CopyStatus> copies = {Copy("a", R"({"replicas": 2, "readyReplicas": 1})")};
  copies.push_back({"b", Json::object(), false, "Failed", "NamespaceCollision: ..."});
  const Json a = Json::parse(ClusterStatusAnnotation(copies));
  CHECK(a["a"]["replicas"] == 2);
  CHECK(a["a"]["readyReplicas"] == 1);
  CHECK(a["a"]["current"] == true);
  CHECK(a["b"]["phase"] == "Failed");
  CHECK(a["b"]["error"] == "NamespaceCollision: ...");
}

}  // namespace
}  // namespace tmcd::sync
