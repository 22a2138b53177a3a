#include "apis/tmc/v1alpha1/manifests.h"

#include "apis/meta/schema.h"
#include "apis/meta/yaml_emit.h"
#include "apis/tmc/v1alpha1/register.h"
#include "apis/tmc/v1alpha1/workload_schemas.h"
#include "common/strings.h"

namespace tmcd::apis::v1alpha1 {
namespace {

template <class T>
OrderedJson KindSchema() {
  OrderedJson s = SchemaFor<T>(FieldOpts{});
  OrderedJson out = OrderedJson::object();
  out["description"] = std::string(KindOf<T>().description);
  for (auto& [k, v] : s.items()) out[k] = v;
  return out;
}

OrderedJson Names(const KindInfo& k) {
  OrderedJson names = {{"plural", std::string(k.plural)},
                       {"singular", std::string(k.singular)},
                       {"kind", std::string(k.kind)},
                       {"listKind", std::string(k.list_kind)}};
  names["shortNames"] = OrderedJson::array();
  for (auto s : k.short_names) names["shortNames"].push_back(std::string(s));
  names["categories"] = OrderedJson::array({"tmc"});
  return names;
}

OrderedJson Columns(const KindInfo& k) {
  OrderedJson cols = OrderedJson::array();
  for (const auto& c : k.columns) {
    OrderedJson col = {{"name", std::string(c.name)}, {"type", std::string(c.type)}};
    if (!c.description.empty()) col["description"] = std::string(c.description);
    if (c.priority != 0) col["priority"] = c.priority;
    col["jsonPath"] = std::string(c.json_path);
    cols.push_back(col);
  }
  return cols;
}

// The spec shared by the CRD and the APIResourceSchema forms; `crd_schema` wraps the schema in
// {openAPIV3Schema: ...} as CRDs do (APIResourceSchemas take the schema body directly).
OrderedJson Spec(const KindInfo& k, const OrderedJson& schema, bool crd_schema) {
  OrderedJson version = {{"name", std::string(kVersion)}, {"served", true}, {"storage", true}};
  version["subresources"] = {{"status", OrderedJson::object()}};
  version["additionalPrinterColumns"] = Columns(k);
  version["schema"] = crd_schema ? OrderedJson{{"openAPIV3Schema", schema}} : schema;
  OrderedJson spec = {{"group", std::string(kGroup)}};
  spec["names"] = Names(k);
  spec["scope"] = k.namespaced ? "Namespaced" : "Cluster";
  spec["versions"] = OrderedJson::array({version});
  return spec;
}

struct Exported {
  const KindInfo* info;
  OrderedJson schema;
};

std::vector<Exported> ExportedKinds() {
  return {{&KindOf<ClusterRegistration>(), KindSchema<ClusterRegistration>()},
          {&KindOf<WorkloadPlacement>(), KindSchema<WorkloadPlacement>()},
          {&KindOf<ResourceInterpreter>(), KindSchema<ResourceInterpreter>()}};
}

OrderedJson Claim(std::string_view resource) {
  if (resource == "events") {  // written, not only read
    return {{"group", ""}, {"resource", "events"}, {"verbs", {"get", "list", "watch", "create", "update", "patch"}}};
  }
  return {{"group", ""}, {"resource", std::string(resource)}, {"verbs", {"get", "list", "watch"}}};
}

}  // namespace

OrderedJson OpenAPISchema(std::string_view plural) {
  if (plural == KindOf<ClusterRegistration>().plural) return KindSchema<ClusterRegistration>();
  if (plural == KindOf<WorkloadPlacement>().plural) return KindSchema<WorkloadPlacement>();
  if (plural == KindOf<SyncRecord>().plural) return KindSchema<SyncRecord>();
  if (plural == KindOf<ResourceInterpreter>().plural) return KindSchema<ResourceInterpreter>();
  return {};
}

std::string SchemaPrefix(const OrderedJson& spec) {
  return "v" + Base36(Sha256(spec.dump())).substr(0, 10);
}

std::vector<Manifest> CrdManifests() {
  std::vector<Manifest> out;
  for (const auto& e : ExportedKinds()) {
    const std::string name = std::string(e.info->plural) + "." + std::string(kGroup);
    OrderedJson crd = {{"apiVersion", "apiextensions.k8s.io/v1"}, {"kind", "CustomResourceDefinition"}};
    crd["metadata"] = {{"name", name}};
    crd["spec"] = Spec(*e.info, e.schema, /*crd_schema=*/true);
    out.push_back({"config/crds/" + std::string(kGroup) + "_" + std::string(e.info->plural) + ".yaml", ToYaml(crd)});
  }
  return out;
}

std::vector<OrderedJson> KcpObjects(std::string_view export_version, bool workload_types,
                                    const std::vector<ClaimedResource>& extra) {
  std::vector<OrderedJson> out;
  OrderedJson resources = OrderedJson::array();
  OrderedJson latest = OrderedJson::array();
  auto add = [&](std::string_view group, std::string_view plural, OrderedJson spec) {
    const std::string name =
        SchemaPrefix(spec) + "." + std::string(plural) + "." + (group.empty() ? "core" : std::string(group));
    OrderedJson ars = {{"apiVersion", "apis.kcp.io/v1alpha1"}, {"kind", "APIResourceSchema"}};
    ars["metadata"] = {{"name", name}};
    // Kubernetes' own groups (*.k8s.io) are protected: kcp, like the apiextensions server, wants the
    // approval of the API, which for these is Kubernetes' (networking.k8s.io/v1: kubernetes#89778).
    if (group.ends_with(".k8s.io")) {
      ars["metadata"]["annotations"] = {
          {"api-approved.kubernetes.io", "https://github.com/kubernetes/kubernetes/pull/89778"}};
    }
    ars["spec"] = std::move(spec);
    out.push_back(std::move(ars));
    resources.push_back({{"group", std::string(group)},
                         {"name", std::string(plural)},
                         {"schema", name},
                         {"storage", {{"crd", OrderedJson::object()}}}});
    latest.push_back(name);
  };
  for (const auto& e : ExportedKinds()) add(kGroup, e.info->plural, Spec(*e.info, e.schema, /*crd_schema=*/false));
  if (workload_types) {
    for (auto& w : WorkloadSchemas()) add(w.group, w.plural, std::move(w.spec));
  }
  // Read access tmcd needs in tenant workspaces: credentials and dependencies of synced workloads,
  // and the namespaces they live in.
  // Events: tmcd reports on the tenants' objects in their own workspaces (docs/observability.md#events).
  const std::vector<std::string_view> claimed = {"secrets", "configmaps", "serviceaccounts", "namespaces", "events"};
  OrderedJson exp = {{"apiVersion", "apis.kcp.io/" + std::string(export_version)}, {"kind", "APIExport"}};
  exp["metadata"] = {{"name", std::string(kExportName)}};
  exp["spec"] = OrderedJson::object();
  if (export_version == "v1alpha1") {  // kcp before v0.28: schema names and all-objects claims
    exp["spec"]["latestResourceSchemas"] = latest;
    exp["spec"]["permissionClaims"] = OrderedJson::array();
    for (auto r : claimed) exp["spec"]["permissionClaims"].push_back({{"group", ""}, {"resource", r}, {"all", true}});
  } else {
    exp["spec"]["resources"] = resources;
    exp["spec"]["permissionClaims"] = OrderedJson::array();
    for (auto r : claimed) exp["spec"]["permissionClaims"].push_back(Claim(r));
  }
  for (const auto& c : extra) {  // synced like workloads: read, then status, finalizer and labels written
    OrderedJson claim = {{"group", c.group}, {"resource", c.resource}};
    if (!c.identity_hash.empty()) claim["identityHash"] = c.identity_hash;
    if (export_version == "v1alpha1") {
      claim["all"] = true;
    } else {
      claim["verbs"] = {"get", "list", "watch", "update", "patch"};
    }
    exp["spec"]["permissionClaims"].push_back(std::move(claim));
  }
  out.push_back(std::move(exp));
  return out;
}

std::vector<Manifest> KcpManifests() {
  std::vector<Manifest> out;
  auto objects = KcpObjects("v1alpha2", /*workload_types=*/true);
  for (size_t i = 0; i + 1 < objects.size(); ++i) {
    const std::string name = objects[i]["metadata"]["name"];
    const std::string plural = name.substr(name.find('.') + 1, name.find('.', name.find('.') + 1) - name.find('.') - 1);
    out.push_back({"config/kcp/apiresourceschema-" + plural + ".yaml", ToYaml(objects[i])});
  }
  out.push_back({"config/kcp/apiexport.yaml", ToYaml(objects.back())});
  out.push_back({"config/kcp/v1alpha1/apiexport.yaml", ToYaml(KcpObjects("v1alpha1", /*workload_types=*/true).back())});
  return out;
}

std::string JoinYaml(const std::vector<Manifest>& manifests) {
  std::string out;
  for (const auto& m : manifests) out += "---\n" + m.yaml;
  return out;
}

}  // namespace tmcd::apis::v1alpha1
