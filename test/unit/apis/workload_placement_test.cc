#include <doctest/doctest.h>

#include "apis/tmc/v1alpha1/register.h"
#include "testdata.h"

namespace tmcd::apis::v1alpha1 {
namespace {

const nlohmann::json kBase = nlohmann::json::parse(
    R"({"apiVersion":"tmc.kcp.io/v1alpha1","kind":"WorkloadPlacement","metadata":{"name":"web","namespace":"shop"},)"
    R"("spec":{"workloadSelector":{"labelSelector":{"matchLabels":{"app":"web"}}}}})");

Result<WorkloadPlacement> WithPatch(const std::string& merge_patch) {
  nlohmann::json doc = kBase;
  doc.merge_patch(nlohmann::json::parse(merge_patch));
  return DecodeObject<WorkloadPlacement>(doc.dump());
}

TEST_CASE("defaults: resources, strategy, replica scheduling, deletion policy, nested items") {
  auto p = WithPatch(R"({"spec":{"spreadConstraints":[{"topologyKey":"zone"}],"tolerations":[{"key":"k"}]}})");
  REQUIRE(p.ok());
  CHECK(p->spec.workload_selector.resources == std::vector<GroupResource>{{"apps", "deployments"}});
  CHECK(p->spec.strategy == "Spread");
  CHECK(p->spec.replica_scheduling.type == "Duplicated");
  CHECK(p->spec.replica_scheduling.weighting.empty());
  CHECK(p->spec.deletion_policy == "Delete");
  CHECK(p->spec.spread_constraints[0].max_skew == 1);
  CHECK(p->spec.tolerations[0].op == "Equal");
  CHECK_FALSE(p->spec.number_of_clusters.has_value());
  CHECK(DecodeObject<WorkloadPlacement>(testdata::kWorkloadPlacement).ok());
}

TEST_CASE("every WorkloadPlacement rule, valid and invalid") {
  struct Row {
    std::string patch;
    std::string want;
  };
  const std::vector<Row> rows = {
      {R"({"spec":{"workloadSelector":{"labelSelector":{}}}})", ""},
      {R"({"spec":{"numberOfClusters":3,"strategy":"Binpack"}})", ""},
      {R"({"spec":{"replicaScheduling":{"type":"Divided","weighting":"Dynamic","minReplicasPerCluster":1}}})", ""},
      {R"({"spec":{"tolerations":[{"operator":"Exists"}]}})", ""},
      {R"({"spec":{"spreadConstraints":[{"topologyKey":"label:example.com/rack","maxSkew":2}]}})", ""},
      {R"({"spec":{"overrides":[{"jsonPatch":[{"op":"move","from":"/a","path":"/b"},{"op":"test","path":"/c","value":null}]}]}})",
       ""},
      {R"({"metadata":{"name":"Web"}})", "metadata.name: Invalid value: \"Web\""},
      {R"({"spec":{"workloadSelector":{"labelSelector":null}}})",
       "spec.workloadSelector.labelSelector: Required value"},
      {R"({"spec":{"workloadSelector":{"labelSelector":{"matchExpressions":[{"key":"a","operator":"In"}]}}}})",
       "spec.workloadSelector.labelSelector.matchExpressions[0].values: Required value"},
      {R"({"spec":{"workloadSelector":{"labelSelector":{"matchExpressions":[{"key":"a","operator":"Like","values":["x"]}]}}}})",
       "matchExpressions[0].operator: Unsupported value: \"Like\""},
      {R"({"spec":{"workloadSelector":{"resources":[{"resource":"Deployments"}]}}})",
       "spec.workloadSelector.resources[0].resource: Invalid value: \"Deployments\""},
      {R"({"spec":{"clusterSelector":{"locations":["US"]}}})",
       "spec.clusterSelector.locations[0]: Invalid value: \"US\""},
      {R"({"spec":{"clusterSelector":{"clusterNames":["a"],"excludeClusters":["a"]}}})",
       "spec.clusterSelector.excludeClusters[0]: Invalid value: \"a\": is also listed in clusterNames"},
      {R"({"spec":{"clusterSelector":{"labelSelector":{"matchLabels":{"k":"bad value"}}}}})",
       "spec.clusterSelector.labelSelector.matchLabels[k]: Invalid value"},
      {R"({"spec":{"numberOfClusters":0}})",
       "spec.numberOfClusters: Invalid value: 0: must be greater than or equal to 1"},
      {R"({"spec":{"strategy":"Random"}})", "spec.strategy: Unsupported value: \"Random\""},
      {R"({"spec":{"replicaScheduling":{"type":"Split"}}})", "spec.replicaScheduling.type: Unsupported value"},
      {R"({"spec":{"replicaScheduling":{"weighting":"Static"}}})",
       "spec.replicaScheduling.weighting: Forbidden: only for type Divided"},
      {R"({"spec":{"replicaScheduling":{"type":"Divided","weighting":"Dynamic","weights":[{"clusterNames":["a"],"weight":1}]}}})",
       "spec.replicaScheduling.weights: Forbidden: only with weighting Static"},
      {R"({"spec":{"replicaScheduling":{"type":"Divided","weights":[{"weight":1}]}}})",
       "spec.replicaScheduling.weights[0]: Invalid value: exactly one of clusterNames or labelSelector"},
      {R"({"spec":{"replicaScheduling":{"type":"Divided","weights":[{"clusterNames":["a"],"weight":1001}]}}})",
       "spec.replicaScheduling.weights[0].weight: Invalid value: 1001"},
      {R"({"spec":{"replicaScheduling":{"type":"Divided","minReplicasPerCluster":-1}}})",
       "spec.replicaScheduling.minReplicasPerCluster: Invalid value: -1"},
      {R"({"spec":{"spreadConstraints":[{"topologyKey":"rack"}]}})",
       "spec.spreadConstraints[0].topologyKey: Invalid value: \"rack\""},
      {R"({"spec":{"spreadConstraints":[{"topologyKey":"label:bad key"}]}})",
       "topologyKey: Invalid value: \"label:bad key\": label key"},
      {R"({"spec":{"spreadConstraints":[{"topologyKey":"zone"},{"topologyKey":"zone"}]}})",
       "spec.spreadConstraints[1]: Duplicate value: \"zone\""},
      {R"({"spec":{"spreadConstraints":[{"topologyKey":"zone","maxSkew":-1}]}})",
       "spec.spreadConstraints[0].maxSkew: Invalid value: -1"},
      {R"({"spec":{"tolerations":[{"key":"k","operator":"Exists","value":"v"}]}})",
       "spec.tolerations[0].value: Invalid value: \"v\": value must be empty when operator is Exists"},
      {R"({"spec":{"tolerations":[{"value":"v"}]}})",
       "spec.tolerations[0].operator: Invalid value: \"Equal\": operator must be Exists when key is empty"},
      {R"({"spec":{"tolerations":[{"key":"k","effect":"Always"}]}})", "spec.tolerations[0].effect: Unsupported value"},
      {R"({"spec":{"scoring":[{"plugin":"Capacity","weight":11}]}})",
       "spec.scoring[0].weight: Invalid value: 11: must be less than or equal to 10"},
      {R"({"spec":{"scoring":[{"plugin":"Capacity","weight":-11}]}})", "spec.scoring[0].weight: Invalid value: -11"},
      {R"({"spec":{"scoring":[{"plugin":"Luck","weight":1}]}})", "spec.scoring[0].plugin: Unsupported value: \"Luck\""},
      {R"({"spec":{"scoring":[{"plugin":"Steady"},{"plugin":"Steady"}]}})",
       "spec.scoring[1]: Duplicate value: \"Steady\""},
      {R"({"spec":{"deletionPolicy":"Keep"}})", "spec.deletionPolicy: Unsupported value: \"Keep\""},
      {R"({"spec":{"overrides":[{"jsonPatch":[{"op":"frobnicate","path":"/a"}]}]}})",
       "spec.overrides[0].jsonPatch[0].op: Unsupported value: \"frobnicate\""},
      {R"({"spec":{"overrides":[{"jsonPatch":[{"op":"add","path":"a"}]}]}})",
       "spec.overrides[0].jsonPatch[0].path: Invalid value: \"a\": must be a JSON Pointer"},
      {R"({"spec":{"overrides":[{"jsonPatch":[{"op":"add","path":"/a~2"}]}]}})", "jsonPatch[0].path: Invalid value"},
      {R"({"spec":{"overrides":[{"jsonPatch":[{"op":"remove","path":""}]}]}})", "jsonPatch[0].path: Required value"},
      {R"({"spec":{"overrides":[{"jsonPatch":[{"op":"add","path":"/a"}]}]}})",
       "spec.overrides[0].jsonPatch[0].value: Required value: for op add"},
      {R"({"spec":{"overrides":[{"jsonPatch":[{"op":"copy","path":"/a"}]}]}})",
       "spec.overrides[0].jsonPatch[0].from: Required value: for op copy"},
      {R"({"spec":{"overrides":[{"jsonPatch":[{"op":"remove","path":"/a","value":1}]}]}})",
       "spec.overrides[0].jsonPatch[0].value: Forbidden: not used by op remove"},
      {R"({"spec":{"overrides":[{"jsonPatch":[{"op":"remove","path":"/a","from":"/b"}]}]}})",
       "spec.overrides[0].jsonPatch[0].from: Forbidden: only for op move and copy"},
      {R"({"spec":{"overrides":[{"image":{}}]}})", "spec.overrides[0].image.registry: Required value"},
      {R"({"spec":{"overrides":[{"replicas":2,"labels":{"set":{"example.com/tier":"edge"},"remove":["old"]},
          "annotations":{"set":{"note":"free text, spaces and all"}},
          "containers":[{"name":"app","env":[{"name":"MODE","value":"edge"}],"removeEnv":["DEBUG"],"appendArgs":["-v"]},
                        {"args":["--all"]}]}]}})",
       ""},
      {R"({"spec":{"replicaScheduling":{"type":"Divided","minReplicasPerCluster":2,"maxReplicasPerCluster":2}}})", ""},
      {R"({"spec":{"replicaScheduling":{"type":"Divided","minReplicasPerCluster":3,"maxReplicasPerCluster":2}}})",
       "spec.replicaScheduling.maxReplicasPerCluster: Invalid value: 2: must not be below minReplicasPerCluster "
       "(3)"},
      {R"({"spec":{"replicaScheduling":{"maxReplicasPerCluster":2}}})",
       "spec.replicaScheduling.maxReplicasPerCluster: Forbidden: only for type Divided"},
      {R"({"spec":{"replicaScheduling":{"type":"Divided","maxReplicasPerCluster":0}}})",
       "spec.replicaScheduling.maxReplicasPerCluster: Invalid value: 0"},
      {R"({"spec":{"overrides":[{"clusterSelector":{"locations":["eu"]}}]}})",
       "spec.overrides[0]: Required value: one of image, replicas, labels, annotations, containers or jsonPatch"},
      {R"({"spec":{"overrides":[{"replicas":-1}]}})", "spec.overrides[0].replicas: Invalid value: -1"},
      {R"({"spec":{"overrides":[{"labels":{"set":{"tier":"bad value"}}}]}})",
       "spec.overrides[0].labels.set[tier]: Invalid value: \"bad value\""},
      {R"({"spec":{"overrides":[{"labels":{"set":{"-x":"a"}}}]}})", "spec.overrides[0].labels.set[-x]: Invalid value"},
      {R"({"spec":{"overrides":[{"labels":{"remove":["tmc.kcp.io/managed-by"]}}]}})",
       "spec.overrides[0].labels.remove[0]: Forbidden: keys under tmc.kcp.io/ are tmcd's marks on the copy"},
      {R"({"spec":{"overrides":[{"annotations":{"set":{"state.tmc.kcp.io/x":"1"}}}]}})",
       "spec.overrides[0].annotations.set[state.tmc.kcp.io/x]: Forbidden"},
      {R"({"spec":{"overrides":[{"annotations":{"set":{"a":"1"},"remove":["a"]}}]}})",
       "spec.overrides[0].annotations.remove[0]: Invalid value: \"a\": is also set"},
      {R"({"spec":{"overrides":[{"containers":[{"name":"app"}]}]}})",
       "spec.overrides[0].containers[0]: Required value: one of env, removeEnv, args or appendArgs"},
      {R"({"spec":{"overrides":[{"containers":[{"name":"App","args":["x"]}]}]}})",
       "spec.overrides[0].containers[0].name: Invalid value: \"App\""},
      {R"({"spec":{"overrides":[{"containers":[{"args":["x"]},{"args":["y"]}]}]}})",
       "spec.overrides[0].containers[1]: Duplicate value: \"\""},
      {R"({"spec":{"overrides":[{"containers":[{"env":[{"name":"A=B","value":"x"}]}]}]}})",
       "spec.overrides[0].containers[0].env[0].name: Invalid value: \"A=B\""},
      {R"({"spec":{"overrides":[{"containers":[{"env":[{"name":"A"},{"name":"A"}]}]}]}})",
       "spec.overrides[0].containers[0].env[1]: Duplicate value"},
      {R"({"spec":{"overrides":[{"containers":[{"env":[{"name":"A"}],"removeEnv":["A"]}]}]}})",
       "spec.overrides[0].containers[0].removeEnv[0]: Invalid value: \"A\": is also set in env"},
      {R"({"status":{"decisions":[{"clusterName":"a"},{"clusterName":"a"}]}})",
       "status.decisions[1]: Duplicate value: \"a\""},
      {R"({"status":{"decisions":[{"location":"x"}]}})", "status.decisions[0].clusterName: Required value"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.patch);
    auto p = WithPatch(r.patch);
    if (r.want.empty()) {
      CHECK_MESSAGE(p.ok(), p.status().message());
    } else {
      REQUIRE_FALSE(p.ok());
      CHECK(p.status().reason() == Reason::kInvalid);
      CHECK_MESSAGE(p.status().message().find(r.want) != std::string::npos, p.status().message());
    }
  }
}

TEST_CASE("what the placement engine does not implement yet is named, field by field") {
  WorkloadPlacementSpec s;
  CHECK(UnimplementedFields(s).empty());
  s.strategy = "Spread";
  s.replica_scheduling.type = "Duplicated";
  s.tolerations = {Toleration{"k", "Exists", "", "NoSchedule"}};
  CHECK(UnimplementedFields(s).empty());
  s.strategy = "RoundRobin";
  CHECK(UnimplementedFields(s).empty());
  s.strategy = "LocationAware";
  s.replica_scheduling.type = "Divided";
  s.spread_constraints = {SpreadConstraint{"zone", 1, 0}};
  s.scoring = {ScoringPlugin{"Balance", 0}};
  s.overrides.emplace_back();
  auto paths = [](const std::vector<UnimplementedField>& fields) {
    std::vector<std::string> out;
    for (const auto& f : fields) out.push_back(f.path + (f.value.empty() ? "" : "=" + f.value));
    return out;
  };
  CHECK(paths(UnimplementedFields(s)) ==
        std::vector<std::string>{"spec.strategy=LocationAware", "spec.replicaScheduling.type=Divided",
                                 "spec.spreadConstraints", "spec.scoring", "spec.overrides"});
  CHECK(UnimplementedFields(s)[0].detail == "needs the feature gate TMCAdvancedPlacement, which is off");
  // With advanced placement every field is implemented.
  CHECK(UnimplementedFields(s, true).empty());
  s.strategy = "RoundRobin";  // which has no scores
  CHECK(paths(UnimplementedFields(s, true)) == std::vector<std::string>{"spec.scoring"});
}

}  // namespace
}  // namespace tmcd::apis::v1alpha1
