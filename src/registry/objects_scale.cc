// The scale subresource: the autoscaling/v1 Scale view of a Deployment (docs/local-api.md#scale).
#include <algorithm>
#include <charconv>
#include <limits>

#include "apis/meta/selector.h"
#include "common/strings.h"
#include "registry/objects.h"

namespace tmcd::registry {
namespace {

Json ScaleOf(const Json& obj) {
  const Json& meta = obj["metadata"];
  Json scale = {{"apiVersion", "autoscaling/v1"}, {"kind", "Scale"}, {"metadata", Json::object()}};
  for (const char* f : {"name", "namespace", "uid", "resourceVersion", "creationTimestamp"}) {
    if (meta.contains(f)) scale["metadata"][f] = meta[f];
  }
  const Json spec = obj.value("spec", Json::object());
  const Json status = obj.value("status", Json::object());
  // As the apps registry: an unset spec.replicas is the default, 1.
  scale["spec"] = {{"replicas", spec.is_object() ? spec.value("replicas", Json(1)) : Json(1)}};
  scale["status"] = {
      {"replicas", status.is_object() ? status.value("replicas", Json(0)) : Json(0)},
      {"selector", apis::LabelSelectorString(spec.is_object() ? spec.value("selector", Json()) : Json())}};
  return scale;
}

}  // namespace

Result<Json> ObjectService::GetScale(const Request& p, const ResourceInfo& r) {
  TMCD_ASSIGN_OR_RETURN(Json obj, Get(p, r));
  return ScaleOf(obj);
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
    if (!desired["spec"].is_object()) desired["spec"] = Json::object();
    desired["spec"]["replicas"] = replicas;
    const std::string current_rv = current["metadata"].value("resourceVersion", "");
    uint64_t expected = 0;
    const std::string& want = rv.empty() ? current_rv : rv;
    if (std::from_chars(want.data(), want.data() + want.size(), expected).ec != std::errc() || expected == 0) {
      return BadRequest("invalid resourceVersion " + Quote(want));
    }
    auto out = CommitUpdate(p, r, std::move(current), std::move(desired), expected);
    if (out.ok()) return ScaleOf(*out);
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
