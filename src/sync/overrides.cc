#include "sync/overrides.h"

#include <algorithm>
#include <array>
#include <span>

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

constexpr std::array<const char*, 3> kAllContainers = {"containers", "initContainers", "ephemeralContainers"};
constexpr std::array<const char*, 2> kNamedContainers = {"containers", "initContainers"};
constexpr std::array<const char*, 1> kMainContainers = {"containers"};

// Every container of the Pod template in `lists` through `fn`.
template <class Fn>
void ForEachContainer(const KindRules& rules, std::span<const char* const> lists, Json& desired, Fn fn) {
  if (!rules.pod_template) return;
  const Json* tmpl = rules.pod_template->Find(desired);
  if (tmpl == nullptr || !tmpl->is_object()) return;
  Json updated = *tmpl;
  if (!updated.contains("spec") || !updated["spec"].is_object()) return;
  Json& spec = updated["spec"];
  for (const char* list : lists) {
    if (!spec.contains(list) || !spec[list].is_array()) continue;
    for (auto& c : spec[list]) {
      if (c.is_object()) fn(c);
    }
  }
  rules.pod_template->Set(desired, std::move(updated));
}

void RewriteImages(const KindRules& rules, const std::string& registry, Json& desired) {
  ForEachContainer(rules, kAllContainers, desired, [&](Json& c) {
    if (c.contains("image") && c["image"].is_string())
      c["image"] = RewriteRegistry(c["image"].get<std::string>(), registry);
  });
}

void ApplyMetadata(const v1::MetadataOverride& m, const char* field, Json& desired) {
  if (!desired.contains("metadata") || !desired["metadata"].is_object()) desired["metadata"] = Json::object();
  Json& meta = desired["metadata"];
  if (!meta.contains(field) || !meta[field].is_object()) meta[field] = Json::object();
  for (const auto& [key, value] : m.set) meta[field][key] = value;
  for (const auto& key : m.remove) meta[field].erase(key);
}

// One container's env and args (docs/placement.md#overrides): env set in place or appended by name,
// removeEnv dropped, args replaced when given, appendArgs appended.
void ApplyContainer(const v1::ContainerOverride& o, Json& c) {
  if (!o.env.empty() || !o.remove_env.empty()) {
    Json env = c.contains("env") && c["env"].is_array() ? c["env"] : Json::array();
    for (const auto& e : o.env) {
      const Json var = {{"name", e.name}, {"value", e.value}};
      auto it = std::find_if(env.begin(), env.end(),
                             [&](const Json& v) { return v.is_object() && v.value("name", "") == e.name; });
      if (it != env.end()) {
        *it = var;
      } else {
        env.push_back(var);
      }
    }
    Json kept = Json::array();
    for (auto& v : env) {
      const std::string name = v.is_object() ? v.value("name", "") : "";
      if (std::find(o.remove_env.begin(), o.remove_env.end(), name) == o.remove_env.end()) kept.push_back(std::move(v));
    }
    c["env"] = std::move(kept);
  }
  if (!o.args.empty()) c["args"] = o.args;
  if (!o.append_args.empty()) {
    if (!c.contains("args") || !c["args"].is_array()) c["args"] = Json::array();
    for (const auto& a : o.append_args) c["args"].push_back(a);
  }
}

// A named override reaches containers and init containers of that name; an unnamed one every container.
void ApplyContainers(const KindRules& rules, const v1::ContainerOverride& o, Json& desired) {
  const auto lists =
      o.name.empty() ? std::span<const char* const>(kMainContainers) : std::span<const char* const>(kNamedContainers);
  ForEachContainer(rules, lists, desired, [&](Json& c) {
    if (o.name.empty() || c.value("name", "") == o.name) ApplyContainer(o, c);
  });
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
  std::vector<std::string> parts;
  if (o.image) parts.push_back("image registry " + o.image->registry);
  if (o.replicas) parts.push_back("replicas " + std::to_string(*o.replicas));
  if (o.labels) parts.push_back("labels");
  if (o.annotations) parts.push_back("annotations");
  for (const auto& c : o.containers) parts.push_back(c.name.empty() ? "every container" : "container " + c.name);
  if (!o.json_patch.empty()) {
    parts.push_back("jsonPatch, " + std::to_string(o.json_patch.size()) + " operation" +
                    (o.json_patch.size() == 1 ? "" : "s"));
  }
  std::string out = "overrides[" + std::to_string(index) + "]:";
  for (size_t i = 0; i < parts.size(); ++i) out += (i == 0 ? " " : ", ") + parts[i];
  return out;
}

Status ApplyOverride(const KindRules& rules, const v1::Override& o, Json& desired, bool autoscaled) {
  const Json before = desired;
  if (o.image) RewriteImages(rules, o.image->registry, desired);
  if (o.replicas && rules.replicas && !autoscaled) rules.replicas->Set(desired, *o.replicas);
  if (o.labels) ApplyMetadata(*o.labels, "labels", desired);
  if (o.annotations) ApplyMetadata(*o.annotations, "annotations", desired);
  for (const auto& c : o.containers) ApplyContainers(rules, c, desired);
  if (!o.json_patch.empty()) {
    Json ops = Json::array();
    for (const auto& op : o.json_patch) ops.push_back(Json::parse(apis::EncodeJson(op)));
    auto patched = ApplyJsonPatch(desired, ops);
    if (!patched.ok()) {
      desired = before;
      return Status(Reason::kInvalid, "jsonPatch: " + patched.status().message());
    }
    desired = std::move(patched).value();
  }
  if (std::string f = OwnedFieldChanged(before, desired); !f.empty()) {
    desired = before;
    return Status(Reason::kInvalid, "changes " + f + ", which tmcd owns on the copy");
  }
  return Status::Ok();
}

}  // namespace tmcd::sync
