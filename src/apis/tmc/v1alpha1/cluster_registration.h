#pragma once
// ClusterRegistration (tmc.kcp.io/v1alpha1, cluster-scoped within a workspace, short name creg):
// a physical Kubernetes cluster that placements may choose, with its endpoint, credentials,
// scheduling constraints and observed health. See docs/api-reference.md.

#include <array>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "apis/meta/condition.h"
#include "apis/meta/field_errors.h"
#include "apis/meta/object_meta.h"
#include "apis/meta/quantity.h"
#include "apis/meta/reflect.h"
#include "apis/tmc/v1alpha1/common_types.h"

namespace tmcd::apis::v1alpha1 {

inline constexpr std::array<std::string_view, 3> kTaintEffects = {"NoSchedule", "PreferNoSchedule", "NoExecute"};
inline constexpr std::array<std::string_view, 3> kSyncedResourceStates = {"Accepted", "Incompatible", "Pending"};

// Condition types and reasons of ClusterRegistration.status.
inline constexpr std::string_view kConditionReachable = "Reachable";
inline constexpr std::string_view kConditionAuthenticated = "Authenticated";
inline constexpr std::string_view kConditionResourcesSupported = "ResourcesSupported";
inline constexpr std::string_view kConditionReady = "Ready";
// False (reason InsecureSkipTLSVerify) while spec.endpoint.insecureSkipTLSVerify is set: a standing warning.
inline constexpr std::string_view kConditionTLSVerified = "TLSVerified";

struct ClusterEndpoint {
  std::string server;
  std::string ca_bundle;  // base64 of PEM
  std::string tls_server_name;
  bool insecure_skip_tls_verify = false;
  bool operator==(const ClusterEndpoint&) const = default;
};

template <class V>
void Reflect(V& v, ClusterEndpoint& o) {
  v.Field("server", o.server,
          {.doc = "API server URL; https (http only together with insecureSkipTLSVerify, for local testing).",
           .required = true,
           .max_length = 2048});
  v.Field("caBundle", o.ca_bundle,
          {.doc = "Base64-encoded PEM CA bundle that signs the server certificate.",
           .max_length = 262144,
           .format = "byte"});
  v.Field("tlsServerName", o.tls_server_name,
          {.doc = "Server name to verify the certificate against, if not the URL host.", .max_length = 253});
  v.Field("insecureSkipTLSVerify", o.insecure_skip_tls_verify,
          {.doc = "Skip server certificate verification. Insecure; reported in status."});
  v.Rule(
      "self.server.startsWith('https://') || (self.server.startsWith('http://') && "
      "has(self.insecureSkipTLSVerify) && self.insecureSkipTLSVerify)",
      "server must be an https URL (http only with insecureSkipTLSVerify)");
  v.Rule("!(has(self.caBundle) && has(self.insecureSkipTLSVerify) && self.insecureSkipTLSVerify)",
         "caBundle and insecureSkipTLSVerify are mutually exclusive");
}

struct SecretReference {
  std::string namespace_;
  std::string name;
  bool operator==(const SecretReference&) const = default;
};

template <class V>
void Reflect(V& v, SecretReference& o) {
  v.Field("namespace", o.namespace_, {.doc = "Namespace of the Secret.", .required = true, .max_length = 63});
  v.Field("name", o.name, {.doc = "Name of the Secret.", .required = true, .max_length = 253});
}

struct Taint {
  std::string key;
  std::string value;
  std::string effect;
  Time time_added;
  bool operator==(const Taint&) const = default;
};

template <class V>
void Reflect(V& v, Taint& o) {
  v.Field("key", o.key, {.doc = "Taint key (a label key).", .required = true, .max_length = 317});
  v.Field("value", o.value, {.doc = "Taint value (a label value).", .max_length = 63});
  v.Field("effect", o.effect,
          {.doc = "NoSchedule, PreferNoSchedule or NoExecute.", .required = true, .enum_values = kTaintEffects});
  v.Field("timeAdded", o.time_added,
          {.doc = "NoExecute: when the taint was added; tolerationSeconds count from it (tmcd sets it when absent)."});
}

struct HealthCheck {
  int32_t period_seconds = 0;
  int32_t failure_threshold = 0;
  int32_t timeout_seconds = 0;
  bool operator==(const HealthCheck&) const = default;
};

template <class V>
void Reflect(V& v, HealthCheck& o) {
  v.Field("periodSeconds", o.period_seconds,
          {.doc = "Seconds between probes.", .default_json = "10", .minimum = 1, .maximum = 3600});
  v.Field("failureThreshold", o.failure_threshold,
          {.doc = "Consecutive failed probes before Ready=False.", .default_json = "3", .minimum = 1, .maximum = 100});
  v.Field("timeoutSeconds", o.timeout_seconds,
          {.doc = "Timeout of one probe.", .default_json = "5", .minimum = 1, .maximum = 300});
  v.Rule("!has(self.timeoutSeconds) || !has(self.periodSeconds) || self.timeoutSeconds <= self.periodSeconds",
         "timeoutSeconds must not exceed periodSeconds");
}

struct ClusterRegistrationSpec {
  std::string location;
  std::string zone;
  std::string provider;
  ClusterEndpoint endpoint;
  std::optional<SecretReference> credentials_ref;
  bool unschedulable = false;
  std::vector<Taint> taints;
  std::map<std::string, Quantity> capacity;
  std::vector<GroupResource> synced_resources;
  HealthCheck health_check;
  bool operator==(const ClusterRegistrationSpec&) const = default;
};

inline constexpr std::string_view kDefaultSyncedResources =
    R"([{"group":"apps","resource":"deployments"},{"group":"apps","resource":"statefulsets"},)"
    R"({"group":"apps","resource":"daemonsets"},{"group":"apps","resource":"replicasets"},)"
    R"({"group":"batch","resource":"jobs"},{"group":"batch","resource":"cronjobs"},)"
    R"({"group":"networking.k8s.io","resource":"ingresses"},{"group":"networking.k8s.io","resource":"networkpolicies"},)"
    R"({"group":"autoscaling","resource":"horizontalpodautoscalers"},)"
    R"({"group":"policy","resource":"poddisruptionbudgets"},{"resource":"persistentvolumeclaims"},)"
    R"({"resource":"services"},{"resource":"configmaps"},{"resource":"secrets"},{"resource":"serviceaccounts"}])";

template <class V>
void Reflect(V& v, ClusterRegistrationSpec& o) {
  v.Field("location", o.location,
          {.doc = "Region-like location name used by placement (e.g. us-west-2).",
           .required = true,
           .max_length = 63,
           .pattern = kDNSLabelPattern});
  v.Field("zone", o.zone, {.doc = "Zone within the location.", .max_length = 63, .pattern = kDNSLabelPattern});
  v.Field("provider", o.provider,
          {.doc = "Infrastructure provider (aws, gcp, onprem, ...).", .max_length = 63, .pattern = kDNSLabelPattern});
  v.Field("endpoint", o.endpoint, {.doc = "How to reach the cluster's API server.", .required = true});
  v.Field("credentialsRef", o.credentials_ref,
          {.doc = "Secret with key `token`, or `kubeconfig`, or `tls.crt` + `tls.key`."});
  v.Field("unschedulable", o.unschedulable, {.doc = "Cordon: no new placement decisions choose this cluster."});
  v.Field("taints", o.taints, {.doc = "Taints that placements must tolerate.", .max_items = 32});
  v.Field(
      "capacity", o.capacity,
      {.doc = "Declared capacity (cpu, memory, pods); overrides what Nodes report.", .minimum = 0, .max_items = 16});
  v.Field(
      "syncedResources", o.synced_resources,
      {.doc = "Resources tmcd may sync to this cluster.", .default_json = kDefaultSyncedResources, .max_items = 64});
  v.Field("healthCheck", o.health_check, {.doc = "Health probing.", .default_json = "{}"});
}

struct SyncedResourceStatus {
  std::string group;
  std::string resource;
  std::vector<std::string> versions;
  std::string state;
  bool operator==(const SyncedResourceStatus&) const = default;
};

template <class V>
void Reflect(V& v, SyncedResourceStatus& o) {
  v.Field("group", o.group, {.doc = "API group; empty for core.", .max_length = 253});
  v.Field("resource", o.resource, {.doc = "Plural resource name.", .required = true, .max_length = 63});
  v.Field("versions", o.versions, {.doc = "Versions the cluster serves.", .max_length = 63, .max_items = 16});
  v.Field("state", o.state, {.doc = "Accepted, Incompatible or Pending.", .enum_values = kSyncedResourceStates});
}

struct ClusterRegistrationStatus {
  int64_t observed_generation = 0;
  std::string cluster_id;
  std::string kubernetes_version;
  Time last_heartbeat_time;
  std::map<std::string, Quantity> capacity;
  std::map<std::string, Quantity> allocatable;
  std::map<std::string, Quantity> available;
  std::vector<SyncedResourceStatus> synced_resources;
  std::vector<Condition> conditions;
  bool operator==(const ClusterRegistrationStatus&) const = default;
};

template <class V>
void Reflect(V& v, ClusterRegistrationStatus& o) {
  v.Field("observedGeneration", o.observed_generation, {.doc = "Generation the status reflects.", .minimum = 0});
  v.Field("clusterID", o.cluster_id,
          {.doc = "UID of the cluster's kube-system namespace; detects a re-pointed endpoint.", .max_length = 128});
  v.Field("kubernetesVersion", o.kubernetes_version, {.doc = "Server gitVersion.", .max_length = 128});
  v.Field("lastHeartbeatTime", o.last_heartbeat_time, {.doc = "Last successful probe."});
  v.Field("capacity", o.capacity, {.doc = "Total capacity.", .max_items = 16});
  v.Field("allocatable", o.allocatable, {.doc = "Allocatable capacity.", .max_items = 16});
  v.Field(
      "available", o.available,
      {.doc =
           "Allocatable minus the requests of non-terminated pods (tmcd's own reservations are applied per placement).",
       .max_items = 16});
  v.Field("syncedResources", o.synced_resources, {.doc = "Per-resource support.", .max_items = 64});
  v.Field("conditions", o.conditions,
          {.doc = "Reachable, Authenticated, ResourcesSupported, Ready.", .max_items = 16, .list_map_key = "type"});
}

struct ClusterRegistration {
  std::string api_version;
  std::string kind;
  ObjectMeta metadata;
  ClusterRegistrationSpec spec;
  ClusterRegistrationStatus status;
  bool operator==(const ClusterRegistration&) const = default;
};

template <class V>
void Reflect(V& v, ClusterRegistration& o) {
  v.Field("apiVersion", o.api_version, {.doc = "tmc.kcp.io/v1alpha1"});
  v.Field("kind", o.kind, {.doc = "ClusterRegistration"});
  v.Field("metadata", o.metadata);
  v.Field("spec", o.spec, {.required = true});
  v.Field("status", o.status);
}

void CheckRules(const ClusterEndpoint& e, const std::string& path, FieldErrors& errs);
void CheckRules(const SecretReference& r, const std::string& path, FieldErrors& errs);
void CheckRules(const Taint& t, const std::string& path, FieldErrors& errs);
void CheckRules(const HealthCheck& h, const std::string& path, FieldErrors& errs);
void CheckRules(const ClusterRegistrationSpec& s, const std::string& path, FieldErrors& errs);
void CheckRules(const ClusterRegistrationStatus& s, const std::string& path, FieldErrors& errs);
void CheckRules(const ClusterRegistration& c, const std::string& path, FieldErrors& errs);

}  // namespace tmcd::apis::v1alpha1
