#include "registry/resources.h"

#include <algorithm>

#include "apis/meta/field_errors.h"
#include "common/strings.h"
#include "security/rbac.h"

namespace tmcd::registry {
namespace {

namespace v1 = apis::v1alpha1;

template <class T>
Result<nlohmann::json> Normalize(const nlohmann::json& in) {
  auto obj = v1::DecodeObject<T>(in.dump());
  if (!obj.ok()) return obj.status();
  return nlohmann::json::parse(apis::EncodeJson(*obj));
}

template <class T>
ResourceInfo Typed() {
  const v1::KindInfo& k = v1::KindOf<T>();
  ResourceInfo r;
  r.group = std::string(v1::kGroup);
  r.version = std::string(v1::kVersion);
  r.resource = std::string(k.plural);
  r.singular = std::string(k.singular);
  r.kind = std::string(k.kind);
  r.namespaced = k.namespaced;
  r.has_status = true;
  r.read_only = k.read_only;
  for (auto s : k.short_names) r.short_names.emplace_back(s);
  for (const auto& c : k.columns) {
    r.columns.push_back(
        {std::string(c.name), std::string(c.type), std::string(c.json_path), std::string(c.description), c.priority});
  }
  r.normalize = Normalize<T>;
  return r;
}

ResourceInfo Generic(std::string group, std::string version, std::string resource, std::string singular,
                     std::string kind, bool namespaced, bool has_status, std::vector<std::string> short_names) {
  ResourceInfo r;
  r.group = std::move(group);
  r.version = std::move(version);
  r.resource = std::move(resource);
  r.singular = std::move(singular);
  r.kind = std::move(kind);
  r.namespaced = namespaced;
  r.has_status = has_status;
  r.short_names = std::move(short_names);
  r.columns = {{"Age", "date", ".metadata.creationTimestamp", ""}};
  return r;
}

ResourceInfo Rbac(std::string resource, std::string singular, const std::string& kind, bool namespaced) {
  ResourceInfo r = Generic(std::string(security::kRbacGroup), "v1", std::move(resource), std::move(singular), kind,
                           namespaced, false, {});
  r.local_only = true;
  r.path_segment_names = true;
  const bool binding = kind.find("Binding") != std::string::npos;
  r.validate = [kind, binding](const nlohmann::json& obj, const nlohmann::json* current) -> Status {
    TMCD_TRY(security::ValidateRbacObject(kind, obj));
    if (binding && current != nullptr && current->value("roleRef", nlohmann::json()) != obj["roleRef"]) {
      return Invalid("roleRef: Invalid value: cannot change roleRef");
    }
    if (!binding && kind == "ClusterRole" && current == nullptr &&
        security::BuiltinClusterRole(obj["metadata"].value("name", "")) != nullptr) {
      return Invalid("metadata.name: Forbidden: " + obj["metadata"].value("name", "") +
                     " is a built-in ClusterRole of tmcd and cannot be redefined");
    }
    return Status::Ok();
  };
  return r;
}

ResourceInfo Review(std::string resource, std::string singular, std::string kind) {
  ResourceInfo r = Generic("authorization.k8s.io", "v1", std::move(resource), std::move(singular), std::move(kind),
                           false, false, {});
  r.create_only = true;
  r.local_only = true;
  return r;
}

// core/v1 Events (docs/observability.md#events): what tmcd's controllers report about the objects they act
// on, and what clients post. Kept for events.ttl after their last change (engine/event_ttl.h).
ResourceInfo Events() {
  ResourceInfo r = Generic("", "v1", "events", "event", "Event", true, false, {"ev"});
  r.field_labels = {"involvedObject.kind",
                    "involvedObject.namespace",
                    "involvedObject.name",
                    "involvedObject.uid",
                    "involvedObject.apiVersion",
                    "involvedObject.resourceVersion",
                    "involvedObject.fieldPath",
                    "reason",
                    "reportingComponent",
                    "source",
                    "type"};
  r.validate = [](const nlohmann::json& obj, const nlohmann::json*) -> Status {
    // kube's legacy ValidateEvent for core/v1: the event lives in its object's namespace (or
    // "default" for cluster-scoped objects). Its type is free text there (only events.k8s.io checks it).
    apis::FieldErrors errs;
    const auto involved = obj.find("involvedObject");
    const std::string ns = obj["metadata"].value("namespace", "");
    if (involved == obj.end() || !involved->is_object()) {
      errs.Required("involvedObject");
    } else if (const std::string ins = involved->value("namespace", ""); !ins.empty() && ins != ns) {
      errs.Invalid("involvedObject.namespace", Quote(ins), "does not match event.namespace");
    }
    return errs.empty() ? Status::Ok() : errs.ToStatus("Event", obj["metadata"].value("name", ""));
  };
  return r;
}

std::vector<ResourceInfo> Build() {
  std::vector<ResourceInfo> out;
  out.push_back(Typed<v1::ClusterRegistration>());
  out.push_back(Typed<v1::WorkloadPlacement>());
  out.push_back(Typed<v1::SyncRecord>());
  out.push_back(Typed<v1::ResourceInterpreter>());
  out.back().has_status = false;  // rules only: nothing reports back
  out.push_back(Generic("", "v1", "namespaces", "namespace", "Namespace", false, true, {"ns"}));
  out.push_back(Generic("", "v1", "configmaps", "configmap", "ConfigMap", true, false, {"cm"}));
  out.push_back(Generic("", "v1", "secrets", "secret", "Secret", true, false, {}));
  out.push_back(Generic("", "v1", "serviceaccounts", "serviceaccount", "ServiceAccount", true, false, {"sa"}));
  out.push_back(Generic("", "v1", "services", "service", "Service", true, true, {"svc"}));
  out.push_back(Events());
  out.push_back(Generic("apps", "v1", "deployments", "deployment", "Deployment", true, true, {"deploy"}));
  out.back().scale = true;
  // The other workload kinds tmcd syncs (sync/interpreter.h), held as generic objects.
  out.push_back(Generic("apps", "v1", "statefulsets", "statefulset", "StatefulSet", true, true, {"sts"}));
  out.back().scale = true;
  out.push_back(Generic("apps", "v1", "daemonsets", "daemonset", "DaemonSet", true, true, {"ds"}));
  out.push_back(Generic("apps", "v1", "replicasets", "replicaset", "ReplicaSet", true, true, {"rs"}));
  out.back().scale = true;
  out.push_back(Generic("batch", "v1", "jobs", "job", "Job", true, true, {}));
  out.push_back(Generic("batch", "v1", "cronjobs", "cronjob", "CronJob", true, true, {"cj"}));
  out.push_back(Generic("networking.k8s.io", "v1", "ingresses", "ingress", "Ingress", true, true, {"ing"}));
  out.push_back(
      Generic("networking.k8s.io", "v1", "networkpolicies", "networkpolicy", "NetworkPolicy", true, false, {"netpol"}));
  out.push_back(Generic("", "v1", "persistentvolumeclaims", "persistentvolumeclaim", "PersistentVolumeClaim", true,
                        true, {"pvc"}));
  out.push_back(Generic("autoscaling", "v2", "horizontalpodautoscalers", "horizontalpodautoscaler",
                        "HorizontalPodAutoscaler", true, true, {"hpa"}));
  out.push_back(Generic("policy", "v1", "poddisruptionbudgets", "poddisruptionbudget", "PodDisruptionBudget", true,
                        true, {"pdb"}));
  // Custom resources (registry/crd.h): served per workspace once their definition is stored.
  out.push_back(Generic("apiextensions.k8s.io", "v1", "customresourcedefinitions", "customresourcedefinition",
                        "CustomResourceDefinition", false, true, {"crd", "crds"}));
  out.push_back(Rbac("roles", "role", "Role", true));
  out.push_back(Rbac("rolebindings", "rolebinding", "RoleBinding", true));
  out.push_back(Rbac("clusterroles", "clusterrole", "ClusterRole", false));
  out.push_back(Rbac("clusterrolebindings", "clusterrolebinding", "ClusterRoleBinding", false));
  out.push_back(Review("selfsubjectaccessreviews", "selfsubjectaccessreview", "SelfSubjectAccessReview"));
  out.push_back(Review("selfsubjectrulesreviews", "selfsubjectrulesreview", "SelfSubjectRulesReview"));
  return out;
}

}  // namespace

// Advanced placement fields the engine does not act on yet are refused rather than ignored
// (docs/placement.md#fields-that-need-the-gate); a spec stored before keeps what it had, so that the
// controllers' status writes and unrelated edits still go through.
Status RefuseUnimplementedPlacementFields(const nlohmann::json& obj, const nlohmann::json* current, bool advanced) {
  auto unimplemented = [advanced](const nlohmann::json& o) {
    v1::WorkloadPlacementSpec spec;
    apis::FieldErrors ignored;
    if (o.is_object() && o.contains("spec") && apis::DecodeJson(o["spec"].dump(), spec, ignored).ok()) {
      return v1::UnimplementedFields(spec, advanced);
    }
    return std::vector<v1::UnimplementedField>{};
  };
  const auto before = current != nullptr ? unimplemented(*current) : std::vector<v1::UnimplementedField>{};
  apis::FieldErrors errs;
  for (const auto& f : unimplemented(obj)) {
    if (std::find(before.begin(), before.end(), f) != before.end()) continue;
    errs.Forbidden(f.path, (f.value.empty() ? "" : Quote(f.value) + ": ") + f.detail + "; refused rather than ignored");
  }
  return errs.empty() ? Status::Ok() : errs.ToStatus("WorkloadPlacement", obj["metadata"].value("name", ""));
}

void StampTaintTimes(nlohmann::json& obj, const nlohmann::json* current, const std::string& now) {
  auto taints_of = [](const nlohmann::json& o) -> const nlohmann::json* {
    if (!o.is_object() || !o.contains("spec") || !o["spec"].is_object()) return nullptr;
    const auto it = o["spec"].find("taints");
    return it != o["spec"].end() && it->is_array() ? &*it : nullptr;
  };
  if (taints_of(obj) == nullptr) return;
  const nlohmann::json* before = current != nullptr ? taints_of(*current) : nullptr;
  auto same = [](const nlohmann::json& a, const nlohmann::json& b) {
    return a.value("key", "") == b.value("key", "") && a.value("value", "") == b.value("value", "") &&
           a.value("effect", "") == b.value("effect", "");
  };
  for (auto& t : obj["spec"]["taints"]) {
    if (!t.is_object() || t.value("effect", "") != "NoExecute" || t.contains("timeAdded")) continue;
    t["timeAdded"] = now;
    for (const auto& old : before != nullptr ? *before : nlohmann::json::array()) {
      if (old.is_object() && same(old, t) && old.contains("timeAdded")) t["timeAdded"] = old["timeAdded"];
    }
  }
}

const std::vector<ResourceInfo>& ServedResources() {
  static const std::vector<ResourceInfo> kResources = Build();
  return kResources;
}

const ResourceInfo* FindResource(std::string_view group, std::string_view version, std::string_view resource) {
  for (const auto& r : ServedResources()) {
    if (r.group == group && r.version == version && r.resource == resource) return &r;
  }
  return nullptr;
}

}  // namespace tmcd::registry
