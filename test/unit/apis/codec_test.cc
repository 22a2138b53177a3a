#include <doctest/doctest.h>

#include "apis/tmc/v1alpha1/register.h"
#include "testdata.h"

namespace tmcd::apis::v1alpha1 {
namespace {

template <class T>
T MustDecode(std::string_view json) {
  T obj;
  FieldErrors errs;
  REQUIRE(DecodeJson(json, obj, errs).ok());
  INFO(errs.Summary());
  REQUIRE(errs.empty());
  return obj;
}

template <class T>
FieldErrors DecodeErrors(std::string_view json) {
  T obj;
  FieldErrors errs;
  REQUIRE(DecodeJson(json, obj, errs).ok());
  return errs;
}

TEST_CASE("canonical documents round-trip byte for byte") {
  auto creg = MustDecode<ClusterRegistration>(testdata::kClusterRegistration);
  CHECK(EncodeJson(creg) == testdata::kClusterRegistration);
  CHECK(MustDecode<ClusterRegistration>(EncodeJson(creg)) == creg);
  auto wp = MustDecode<WorkloadPlacement>(testdata::kWorkloadPlacement);
  CHECK(EncodeJson(wp) == testdata::kWorkloadPlacement);
  CHECK(MustDecode<WorkloadPlacement>(EncodeJson(wp)) == wp);
  CHECK(wp.status.decisions[1].replicas == 0);  // optional zero survives (not omitted)
  CHECK(wp.spec.overrides[0].json_patch[0].value->value == "eu");
}

TEST_CASE("decoded values land in the right fields") {
  auto c = MustDecode<ClusterRegistration>(testdata::kClusterRegistration);
  CHECK(c.metadata.labels.at("provider") == "aws");
  CHECK(c.metadata.creation_timestamp.ToString() == "2026-11-27T10:00:00Z");
  CHECK(c.spec.credentials_ref->namespace_ == "tmc-system");
  CHECK(c.spec.capacity.at("memory").Compare(Quantity::Parse("256Gi").value()) == std::strong_ordering::equal);
  CHECK(c.status.conditions.at(0).reason == "Healthy");
  CHECK(c.spec.unschedulable);
}

TEST_CASE("sync records round-trip, including raw downstream status") {
  std::string_view json =
      R"({"apiVersion":"tmc.kcp.io/v1alpha1","kind":"SyncRecord","metadata":{"name":"deployments.apps.web.abc"},)"
      R"("spec":{"upstream":{"workspace":"root:org","group":"apps","version":"v1","resource":"deployments",)"
      R"("namespace":"shop","name":"web","uid":"u"},"clusterName":"c1","placementName":"web"},)"
      R"("status":{"phase":"Applied","desiredHash":"h","appliedGeneration":2,"downstreamNamespace":"tmc-abc",)"
      R"("downstreamStatus":{"conditions":[{"type":"Available"}],"replicas":3}}})";  // raw JSON: keys sorted, as Go
                                                                                     // does
  auto r = MustDecode<SyncRecord>(json);
  CHECK(EncodeJson(r) == json);
  CHECK(r.status.downstream_status.value["replicas"] == 3);
  CHECK(ValidateObject(r).ok());
}

TEST_CASE("malformed JSON is a BadRequest") {
  for (std::string_view bad : {"", "{", "{\"a\":}", "[1,2", "nul", "{\"a\":1}}", "\xff"}) {
    CAPTURE(bad);
    ClusterRegistration c;
    FieldErrors errs;
    Status s = DecodeJson(bad, c, errs);
    CHECK(s.reason() == Reason::kBadRequest);
    CHECK(s.message().find("malformed JSON") == 0);
  }
}

TEST_CASE("unknown fields are rejected at every depth, with their paths") {
  auto errs = DecodeErrors<ClusterRegistration>(
      R"({"apiVersion":"tmc.kcp.io/v1alpha1","kind":"ClusterRegistration","metadata":{"name":"a","colour":1},)"
      R"("spec":{"location":"x","endpoint":{"server":"https://a","sever":"typo"},"taints":[{"key":"k","effect":"NoSchedule","x":1}]},)"
      R"("extra":true})");
  std::vector<std::string> fields;
  for (const auto& e : errs.errors()) fields.push_back(e.field);
  CHECK(fields == std::vector<std::string>{"metadata.colour", "spec.endpoint.sever", "spec.taints[0].x", "extra"});
  Status s = errs.ToStatus("ClusterRegistration.tmc.kcp.io", "a");
  CHECK(s.reason() == Reason::kBadRequest);
  CHECK(s.message() ==
        "strict decoding error: unknown field \"metadata.colour\", unknown field \"spec.endpoint.sever\", "
        "unknown field \"spec.taints[0].x\", unknown field \"extra\"");
  CHECK(s.causes().size() == 4);
  // Field names are case-sensitive, as in the API server's strict decoder.
  CHECK(DecodeErrors<ClusterRegistration>(R"({"Spec":{}})").errors().at(0).field == "Spec");
}

TEST_CASE("wrong JSON types name the field and the expected type") {
  struct Row {
    const char* json;
    const char* message;
  };
  for (const Row& r : std::initializer_list<Row>{
           {R"({"spec":{"location":5}})", "spec.location: Invalid value: 5: must be of type string"},
           {R"({"spec":{"unschedulable":"yes"}})",
            "spec.unschedulable: Invalid value: \"yes\": must be of type boolean"},
           {R"({"spec":{"healthCheck":{"periodSeconds":"10"}}})",
            "spec.healthCheck.periodSeconds: Invalid value: \"10\": must be of type integer"},
           {R"({"spec":{"healthCheck":{"periodSeconds":1.5}}})",
            "spec.healthCheck.periodSeconds: Invalid value: 1.5: must be of type integer"},
           {R"({"spec":{"healthCheck":{"periodSeconds":3000000000}}})",
            "spec.healthCheck.periodSeconds: Invalid value: 3000000000: must fit in 32 bits"},
           {R"({"spec":{"taints":{"key":"a"}}})", "spec.taints: Invalid value: {\"key\":\"a\"}: must be of type array"},
           {R"({"spec":{"capacity":{"cpu":true}}})",
            "spec.capacity[cpu]: Invalid value: true: must be of type quantity (string or number)"},
           {R"({"spec":{"capacity":{"cpu":"lots"}}})", "spec.capacity[cpu]: Invalid value: \"lots\": quantity"},
           {R"({"metadata":{"creationTimestamp":"yesterday"}})",
            "metadata.creationTimestamp: Invalid value: \"yesterday\": time"},
           {R"({"metadata":{"labels":["a"]}})", "metadata.labels: Invalid value: [\"a\"]: must be of type object"},
           {R"([])", "<root>: Invalid value: []: must be of type object"},
       }) {
    CAPTURE(r.json);
    auto errs = DecodeErrors<ClusterRegistration>(r.json);
    REQUIRE(errs.size() == 1);
    CHECK(errs.errors()[0].Message().find(r.message) == 0);
    CHECK(errs.ToStatus("ClusterRegistration.tmc.kcp.io", "").reason() == Reason::kInvalid);
  }
}

TEST_CASE("null means absent; duplicate fields are errors; numbers work as quantities") {
  auto c = MustDecode<ClusterRegistration>(R"({"spec":{"location":null,"capacity":{"pods":1100,"cpu":0.5}}})");
  CHECK(c.spec.location.empty());
  CHECK(c.spec.capacity.at("pods").str() == "1100");
  CHECK(c.spec.capacity.at("cpu").MilliValue() == 500);
  auto errs = DecodeErrors<ClusterRegistration>(R"({"kind":"A","kind":"B"})");
  REQUIRE(errs.size() == 1);
  CHECK(errs.errors()[0].Message() == "kind: Duplicate value: duplicate field");
}

TEST_CASE("copies are deep: mutating a copy never changes the original") {
  const auto original = MustDecode<WorkloadPlacement>(testdata::kWorkloadPlacement);
  auto copy = original;
  copy.metadata.labels["new"] = "x";
  copy.spec.cluster_selector.locations.push_back("ap-south-1");
  copy.spec.workload_selector.label_selector->match_labels["app"] = "db";
  copy.spec.replica_scheduling.weights[0].cluster_names[0] = "other";
  copy.spec.overrides[0].json_patch[0].value->value = "us";
  copy.status.conditions[0].status = "True";
  copy.status.decisions.clear();
  CHECK(EncodeJson(original) == testdata::kWorkloadPlacement);
  CHECK_FALSE(copy == original);
}

}  // namespace
}  // namespace tmcd::apis::v1alpha1
