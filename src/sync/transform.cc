#include "sync/transform.h"

#include <set>

#include "common/strings.h"
#include "sync/naming.h"

namespace tmcd::sync {
namespace {

// Annotations that describe the upstream object, not the workload.
bool DropAnnotation(const std::string& key) {
  return key == "kcp.io/cluster" || key == "kubectl.kubernetes.io/last-applied-configuration" ||
         key == kClusterStatusAnnotation || key == "deployment.kubernetes.io/revision";
}

void ServiceRules(Json& spec) {
  if (!spec.is_object()) return;
  if (spec.value("clusterIP", "") != "None") {
    spec.erase("clusterIP");
    spec.erase("clusterIPs");
  }
  spec.erase("ipFamilies");
  spec.erase("healthCheckNodePort");
  if (spec.contains("ports") && spec["ports"].is_array()) {
    for (auto& p : spec["ports"]) {
      if (p.is_object()) p.erase("nodePort");
    }
  }
}

void AddName(std::set<Reference>& out, const std::string& resource, const Json& holder, const char* field) {
  if (!holder.is_object()) return;
  auto it = holder.find(field);
  if (it != holder.end() && it->is_string() && !it->get<std::string>().empty()) {
    out.insert({resource, it->get<std::string>()});
  }
}

void ContainerRefs(const Json& containers, std::set<Reference>& out) {
  if (!containers.is_array()) return;
  for (const auto& c : containers) {
    for (const auto& e : c.value("env", Json::array())) {
      const Json from = e.value("valueFrom", Json::object());
      AddName(out, "configmaps", from.value("configMapKeyRef", Json::object()), "name");
      AddName(out, "secrets", from.value("secretKeyRef", Json::object()), "name");
    }
    for (const auto& e : c.value("envFrom", Json::array())) {
      AddName(out, "configmaps", e.value("configMapRef", Json::object()), "name");
      AddName(out, "secrets", e.value("secretRef", Json::object()), "name");
    }
  }
}

}  // namespace

std::string UpstreamAnnotation(const UpstreamId& id) {
  return Json{{"workspace", id.workspace}, {"namespace", id.namespace_}, {"name", id.name}, {"uid", id.uid}}.dump();
}

bool UpstreamFromAnnotation(const Json& downstream, UpstreamId& out) {
  const Json a = downstream.value("metadata", Json::object()).value("annotations", Json::object());
  auto it = a.find(std::string(kUpstreamAnnotation));
  if (it == a.end() || !it->is_string()) return false;
  const Json v = Json::parse(it->get<std::string>(), nullptr, false);
  if (!v.is_object() || !v.contains("workspace") || !v.contains("name")) return false;
  out.workspace = v.value("workspace", "");
  out.namespace_ = v.value("namespace", "");
  out.name = v.value("name", "");
  out.uid = v.value("uid", "");
  return true;
}

Json Desired(const Json& upstream, const UpstreamId& id, const std::string& downstream_ns) {
  Json out = Json::object();
  for (const auto& [k, v] : upstream.items()) {
    if (k != "metadata" && k != "status") out[k] = v;
  }
  if (id.resource == "services" && out.contains("spec")) ServiceRules(out["spec"]);
  const Json& um = upstream.value("metadata", Json::object());
  Json m = {{"name", um.value("name", "")}};
  if (!downstream_ns.empty()) m["namespace"] = downstream_ns;
  Json labels = Json::object();
  const Json up_labels = um.value("labels", Json::object());  // items() must not outlive its object
  for (const auto& [k, v] : up_labels.items()) {
    if (!StartsWith(k, kStateLabelPrefix)) labels[k] = v;
  }
  labels[std::string(kManagedByLabel)] = kManagedByValue;
  labels[std::string(kWorkspaceLabel)] = WorkspaceHash(id.workspace);
  Json annotations = Json::object();
  const Json up_annotations = um.value("annotations", Json::object());
  for (const auto& [k, v] : up_annotations.items()) {
    if (!DropAnnotation(k)) annotations[k] = v;
  }
  annotations[std::string(kUpstreamAnnotation)] = UpstreamAnnotation(id);
  m["labels"] = labels;
  m["annotations"] = annotations;
  out["metadata"] = m;
  return out;
}

Json NamespaceObject(const std::string& workspace, const std::string& ns) {
  return {{"apiVersion", "v1"},
          {"kind", "Namespace"},
          {"metadata",
           {{"name", DownstreamNamespace(workspace, ns)},
            {"labels", {{kManagedByLabel, kManagedByValue}, {kWorkspaceLabel, WorkspaceHash(workspace)}}},
            {"annotations", {{kLocatorAnnotation, Locator(workspace, ns)}}}}}};
}

std::vector<Reference> PodTemplateReferences(const Json& pod_template) {
  std::set<Reference> out;
  const Json spec = pod_template.is_object() ? pod_template.value("spec", Json::object()) : Json::object();
  for (const auto& v : spec.value("volumes", Json::array())) {
    AddName(out, "configmaps", v.value("configMap", Json::object()), "name");
    AddName(out, "secrets", v.value("secret", Json::object()), "secretName");
    AddName(out, "persistentvolumeclaims", v.value("persistentVolumeClaim", Json::object()), "claimName");
    for (const auto& s : v.value("projected", Json::object()).value("sources", Json::array())) {
      AddName(out, "configmaps", s.value("configMap", Json::object()), "name");
      AddName(out, "secrets", s.value("secret", Json::object()), "name");
    }
  }
  ContainerRefs(spec.value("containers", Json::array()), out);
  ContainerRefs(spec.value("initContainers", Json::array()), out);
  for (const auto& s : spec.value("imagePullSecrets", Json::array())) AddName(out, "secrets", s, "name");
  const std::string sa = spec.value("serviceAccountName", spec.value("serviceAccount", ""));
  if (!sa.empty() && sa != "default") out.insert({"serviceaccounts", sa});
  return {out.begin(), out.end()};
}

bool ServiceSelects(const Json& service, const Json& pod_template) {
  const Json selector = service.value("spec", Json::object()).value("selector", Json::object());
  if (!selector.is_object() || selector.empty() || !pod_template.is_object()) return false;
  const Json labels = pod_template.value("metadata", Json::object()).value("labels", Json::object());
  for (const auto& [k, v] : selector.items()) {
    if (!labels.is_object() || !labels.contains(k) || labels[k] != v) return false;
  }
  return true;
}

std::string DesiredHash(const Json& desired, const std::vector<Json>& dependencies) {
  std::string all = desired.dump();
  for (const auto& d : dependencies) all += "\n" + d.dump();
  return HexEncode(Sha256(all)).substr(0, 32);
}

void TrimForCache(Json& downstream) {
  if (!downstream.contains("metadata") || !downstream["metadata"].is_object()) return;
  Json& m = downstream["metadata"];
  m.erase("managedFields");
  if (m.contains("annotations") && m["annotations"].is_object()) {
    m["annotations"].erase("kcp.io/cluster");
    if (m["annotations"].empty()) m.erase("annotations");
  }
}

}  // namespace tmcd::sync
