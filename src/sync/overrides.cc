#include "sync/overrides.h"

#include "apis/meta/codec.h"
#include "common/json_patch.h"
#include "sync/naming.h"

namespace tmcd::sync {
namespace {

using Json = nlohmann::json;

// What makes the copy tmcd's: an override must leave it as it was.
std::string OwnedFieldChanged(const Json& before, const Json& after) {
  for (const char* f : {"apiVersion", "kind"}) {
    if (before.value(f, Json()) != after.value(f, Json())) return f;
  }
  const Json mb = before.value("metadata", Json::object());
  const Json m = after.value("metadata", Json::object());
  if (!m.is_object()) return "metadata";
  for (const char* f : {"name", "namespace"}) {
    if (mb.value(f, Json()) != m.value(f, Json())) return std::string("metadata.") + f;
  }
  const Json lb = mb.value("labels", Json::object()), la = m.value("labels", Json::object());
  for (auto key : {kManagedByLabel, kWorkspaceLabel}) {
    const std::string k(key);
    if (!la.is_object() || lb.value(k, Json()) != la.value(k, Json())) return "metadata.labels[" + k + "]";
  }
  const Json ab = mb.value("annotations", Json::object()), aa = m.value("annotations", Json::object());
  const std::string k(kUpstreamAnnotation);
  if (!aa.is_object() || ab.value(k, Json()) != aa.value(k, Json())) return "metadata.annotations[" + k + "]";
  return "";
}

}  // namespace

std::string RewriteRegistry(const std::string& image, const std::string& registry) {
  std::string rest = image;
  const auto slash = image.find('/');
  if (slash != std::string::npos) {
    const std::string first = image.substr(0, slash);
    if (first.find('.') != std::string::npos || first.find(':') != std::string::npos || first == "localhost") {
      rest = image.substr(slash + 1);
    }
  }
  std::string reg = registry;
  while (!reg.empty() && reg.back() == '/') reg.pop_back();
  return reg + "/" + rest;
}

std::string DescribeOverride(size_t index, const v1::Override& o) {
  std::string out = "overrides[" + std::to_string(index) + "]:";
  if (o.image) out += " image registry " + o.image->registry;
  if (!o.json_patch.empty()) {
    out += (o.image ? "," : "") + std::string(" jsonPatch, ") + std::to_string(o.json_patch.size()) + " operation" +
           (o.json_patch.size() == 1 ? "" : "s");
  }
  return out;
}

Status ApplyOverride(const KindRules& rules, const v1::Override& o, Json& desired) {
  const Json before = desired;
  if (o.image && rules.pod_template) {
    if (const Json* tmpl = rules.pod_template->Find(desired); tmpl != nullptr) {
      Json spec = tmpl->value("spec", Json::object());
      for (const char* list : {"containers", "initContainers", "ephemeralContainers"}) {
        if (!spec.contains(list) || !spec[list].is_array()) continue;
        for (auto& c : spec[list]) {
          if (c.is_object() && c.contains("image") && c["image"].is_string()) {
            c["image"] = RewriteRegistry(c["image"].get<std::string>(), o.image->registry);
          }
        }
      }
      Json updated = *tmpl;
      updated["spec"] = std::move(spec);
      rules.pod_template->Set(desired, std::move(updated));
    }
  }
  if (!o.json_patch.empty()) {
    Json ops = Json::array();
    for (const auto& op : o.json_patch) ops.push_back(Json::parse(apis::EncodeJson(op)));
    auto patched = ApplyJsonPatch(desired, ops);
    if (!patched.ok()) return Status(Reason::kInvalid, "jsonPatch: " + patched.status().message());
    desired = std::move(patched).value();
  }
  if (std::string f = OwnedFieldChanged(before, desired); !f.empty()) {
    desired = before;
    return Status(Reason::kInvalid, "changes " + f + ", which tmcd owns on the copy");
  }
  return Status::Ok();
}

}  // namespace tmcd::sync
