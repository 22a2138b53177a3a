#include "sync/custom.h"

#include <spdlog/spdlog.h>

namespace tmcd::sync {
namespace {

namespace v1 = apis::v1alpha1;

Result<std::optional<JsonPath>> Optional(const std::string& text) {
  if (text.empty()) return std::optional<JsonPath>();
  TMCD_ASSIGN_OR_RETURN(JsonPath p, JsonPath::Parse(text));
  return std::optional<JsonPath>(std::move(p));
}

}  // namespace

Result<KindRules> RulesFromInterpreter(const v1::ResourceInterpreter& ri) {
  const auto& s = ri.spec;
  KindRules r = GenericRules(s.target.group, s.target.version, s.target.resource, s.target.kind);
  TMCD_ASSIGN_OR_RETURN(r.replicas, Optional(s.replicas));
  TMCD_ASSIGN_OR_RETURN(r.pod_template, Optional(s.pod_template));
  r.selected_services = r.pod_template.has_value();
  for (const auto& d : s.dependencies) {
    TMCD_ASSIGN_OR_RETURN(JsonPath p, JsonPath::Parse(d.path));
    r.dependencies.push_back({std::move(p), d.group, d.version, d.resource});
  }
  for (const auto& f : s.strip) {
    TMCD_ASSIGN_OR_RETURN(JsonPath p, JsonPath::Parse(f));
    r.strip.push_back(std::move(p));
  }
  for (const auto& f : s.status) {
    TMCD_ASSIGN_OR_RETURN(JsonPath p, JsonPath::Parse(f.path));
    auto op = ParseAggregation(f.aggregation);
    if (!op) return Invalid("unknown aggregation " + f.aggregation);
    r.status.push_back({std::move(p), *op});
  }
  r.any_conditions = s.any_conditions;
  r.observed_generation = s.observed_generation;
  const auto& h = s.health;
  if (h.rule == "Condition") {
    r.health.rule = Health::Rule::kCondition;
    r.health.condition = h.condition;
  } else if (h.rule == "Counter") {
    r.health.rule = Health::Rule::kCounter;
    TMCD_ASSIGN_OR_RETURN(r.health.ready, JsonPath::Parse(h.ready));
    if (!h.desired.empty()) {
      TMCD_ASSIGN_OR_RETURN(r.health.desired, JsonPath::Parse(h.desired));
    }
  } else if (h.rule == "Phase") {
    r.health.rule = Health::Rule::kPhase;
    r.health.phase = h.phase;
  } else {
    r.health.rule = Health::Rule::kApplied;
  }
  return r;
}

Result<KindRules> RulesFromChecked(const v1::ResourceInterpreter& ri) {
  TMCD_TRY(v1::ValidateObject(ri));
  return RulesFromInterpreter(ri);
}

Result<KindRules> RulesFromStored(std::string_view json) {
  TMCD_ASSIGN_OR_RETURN(const auto ri, v1::DecodeStored<v1::ResourceInterpreter>(json));
  return RulesFromChecked(ri);
}

RulesPtr CustomKinds::Find(const std::string& ws, const std::string& group, const std::string& resource) const {
  std::lock_guard lock(mu_);
  auto w = rules_.find(ws);
  if (w == rules_.end()) return nullptr;
  auto it = w->second.find(resource + "." + group);
  return it == w->second.end() ? nullptr : it->second.rules;
}

std::vector<RulesPtr> CustomKinds::InWorkspace(const std::string& ws) const {
  std::lock_guard lock(mu_);
  std::vector<RulesPtr> out;
  if (auto w = rules_.find(ws); w != rules_.end()) {
    for (const auto& [name, e] : w->second) {
      if (e.rules) out.push_back(e.rules);
    }
  }
  return out;
}

CustomKinds::Change CustomKinds::Update(const store::ObjectKey& k, const std::string& json) {
  Change c;
  std::string spec;
  if (!json.empty()) {
    auto parsed = nlohmann::json::parse(json, nullptr, false);
    spec = parsed.is_object() ? parsed.value("spec", nlohmann::json()).dump() : json;
    auto rules = RulesFromStored(json);
    if (rules.ok() && rules->GroupResource() != k.name) {
      rules = Status(Reason::kInvalid, "its name is not its target's <resource>.<group>");
    }
    if (rules.ok()) {
      c.now = std::make_shared<const KindRules>(std::move(rules).value());
    } else {
      spdlog::warn("ResourceInterpreter {} in {} is not usable: {}", k.name, k.workspace, rules.status().message());
    }
  }
  std::lock_guard lock(mu_);
  auto& ws = rules_[k.workspace];
  auto it = ws.find(k.name);
  if (it != ws.end()) c.before = it->second.rules;
  c.spec_changed = it == ws.end() || json.empty() || it->second.spec != spec;
  if (json.empty()) {
    if (it != ws.end()) ws.erase(it);
    if (ws.empty()) rules_.erase(k.workspace);
  } else {
    ws[k.name] = Entry{c.now, std::move(spec)};
  }
  return c;
}

}  // namespace tmcd::sync
