#include "apis/tmc/v1alpha1/resource_interpreter.h"

#include "apis/meta/json_path.h"
#include "apis/meta/names.h"
#include "apis/tmc/v1alpha1/register.h"
#include "common/strings.h"

namespace tmcd::apis::v1alpha1 {
namespace {

void Path(const std::string& value, const std::string& field, bool wildcard_ok, FieldErrors& errs) {
  if (value.empty()) return;
  auto p = JsonPath::Parse(value);
  if (!p.ok()) {
    errs.Invalid(field, Quote(value), p.status().message());
  } else if (!wildcard_ok && p->HasWildcard()) {
    errs.Invalid(field, Quote(value), "must name one field (no [*])");
  }
}

void Resource(const std::string& value, const std::string& field, FieldErrors& errs) {
  if (auto problems = CheckDNS1123Label(value); !problems.empty()) errs.Invalid(field, Quote(value), problems[0]);
}

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

void CheckRules(const ResourceInterpreterSpec& s, const std::string& path, FieldErrors& errs) {
  const std::string t = JoinPath(path, "target");
  const std::string& g = s.target.group;
  if (auto problems = CheckDNS1123Subdomain(g); !g.empty() && !problems.empty()) {
    errs.Invalid(JoinPath(t, "group"), Quote(g), problems[0]);
  } else if (!g.empty() && (g.find('.') == std::string::npos || g == kGroup || EndsWith(g, ".k8s.io") ||
                            EndsWith(g, ".kubernetes.io") || g == "k8s.io")) {
    errs.Invalid(JoinPath(t, "group"), Quote(g),
                 "must be a custom resource's group (the built-in kinds have built-in rules, docs/interpreter.md)");
  }
  if (!s.target.resource.empty()) Resource(s.target.resource, JoinPath(t, "resource"), errs);
  Path(s.replicas, JoinPath(path, "replicas"), false, errs);
  Path(s.pod_template, JoinPath(path, "podTemplate"), false, errs);
  for (size_t i = 0; i < s.dependencies.size(); ++i) {
    const std::string d = IndexPath(JoinPath(path, "dependencies"), i);
    Path(s.dependencies[i].path, JoinPath(d, "path"), true, errs);
    Resource(s.dependencies[i].resource, JoinPath(d, "resource"), errs);
  }
  for (size_t i = 0; i < s.strip.size(); ++i) Path(s.strip[i], IndexPath(JoinPath(path, "strip"), i), true, errs);
  for (size_t i = 0; i < s.status.size(); ++i) {
    Path(s.status[i].path, JoinPath(IndexPath(JoinPath(path, "status"), i), "path"), false, errs);
  }
  const std::string h = JoinPath(path, "health");
  const InterpreterHealth& health = s.health;
  auto only = [&](bool used, const std::string& value, const char* field) {
    if (!used && !value.empty()) errs.Forbidden(JoinPath(h, field), "not used by rule " + health.rule);
    if (used && value.empty() && std::string(field) != "desired") errs.Required(JoinPath(h, field));
  };
  only(health.rule == "Condition", health.condition, "condition");
  only(health.rule == "Counter", health.ready, "ready");
  only(health.rule == "Counter", health.desired, "desired");
  only(health.rule == "Phase", health.phase, "phase");
  Path(health.ready, JoinPath(h, "ready"), false, errs);
  Path(health.desired, JoinPath(h, "desired"), false, errs);
}

void CheckRules(const ResourceInterpreter& r, const std::string& path, FieldErrors& errs) {
  CheckTypeMeta(r.api_version, r.kind, "ResourceInterpreter", path, errs);
  CheckObjectName(r.metadata, /*label_rule=*/false, JoinPath(path, "metadata"), errs);
  const std::string want = r.spec.target.resource + "." + r.spec.target.group;
  if (r.metadata.name != want) {
    errs.Invalid(JoinPath(path, "metadata.name"), Quote(r.metadata.name),
                 "must be <spec.target.resource>.<spec.target.group> (" + want + ")");
  }
}

}  // namespace tmcd::apis::v1alpha1
