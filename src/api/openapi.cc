#include "api/openapi.h"

#include <set>

#include "apis/tmc/v1alpha1/manifests.h"
#include "common/strings.h"
#include "registry/resources.h"

namespace tmcd::api {

using registry::ResourceInfo;
using registry::ResourcePtr;
namespace {

using Json = nlohmann::json;

std::string GvPath(const ResourceInfo& r) {
  return r.group.empty() ? "api/" + r.version : "apis/" + r.group + "/" + r.version;
}

// Kubernetes' definition-name convention: reversed group domain, e.g. io.kcp.tmc.v1alpha1.Kind.
std::string SchemaName(const ResourceInfo& r) {
  if (r.group.empty()) return "io.k8s.api.core." + r.version + "." + r.kind;
  if (r.group.find('.') == std::string::npos) return "io.k8s.api." + r.group + "." + r.version + "." + r.kind;
  auto parts = Split(r.group, '.');
  std::reverse(parts.begin(), parts.end());
  return Join(parts, ".") + "." + r.version + "." + r.kind;
}

Json Gvk(const ResourceInfo& r) {
  return {{"group", r.group}, {"kind", r.kind}, {"version", r.version}};
}

// ObjectMeta, so that `kubectl explain <kind>.metadata` works for the generic kinds too.
Json MetadataSchema() {
  auto str = [](const char* d) { return Json{{"type", "string"}, {"description", d}}; };
  const Json string_map = {{"type", "object"}, {"additionalProperties", {{"type", "string"}}}};
  Json p = {{"name", str("Name, unique within a namespace (or cluster-wide for cluster-scoped kinds).")},
            {"generateName", str("Prefix of a server-generated name, when name is empty.")},
            {"namespace", str("The namespace the object lives in.")},
            {"uid", str("Server-assigned unique id.")},
            {"resourceVersion", str("Opaque version for optimistic concurrency and watches.")},
            {"creationTimestamp", str("When the object was created (RFC 3339).")},
            {"deletionTimestamp", str("When deletion was requested; finalizers hold the object until then.")},
            {"generation", {{"type", "integer"}, {"description", "Incremented on every spec change."}}},
            {"labels", string_map},
            {"annotations", string_map},
            {"finalizers", {{"type", "array"}, {"items", {{"type", "string"}}}}},
            {"ownerReferences", {{"type", "array"}, {"items", {{"type", "object"}}}}},
            {"managedFields", {{"type", "array"}, {"items", {{"type", "object"}}}}}};
  p["labels"]["description"] = "Key/value pairs for selection.";
  p["annotations"]["description"] = "Non-identifying key/value pairs.";
  p["finalizers"]["description"] = "Must be empty before the object is deleted.";
  p["ownerReferences"]["description"] = "Objects this one depends on.";
  p["managedFields"]["description"] = "Which manager set which field (server-side apply).";
  return {{"type", "object"}, {"description", "Standard object metadata."}, {"properties", std::move(p)}};
}

Json Schema(const ResourceInfo& r) {
  Json s;
  if (r.schema) {  // a custom resource: its CRD's schema, with tmcd's ObjectMeta
    s = *r.schema;
    if (!s.contains("properties") || !s["properties"].is_object()) s["properties"] = Json::object();
    s["properties"]["apiVersion"] = {{"type", "string"}, {"description", "APIVersion of this object."}};
    s["properties"]["kind"] = {{"type", "string"}, {"description", "Kind of this object."}};
    s["properties"]["metadata"] = MetadataSchema();
  } else if (r.normalize) {
    s = Json::parse(apis::v1alpha1::OpenAPISchema(r.resource).dump());
  } else {
    s = {{"description", r.kind + " (held by tmcd as a generic object: metadata is validated, the rest is kept)"},
         {"type", "object"},
         {"x-kubernetes-preserve-unknown-fields", true},
         {"properties",
          {{"apiVersion", {{"type", "string"}}}, {"kind", {{"type", "string"}}}, {"metadata", MetadataSchema()}}}};
  }
  s["x-kubernetes-group-version-kind"] = Json::array({Gvk(r)});
  return s;
}

Json Operation(const ResourceInfo& r, const std::string& id) {
  Json ref = {{"$ref", "#/components/schemas/" + SchemaName(r)}};
  return {{"operationId", id + r.kind},
          {"x-kubernetes-group-version-kind", Gvk(r)},
          {"parameters",
           Json::array({{{"name", "fieldValidation"},
                         {"in", "query"},
                         {"schema", {{"type", "string"}}},
                         {"description", "Strict (tmcd's default), Warn or Ignore: what happens to unknown fields."}},
                        {{"name", "fieldManager"}, {"in", "query"}, {"schema", {{"type", "string"}}}}})},
          {"responses", {{"200", {{"description", "OK"}, {"content", {{"application/json", {{"schema", ref}}}}}}}}}};
}

}  // namespace

Json OpenApiIndex(const std::vector<ResourcePtr>& served) {
  std::set<std::string> gvs;
  for (const auto& r : served) gvs.insert(GvPath(*r));
  Json paths = Json::object();
  for (const auto& gv : gvs) {
    auto doc = OpenApiDocument(gv, served);
    const std::string hash = HexEncode(Sha256(doc->dump())).substr(0, 16);
    paths[gv] = {{"serverRelativeURL", "/openapi/v3/" + gv + "?hash=" + hash}};
  }
  return {{"paths", paths}};
}

Result<Json> OpenApiDocument(std::string_view gv_path, const std::vector<ResourcePtr>& served) {
  Json schemas = Json::object();
  Json paths = Json::object();
  for (const auto& rp : served) {
    const ResourceInfo& r = *rp;
    if (GvPath(r) != gv_path) continue;
    schemas[SchemaName(r)] = Schema(r);
    const std::string base = "/" + GvPath(r) + (r.namespaced ? "/namespaces/{namespace}/" : "/") + r.resource;
    paths[base + "/{name}"] = {{"patch", Operation(r, "patch")}, {"put", Operation(r, "replace")}};
    paths[base] = {{"post", Operation(r, "create")}};
  }
  if (schemas.empty()) return NotFound("no OpenAPI document for " + std::string(gv_path));
  return Json{{"openapi", "3.0.0"},
              {"info", {{"title", "tmcd local API"}, {"version", "v0.1.0"}}},
              {"paths", paths},
              {"components", {{"schemas", schemas}}}};
}

}  // namespace tmcd::api
