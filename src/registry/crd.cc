#include "registry/crd.h"

#include <algorithm>
#include <set>

#include "apis/meta/field_errors.h"
#include "apis/meta/names.h"
#include "common/strings.h"
#include "registry/structural.h"

namespace tmcd::registry {
namespace {

using Json = nlohmann::json;

const Json& At(const Json& obj, const char* key) {
  static const Json kNull;
  if (!obj.is_object()) return kNull;
  auto it = obj.find(key);
  return it == obj.end() ? kNull : *it;
}

std::string Str(const Json& obj, const char* key) {
  const Json& v = At(obj, key);
  return v.is_string() ? v.get<std::string>() : "";
}

// Keys tmcd reads at each level of a CRD; anything else would be accepted and ignored, so it is refused.
void OnlyKeys(const Json& obj, const std::string& field, std::initializer_list<const char*> keys,
              apis::FieldErrors& errs) {
  if (!obj.is_object()) return;
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    if (std::none_of(keys.begin(), keys.end(), [&](const char* k) { return it.key() == k; })) {
      errs.Forbidden(field + "." + it.key(), "not supported by tmcd (docs/custom-resources.md#limits)");
    }
  }
}

// A lowercase RFC 1035 label: what kube requires of plural, singular, shortNames and lowercased kinds.
void Label(const std::string& field, const std::string& v, apis::FieldErrors& errs) {
  auto problems = apis::CheckDNS1123Label(v);
  if (problems.empty() && !v.empty() && !(v[0] >= 'a' && v[0] <= 'z')) problems.push_back("must start with a letter");
  if (!problems.empty()) errs.Invalid(field, Quote(v), problems.front());
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

bool BuiltinGroup(const std::string& group) {
  for (const auto& r : ServedResources()) {
    if (r.group == group) return true;
  }
  return false;
}

bool ProtectedGroup(const std::string& g) {
  auto ends = [&](const std::string& suffix) {
    return g == suffix.substr(1) ||
           (g.size() > suffix.size() && g.compare(g.size() - suffix.size(), suffix.size(), suffix) == 0);
  };
  return ends(".k8s.io") || ends(".kubernetes.io");
}

void CheckScale(const Json& scale, const std::string& f, apis::FieldErrors& errs) {
  OnlyKeys(scale, f, {"specReplicasPath", "statusReplicasPath", "labelSelectorPath"}, errs);
  auto path = [&](const char* key, const char* under, bool required) {
    const std::string v = Str(scale, key);
    if (v.empty()) {
      if (required) errs.Required(f + "." + key);
      return;
    }
    if (v.rfind(under, 0) != 0 || v.find_first_of("[]*") != std::string::npos) {
      errs.Invalid(f + "." + key, Quote(v), std::string("should be a simple JSON path under ") + under);
    }
  };
  path("specReplicasPath", ".spec.", true);
  path("statusReplicasPath", ".status.", true);
  if (Str(scale, "labelSelectorPath").rfind(".spec.", 0) == 0) return;
  path("labelSelectorPath", ".status.", false);
}

void CheckVersion(const Json& v, const std::string& f, apis::FieldErrors& errs) {
  OnlyKeys(v, f, {"name", "served", "storage", "schema", "subresources", "additionalPrinterColumns"}, errs);
  Label(f + ".name", Str(v, "name"), errs);
  if (!At(v, "served").is_boolean()) errs.Required(f + ".served");
  if (!At(v, "storage").is_boolean()) errs.Required(f + ".storage");
  const Json& schema = At(At(v, "schema"), "openAPIV3Schema");
  OnlyKeys(At(v, "schema"), f + ".schema", {"openAPIV3Schema"}, errs);
  if (!schema.is_object()) {
    errs.Required(f + ".schema.openAPIV3Schema", "schemas are required");
  } else {
    CheckStructural(schema, f + ".schema.openAPIV3Schema", errs);
  }
  const Json& sub = At(v, "subresources");
  OnlyKeys(sub, f + ".subresources", {"status", "scale"}, errs);
  if (sub.contains("scale")) CheckScale(sub["scale"], f + ".subresources.scale", errs);
  const Json& cols = At(v, "additionalPrinterColumns");
  if (!cols.is_null() && !cols.is_array()) errs.Invalid(f + ".additionalPrinterColumns", "", "must be a list");
  for (size_t i = 0; cols.is_array() && i < cols.size(); ++i) {
    const std::string cf = f + ".additionalPrinterColumns[" + std::to_string(i) + "]";
    OnlyKeys(cols[i], cf, {"name", "type", "jsonPath", "description", "priority", "format"}, errs);
    if (Str(cols[i], "name").empty()) errs.Required(cf + ".name");
    if (Str(cols[i], "jsonPath").empty()) errs.Required(cf + ".jsonPath");
    static const std::vector<std::string_view> kTypes = {"boolean", "date", "integer", "number", "string"};
    const std::string type = Str(cols[i], "type");
    if (std::find(kTypes.begin(), kTypes.end(), type) == kTypes.end()) {
      errs.NotSupported(cf + ".type", Quote(type), kTypes);
    }
  }
}

}  // namespace

bool IsCrd(const ResourceInfo& r) {
  return r.group == kCrdGroup && r.resource == kCrdResource;
}

namespace {

void CheckGroup(const Json& crd, const std::string& group, apis::FieldErrors& errs) {
  if (group.empty()) {
    errs.Required("spec.group");
  } else if (auto p = apis::CheckDNS1123Subdomain(group); !p.empty()) {
    errs.Invalid("spec.group", Quote(group), p.front());
  } else if (group.find('.') == std::string::npos) {
    errs.Invalid("spec.group", Quote(group), "should be a domain with at least one dot");
  } else if (BuiltinGroup(group)) {
    errs.Invalid("spec.group", Quote(group), "is served by tmcd itself");
  } else if (ProtectedGroup(group) &&
             Str(At(At(crd, "metadata"), "annotations"), "api-approved.kubernetes.io").empty()) {
    errs.Invalid("metadata.annotations[api-approved.kubernetes.io]", "",
                 "protected groups must have approval annotation \"api-approved.kubernetes.io\", see "
                 "https://github.com/kubernetes/enhancements/pull/1111");
  }
}

// Checks spec.names and fills in singular and listKind.
void CheckNames(Json& names, apis::FieldErrors& errs) {
  OnlyKeys(names, "spec.names", {"plural", "singular", "kind", "listKind", "shortNames", "categories"}, errs);
  const std::string kind = Str(names, "kind");
  if (Str(names, "plural").empty()) errs.Required("spec.names.plural");
  if (kind.empty()) errs.Required("spec.names.kind");
  if (!kind.empty() && Str(names, "singular").empty()) names["singular"] = Lower(kind);
  if (!kind.empty() && Str(names, "listKind").empty()) names["listKind"] = kind + "List";
  for (const char* n : {"plural", "singular"}) {
    if (!Str(names, n).empty()) Label(std::string("spec.names.") + n, Str(names, n), errs);
  }
  for (const char* n : {"kind", "listKind"}) {
    if (!Str(names, n).empty()) Label(std::string("spec.names.") + n, Lower(Str(names, n)), errs);
  }
  for (const char* n : {"shortNames", "categories"}) {
    const Json& list = At(names, n);
    for (size_t i = 0; list.is_array() && i < list.size(); ++i) {
      Label("spec.names." + std::string(n) + "[" + std::to_string(i) + "]",
            list[i].is_string() ? list[i].get<std::string>() : "", errs);
    }
  }
}

void CheckVersions(const Json& versions, apis::FieldErrors& errs) {
  size_t storage = 0, served = 0;
  std::set<std::string> seen;
  if (!versions.is_array() || versions.empty()) {
    errs.Required("spec.versions", "must have exactly one version marked as storage version");
    return;
  }
  for (size_t i = 0; i < versions.size(); ++i) {
    const std::string f = "spec.versions[" + std::to_string(i) + "]";
    CheckVersion(versions[i], f, errs);
    if (!seen.insert(Str(versions[i], "name")).second) errs.Duplicate(f + ".name", Quote(Str(versions[i], "name")));
    storage += At(versions[i], "storage") == true;
    served += At(versions[i], "served") == true;
  }
  if (storage != 1) {
    errs.Invalid("spec.versions", std::to_string(storage), "must have exactly one version marked as storage version");
  }
  if (served > 1) {
    errs.Forbidden("spec.versions",
                   "tmcd serves one version of a custom resource (no conversion between versions "
                   "yet, docs/custom-resources.md#limits): mark the others served: false");
  }
}

// No kind or short name another CRD of the group already uses.
void CheckClashes(const Json& crd, const std::vector<Json>& others, apis::FieldErrors& errs) {
  const std::string group = Str(At(crd, "spec"), "group");
  const std::string name = Str(At(crd, "metadata"), "name");
  const Json& names = At(At(crd, "spec"), "names");
  for (const auto& other : others) {
    const Json& on = At(At(other, "spec"), "names");
    const std::string owner = Str(At(other, "metadata"), "name");
    if (Str(At(other, "spec"), "group") != group || owner == name) continue;
    if (Str(on, "kind") == Str(names, "kind")) {
      errs.Invalid("spec.names.kind", Quote(Str(names, "kind")), "is already in use by " + owner);
    }
    std::set<std::string> taken;
    for (const auto& s : At(on, "shortNames")) taken.insert(s.is_string() ? s.get<std::string>() : "");
    taken.insert(Str(on, "singular"));
    for (const auto& s : At(names, "shortNames")) {
      if (s.is_string() && taken.count(s.get<std::string>()) != 0) {
        errs.Invalid("spec.names.shortNames", Quote(s.get<std::string>()), "is already in use by " + owner);
      }
    }
  }
}

}  // namespace

Status PrepareCrd(Json& crd, const Json* current, const std::vector<Json>& others) {
  apis::FieldErrors errs;
  OnlyKeys(crd, "", {"apiVersion", "kind", "metadata", "spec", "status"}, errs);
  Json& spec = crd["spec"];
  if (!spec.is_object()) spec = Json::object();
  OnlyKeys(spec, "spec", {"group", "names", "scope", "versions", "conversion", "preserveUnknownFields"}, errs);
  const std::string group = Str(spec, "group");
  CheckGroup(crd, group, errs);
  Json& names = spec["names"];
  if (!names.is_object()) names = Json::object();
  CheckNames(names, errs);
  const std::string name = Str(At(crd, "metadata"), "name");
  if (!group.empty() && !Str(names, "plural").empty() && name != Str(names, "plural") + "." + group) {
    errs.Invalid("metadata.name", Quote(name), "must be spec.names.plural+\".\"+spec.group");
  }
  const std::string scope = Str(spec, "scope");
  if (scope != "Namespaced" && scope != "Cluster") {
    errs.NotSupported("spec.scope", Quote(scope), {"Cluster", "Namespaced"});
  }
  if (At(spec, "preserveUnknownFields").is_boolean() && spec["preserveUnknownFields"].get<bool>()) {
    errs.Invalid("spec.preserveUnknownFields", "true", "must be false in v1");
  }
  if (!spec.contains("conversion")) spec["conversion"] = {{"strategy", "None"}};
  if (Str(spec["conversion"], "strategy") != "None") {
    errs.Forbidden("spec.conversion.strategy", "tmcd serves one version and calls no conversion webhook: only None");
  }
  CheckVersions(At(spec, "versions"), errs);
  if (current != nullptr && Str(At(*current, "spec"), "scope") != scope) {
    errs.Invalid("spec.scope", Quote(scope), "field is immutable");
  }
  CheckClashes(crd, others, errs);
  if (errs.empty()) return Status::Ok();
  return errs.ToStatus("CustomResourceDefinition.apiextensions.k8s.io", name);
}

void SetCrdStatus(Json& crd, const Json* current, const std::string& now) {
  const Json& spec = crd["spec"];
  Json status = Json::object();
  Json accepted = spec["names"];
  status["acceptedNames"] = accepted;
  const Json old_conditions = current != nullptr ? At(At(*current, "status"), "conditions") : Json();
  auto condition = [&](const std::string& type, const std::string& reason, const std::string& message) {
    std::string since = now;
    for (const auto& c : old_conditions.is_array() ? old_conditions : Json::array()) {
      if (Str(c, "type") == type && Str(c, "status") == "True") since = Str(c, "lastTransitionTime");
    }
    return Json{
        {"type", type}, {"status", "True"}, {"lastTransitionTime", since}, {"reason", reason}, {"message", message}};
  };
  status["conditions"] =
      Json::array({condition("NamesAccepted", "NoConflicts", "no conflicts found"),
                   condition("Established", "InitialNamesAccepted", "the initial names have been accepted")});
  if (At(crd, "metadata").contains("deletionTimestamp")) {
    status["conditions"].push_back(
        condition("Terminating", "InstanceDeletionInProgress", "CustomResource deletion is in progress"));
  }
  std::set<std::string> stored;
  if (current != nullptr) {
    for (const auto& v : At(At(*current, "status"), "storedVersions"))
      stored.insert(v.is_string() ? v.get<std::string>() : "");
  }
  for (const auto& v : spec["versions"]) {
    if (At(v, "storage") == true) stored.insert(Str(v, "name"));
  }
  status["storedVersions"] = stored;
  crd["status"] = std::move(status);
}

ResourceInfo CustomResource(const Json& crd) {
  const Json& spec = At(crd, "spec");
  const Json& names = At(spec, "names");
  ResourceInfo r;
  r.crd = Str(At(crd, "metadata"), "name");
  r.group = Str(spec, "group");
  r.resource = Str(names, "plural");
  r.singular = Str(names, "singular");
  r.kind = Str(names, "kind");
  r.namespaced = Str(spec, "scope") == "Namespaced";
  r.terminating = At(crd, "metadata").contains("deletionTimestamp");
  for (const auto& s : At(names, "shortNames")) r.short_names.push_back(s.get<std::string>());
  for (const auto& s : At(names, "categories")) r.categories.push_back(s.get<std::string>());
  for (const auto& v : At(spec, "versions")) {
    if (At(v, "served") != true) continue;
    r.version = Str(v, "name");
    r.schema = std::make_shared<const Json>(At(At(v, "schema"), "openAPIV3Schema"));
    const Json& sub = At(v, "subresources");
    r.has_status = sub.contains("status");
    if (sub.contains("scale")) {
      r.scale = true;
      r.spec_replicas_path = Str(sub["scale"], "specReplicasPath");
      r.status_replicas_path = Str(sub["scale"], "statusReplicasPath");
      r.label_selector_path = Str(sub["scale"], "labelSelectorPath");
    }
    const Json& cols = At(v, "additionalPrinterColumns");
    if (!cols.is_array() || cols.empty()) r.columns = {{"Age", "date", ".metadata.creationTimestamp", "", 0}};
    for (const auto& c : cols.is_array() ? cols : Json::array()) {
      r.columns.push_back({Str(c, "name"), Str(c, "type"), Str(c, "jsonPath"), Str(c, "description"),
                           At(c, "priority").is_number_integer() ? c["priority"].get<int>() : 0});
    }
  }
  return r;
}

}  // namespace tmcd::registry
