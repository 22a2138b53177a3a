// The scale subresource: the autoscaling/v1 Scale view of a Deployment, StatefulSet, ReplicaSet or a
// custom resource that declares one (docs/local-api.md#scale, docs/custom-resources.md#subresources).
#include <algorithm>
#include <charconv>
#include <limits>

#include "apis/meta/json_path.h"
#include "apis/meta/selector.h"
#include "common/strings.h"
#include "registry/objects.h"

namespace tmcd::registry {
namespace {

apis::JsonPath PathOf(const std::string& text) {
  auto p = apis::JsonPath::Parse(text);  // checked when the CRD was stored (registry/crd.cc)
  return p.ok() ? *p : apis::JsonPath();
}

Json ScaleOf(const ResourceInfo& r, const Json& obj) {
  const Json& meta = obj["metadata"];
  Json scale = {{"apiVersion", "autoscaling/v1"}, {"kind", "Scale"}, {"metadata", Json::object()}};
  for (const char* f : {"name", "namespace", "uid", "resourceVersion", "creationTimestamp"}) {
    if (meta.contains(f)) scale["metadata"][f] = meta[f];
  }
  const Json* spec_replicas = PathOf(r.spec_replicas_path).Find(obj);
  const Json* status_replicas = PathOf(r.status_replicas_path).Find(obj);
  // As the apps registry: an unset spec.replicas is the default, 1 (a custom resource's is 0).
  const Json unset = r.crd.empty() ? Json(1) : Json(0);
  scale["spec"] = {
      {"replicas", spec_replicas != nullptr && spec_replicas->is_number_integer() ? *spec_replicas : unset}};
  scale["status"] = {
      {"replicas", status_replicas != nullptr && status_replicas->is_number_integer() ? *status_replicas : Json(0)}};
  if (r.label_selector_path.empty()) {  // the built-in kinds: spec.selector, a LabelSelector
    const Json spec = obj.value("spec", Json::object());
    scale["status"]["selector"] = apis::LabelSelectorString(spec.is_object() ? spec.value("selector", Json()) : Json());
  } else if (const Json* sel = PathOf(r.label_selector_path).Find(obj); sel != nullptr && sel->is_string()) {
    scale["status"]["selector"] = *sel;  // a custom resource's is the selector string itself
  }
  return scale;
}

}  // namespace

Result<Json> ObjectService::GetScale(const Request& p, const ResourceInfo& r) {
  TMCD_ASSIGN_OR_RETURN(Json obj, Get(p, r));
  return ScaleOf(r, obj);
}

Result<Json> ObjectService::UpdateScale(const Request& p, const ResourceInfo& r, const Json& scale) {
  if (!scale.is_object()) return BadRequest("the request body must be a Scale object");
  const std::string kind = scale.value("kind", "Scale");
  if (kind != "Scale") return BadRequest("the body of a scale request must be a Scale, not " + Quote(kind));
  const Json spec = scale.value("spec", Json::object());
  const Json replicas = spec.is_object() ? spec.value("replicas", Json(0)) : Json();
  const std::string name = "Scale.autoscaling " + Quote(p.name) + " is invalid: ";
  if (!replicas.is_number_integer() || replicas.get<int64_t>() > std::numeric_limits<int32_t>::max()) {
    return Status(Reason::kInvalid, name + "spec.replicas: Invalid value: " + replicas.dump() + ": must be an int32",
                  {{"FieldValueInvalid", "must be an int32", "spec.replicas"}});
  }
  if (replicas.get<int64_t>() < 0) {
    return Status(Reason::kInvalid,
                  name + "spec.replicas: Invalid value: " + replicas.dump() + ": must be greater than or equal to 0",
                  {{"FieldValueInvalid", "must be greater than or equal to 0", "spec.replicas"}});
  }
  const Json meta = scale.value("metadata", Json::object());
  const std::string rv = meta.is_object() ? meta.value("resourceVersion", "") : "";
  for (int attempt = 0; attempt < 5; ++attempt) {
    TMCD_ASSIGN_OR_RETURN(Json current, Get(p, r));
    Json desired = current;
    if (!PathOf(r.spec_replicas_path).Set(desired, replicas)) {
      return Invalid("cannot set " + r.spec_replicas_path + " of " + r.kind + " " + Quote(p.name));
    }
    const std::string current_rv = current["metadata"].value("resourceVersion", "");
    uint64_t expected = 0;
    const std::string& want = rv.empty() ? current_rv : rv;
    if (std::from_chars(want.data(), want.data() + want.size(), expected).ec != std::errc() || expected == 0) {
      return BadRequest("invalid resourceVersion " + Quote(want));
    }
    auto out = CommitUpdate(p, r, std::move(current), std::move(desired), expected);
    if (out.ok()) return ScaleOf(r, *out);
    if (out.status().reason() != Reason::kConflict || !rv.empty()) return out.status();
  }
  return Status(Reason::kConflict, "too many concurrent writes to " + r.resource + " " + Quote(p.name));
}

Result<Json> ObjectService::PatchScale(const Request& p, const ResourceInfo& r, std::string_view content_type,
                                       std::string_view body) {
  TMCD_ASSIGN_OR_RETURN(const ParsedPatch patch, ParsePatch(content_type, body, "Scale"));
  TMCD_ASSIGN_OR_RETURN(Json current, GetScale(p, r));
  TMCD_ASSIGN_OR_RETURN(Json patched, patch.ApplyTo(current, &p.warnings));
  // A resourceVersion the patch sets is a precondition; otherwise the latest version is scaled.
  if (patched.is_object() && patched["metadata"].is_object() &&
      patched["metadata"].value("resourceVersion", "") == current["metadata"].value("resourceVersion", "")) {
    patched["metadata"].erase("resourceVersion");
  }
  return UpdateScale(p, r, patched);
}

}  // namespace tmcd::registry
