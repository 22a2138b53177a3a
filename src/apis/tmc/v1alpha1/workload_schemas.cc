#include "apis/tmc/v1alpha1/workload_schemas.h"

namespace tmcd::apis::v1alpha1 {
namespace {

OrderedJson Int(std::string_view doc) {
  return {{"description", std::string(doc)}, {"type", "integer"}, {"format", "int32"}, {"minimum", 0}};
}

OrderedJson Loose(std::string_view doc) {
  return {{"description", std::string(doc)}, {"type", "object"}, {"x-kubernetes-preserve-unknown-fields", true}};
}

OrderedJson Top(OrderedJson spec, OrderedJson status) {
  OrderedJson s = {{"type", "object"}};
  s["properties"] = {{"apiVersion", {{"type", "string"}}},
                     {"kind", {{"type", "string"}}},
                     {"metadata", {{"type", "object"}}},
                     {"spec", std::move(spec)},
                     {"status", std::move(status)}};
  return s;
}

OrderedJson Column(std::string_view name, std::string_view type, std::string_view path) {
  return {{"name", std::string(name)}, {"type", std::string(type)}, {"jsonPath", std::string(path)}};
}

OrderedJson Version(std::string_view name, OrderedJson schema, OrderedJson subresources, OrderedJson columns) {
  OrderedJson v = {{"name", std::string(name)}, {"served", true}, {"storage", true}};
  v["subresources"] = std::move(subresources);
  v["additionalPrinterColumns"] = std::move(columns);
  v["schema"] = std::move(schema);
  return v;
}

OrderedJson Names(std::string_view plural, std::string_view singular, std::string_view kind,
                  std::initializer_list<const char*> short_names) {
  OrderedJson n = {{"plural", std::string(plural)},
                   {"singular", std::string(singular)},
                   {"kind", std::string(kind)},
                   {"listKind", std::string(kind) + "List"}};
  n["shortNames"] = OrderedJson::array();
  for (const char* s : short_names) n["shortNames"].push_back(s);
  n["categories"] = OrderedJson::array({"all"});
  return n;
}

OrderedJson Deployments() {
  OrderedJson spec = Loose("The desired state (apps/v1 DeploymentSpec); the downstream cluster validates it fully.");
  spec["required"] = {"selector", "template"};
  spec["properties"] = {{"replicas", Int("Desired number of Pods (default 1).")},
                        {"selector", Loose("Label selector of the Pods (immutable downstream).")},
                        {"template", Loose("The Pod template.")},
                        {"strategy", Loose("How Pods are replaced.")},
                        {"minReadySeconds", Int("Seconds a Pod must be ready to count as available.")},
                        {"revisionHistoryLimit", Int("Old ReplicaSets kept downstream.")},
                        {"progressDeadlineSeconds", Int("Seconds before a rollout counts as failed.")},
                        {"paused", {{"type", "boolean"}}}};
  OrderedJson status = Loose("Aggregated status of the copies on the clusters (written by tmcd).");
  status["properties"] = {{"observedGeneration", {{"type", "integer"}, {"format", "int64"}}},
                          {"replicas", Int("Pods across clusters.")},
                          {"updatedReplicas", Int("Pods with the current template.")},
                          {"readyReplicas", Int("Ready Pods.")},
                          {"availableReplicas", Int("Available Pods.")},
                          {"unavailableReplicas", Int("Unavailable Pods.")},
                          {"conditions", {{"type", "array"}, {"items", Loose("A Deployment condition.")}}}};
  OrderedJson sub = {{"status", OrderedJson::object()},
                     {"scale", {{"specReplicasPath", ".spec.replicas"}, {"statusReplicasPath", ".status.replicas"}}}};
  OrderedJson cols = {Column("Ready", "integer", ".status.readyReplicas"),
                      Column("Up-to-date", "integer", ".status.updatedReplicas"),
                      Column("Available", "integer", ".status.availableReplicas"),
                      Column("Age", "date", ".metadata.creationTimestamp")};
  OrderedJson out = {{"group", "apps"}, {"names", Names("deployments", "deployment", "Deployment", {"deploy"})}};
  out["scope"] = "Namespaced";
  out["versions"] = OrderedJson::array({Version("v1", Top(spec, status), sub, cols)});
  return out;
}

OrderedJson Services() {
  OrderedJson spec = Loose("The desired state (v1 ServiceSpec); clusterIP and nodePorts are assigned downstream.");
  spec["properties"] = {{"type", {{"type", "string"}}},
                        {"selector", {{"type", "object"}, {"additionalProperties", {{"type", "string"}}}}},
                        {"ports", {{"type", "array"}, {"items", Loose("A service port.")}}}};
  OrderedJson status = Loose("Status of the copies on the clusters (load balancer ingress).");
  OrderedJson cols = {Column("Type", "string", ".spec.type"), Column("Cluster-IP", "string", ".spec.clusterIP"),
                      Column("Age", "date", ".metadata.creationTimestamp")};
  OrderedJson out = {{"group", ""}, {"names", Names("services", "service", "Service", {"svc"})}};
  out["scope"] = "Namespaced";
  out["versions"] = OrderedJson::array({Version("v1", Top(spec, status), {{"status", OrderedJson::object()}}, cols)});
  return out;
}

// A kind whose spec and status are kept as sent (the downstream kube-apiserver validates them).
struct LooseKind {
  std::string_view group, version, plural, singular, kind;
  std::initializer_list<const char*> short_names;
  bool status = true;
  bool scale = false;
};

OrderedJson Loosely(const LooseKind& k) {
  const std::string what = std::string(k.group.empty() ? "v1" : std::string(k.group) + "/" + std::string(k.version)) +
                           " " + std::string(k.kind);
  OrderedJson spec = Loose("The desired state (" + what + "Spec); the downstream cluster validates it fully.");
  OrderedJson status = Loose("Aggregated status of the copies on the clusters (written by tmcd).");
  OrderedJson sub = OrderedJson::object();
  if (k.status) sub["status"] = OrderedJson::object();
  if (k.scale) {
    sub["scale"] = {{"specReplicasPath", ".spec.replicas"}, {"statusReplicasPath", ".status.replicas"}};
  }
  OrderedJson out = {{"group", std::string(k.group)}, {"names", Names(k.plural, k.singular, k.kind, k.short_names)}};
  out["scope"] = "Namespaced";
  out["versions"] = OrderedJson::array({Version(
      k.version, Top(spec, status), sub, OrderedJson::array({Column("Age", "date", ".metadata.creationTimestamp")}))});
  return out;
}

}  // namespace

std::vector<WorkloadSchema> WorkloadSchemas() {
  std::vector<WorkloadSchema> out = {{"apps", "deployments", Deployments()}, {"", "services", Services()}};
  const LooseKind more[] = {
      {"apps", "v1", "statefulsets", "statefulset", "StatefulSet", {"sts"}, true, true},
      {"apps", "v1", "daemonsets", "daemonset", "DaemonSet", {"ds"}},
      {"apps", "v1", "replicasets", "replicaset", "ReplicaSet", {"rs"}, true, true},
      {"batch", "v1", "jobs", "job", "Job", {}},
      {"batch", "v1", "cronjobs", "cronjob", "CronJob", {"cj"}},
      {"networking.k8s.io", "v1", "ingresses", "ingress", "Ingress", {"ing"}},
      {"networking.k8s.io", "v1", "networkpolicies", "networkpolicy", "NetworkPolicy", {"netpol"}, false},
      {"", "v1", "persistentvolumeclaims", "persistentvolumeclaim", "PersistentVolumeClaim", {"pvc"}},
      {"autoscaling", "v2", "horizontalpodautoscalers", "horizontalpodautoscaler", "HorizontalPodAutoscaler", {"hpa"}},
      {"policy", "v1", "poddisruptionbudgets", "poddisruptionbudget", "PodDisruptionBudget", {"pdb"}},
  };
  for (const auto& k : more) out.push_back({k.group, k.plural, Loosely(k)});
  return out;
}

}  // namespace tmcd::apis::v1alpha1
