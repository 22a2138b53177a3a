#include "common/feature_gates.h"

#include <algorithm>

#include "common/strings.h"

namespace tmcd {

std::string_view PrereleaseName(Prerelease p) {
  switch (p) {
    case Prerelease::kAlpha:
      return "Alpha";
    case Prerelease::kBeta:
      return "Beta";
    case Prerelease::kGA:
      return "GA";
  }
  return "Unknown";
}

const std::vector<GateSpec>& KnownGates() {
  static const std::vector<GateSpec> kGates = {
      {kGateTMC, true, Prerelease::kAlpha, "0.1", "@jessesanford",
       "Master switch: when false every TMC sub-gate is off and tmcd only serves its API, health and metrics."},
      {kGateAPIExport, true, Prerelease::kAlpha, "0.1", "@jessesanford",
       "kcp integration: APIExport bootstrap and virtual-workspace informers (upstream.kind: kcp)."},
      {kGateAdvancedPlacement, false, Prerelease::kAlpha, "0.1", "@jessesanford",
       "Scoring, capacity, spread constraints, Divided replicas and overrides; off = filter + round-robin."},
      {kGateStatusAggregation, true, Prerelease::kAlpha, "0.1", "@jessesanford",
       "Aggregate downstream workload status into the upstream object's status."},
      {kGateTracing, false, Prerelease::kAlpha, "0.1", "@jessesanford",
       "W3C traceparent propagation and OTLP/HTTP span export."},
  };
  return kGates;
}

namespace {
const GateSpec* Find(std::string_view name) {
  const auto& gates = KnownGates();
  auto it = std::find_if(gates.begin(), gates.end(), [&](const GateSpec& g) { return g.name == name; });
  return it == gates.end() ? nullptr : &*it;
}

std::string KnownNames() {
  std::vector<std::string> names;
  for (const auto& g : KnownGates()) names.emplace_back(g.name);
  return Join(names, ", ");
}
}  // namespace

FeatureGates::FeatureGates() = default;

Status FeatureGates::Set(std::string_view name, bool value) {
  if (Find(name) == nullptr) {
    return BadRequest("unknown feature gate " + Quote(name) + " (known: " + KnownNames() + ")");
  }
  set_[std::string(name)] = value;
  return Status::Ok();
}

Status FeatureGates::Parse(std::string_view spec) {
  if (Trim(spec).empty()) return Status::Ok();
  for (const auto& raw : Split(spec, ',')) {
    std::string_view item = Trim(raw);
    auto eq = item.find('=');
    if (eq == std::string_view::npos) {
      return BadRequest("feature gate " + Quote(item) + " has no value: want NAME=true|false");
    }
    std::string_view name = Trim(item.substr(0, eq));
    std::string value = ToLower(Trim(item.substr(eq + 1)));
    if (value != "true" && value != "false") {
      return BadRequest("feature gate " + Quote(name) + " has invalid value " + Quote(item.substr(eq + 1)) +
                        ": want true or false");
    }
    TMCD_TRY(Set(name, value == "true"));
  }
  return Status::Ok();
}

bool FeatureGates::Enabled(std::string_view name) const {
  const GateSpec* spec = Find(name);
  if (spec == nullptr) return false;
  if (name != kGateTMC && !Enabled(kGateTMC)) return false;
  auto it = set_.find(name);
  return it == set_.end() ? spec->default_value : it->second;
}

bool FeatureGates::Explicit(std::string_view name) const {
  return set_.find(name) != set_.end();
}

std::map<std::string, bool> FeatureGates::Effective() const {
  std::map<std::string, bool> out;
  for (const auto& g : KnownGates()) out[std::string(g.name)] = Enabled(g.name);
  return out;
}

std::string FeatureGates::HelpText() {
  std::string out = "Feature gates (--feature-gates=NAME=true|false,... or featureGates: in the config):\n";
  for (const auto& g : KnownGates()) {
    out += "  " + std::string(g.name) + "=" + (g.default_value ? "true" : "false");
    out += " (" + std::string(PrereleaseName(g.prerelease)) + ", since " + std::string(g.since) + ", owner " +
           std::string(g.owner) + ")\n      " + std::string(g.description) + "\n";
  }
  return out;
}

}  // namespace tmcd
