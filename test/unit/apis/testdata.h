#pragma once
// Canonical example objects shared by the apis tests (fields in Reflect() order, so the encoder
// reproduces them byte for byte).

#include <string_view>

namespace tmcd::apis::testdata {

inline constexpr std::string_view kClusterRegistration =
    R"({"apiVersion":"tmc.kcp.io/v1alpha1",)"
    R"("kind":"ClusterRegistration","metadata":{"name":"us-west-2a","uid":"u-1","resourceVersion":"42","generation":3,)"
    R"("creationTimestamp":"2026-11-27T10:00:00Z","labels":{"env":"prod","provider":"aws"},)"
    R"("annotations":{"note":"x"},"finalizers":["tmc.kcp.io/cleanup"]},)"
    R"("spec":{"location":"us-west-2","zone":"us-west-2a","provider":"aws",)"
    R"("endpoint":{"server":"https://10.1.2.3:6443","tlsServerName":"api.example.com"},)"
    R"("credentialsRef":{"namespace":"tmc-system","name":"us-west-2a"},"unschedulable":true,)"
    R"("taints":[{"key":"maintenance","value":"true","effect":"NoSchedule"}],)"
    R"("capacity":{"cpu":"64","memory":"256Gi","pods":"1100"},)"
    R"("syncedResources":[{"group":"apps","resource":"deployments"}],)"
    R"("healthCheck":{"periodSeconds":10,"failureThreshold":3,"timeoutSeconds":5}},)"
    R"("status":{"observedGeneration":3,"clusterID":"c0ffee","kubernetesVersion":"v1.35.4",)"
    R"("lastHeartbeatTime":"2026-11-27T10:00:00Z","capacity":{"cpu":"64"},"allocatable":{"cpu":"60"},)"
    R"("available":{"cpu":"41"},"syncedResources":[{"group":"apps","resource":"deployments","versions":["v1"],)"
    R"("state":"Accepted"}],"conditions":[{"type":"Ready","status":"True","observedGeneration":3,)"
    R"("lastTransitionTime":"2026-11-27T10:00:00Z","reason":"Healthy","message":""}]}})";

inline constexpr std::string_view kWorkloadPlacement =
    R"({"apiVersion":"tmc.kcp.io/v1alpha1",)"
    R"("kind":"WorkloadPlacement","metadata":{"name":"web","namespace":"shop"},)"
    R"("spec":{"workloadSelector":{"resources":[{"group":"apps","resource":"deployments"}],)"
    R"("labelSelector":{"matchLabels":{"app":"web"}}},)"
    R"("clusterSelector":{"locations":["us-west-2","eu-central-1"],)"
    R"("labelSelector":{"matchExpressions":[{"key":"env","operator":"In","values":["prod"]}]},)"
    R"("excludeClusters":["old-1"]},"numberOfClusters":2,"strategy":"Spread",)"
    R"("replicaScheduling":{"type":"Divided","weighting":"Static","weights":[{"clusterNames":["us-west-2a"],)"
    R"("weight":2},{"labelSelector":{"matchLabels":{"env":"prod"}},"weight":1}]},)"
    R"("spreadConstraints":[{"topologyKey":"location","maxSkew":1,"minGroups":2}],)"
    R"("tolerations":[{"key":"maintenance","operator":"Exists","effect":"NoSchedule"}],)"
    R"("scoring":[{"plugin":"Capacity","weight":3},{"plugin":"Balance","weight":1},{"plugin":"Steady","weight":-2}],)"
    R"("deletionPolicy":"Delete","overrides":[{"clusterSelector":{"locations":["eu-central-1"]},)"
    R"("image":{"registry":"registry.eu.example.com"},"jsonPatch":[{"op":"replace",)"
    R"("path":"/spec/template/spec/containers/0/env/0/value","value":"eu"},{"op":"remove","path":"/spec/x"}]}]},)"
    R"("status":{"observedGeneration":4,"decisionGeneration":7,"lastScheduleTime":"2026-11-27T10:00:00Z",)"
    R"("selectedWorkloads":3,"decisions":[{"clusterName":"us-west-2a","location":"us-west-2","replicas":4,)"
    R"("score":87,"reason":"Capacity=91 Balance=80"},{"clusterName":"eu-central-1b","location":"eu-central-1",)"
    R"("replicas":0,"score":80}],"conditions":[{"type":"Scheduled","status":"False","lastTransitionTime":)"
    R"("2026-11-27T10:00:00Z","reason":"InsufficientClusters","message":"2 wanted, 1 feasible"}]}})";

}  // namespace tmcd::apis::testdata
