#pragma once
// Feature gates (docs/design/architecture.md §7). One master gate `TMC`; when it is false every sub-gate reads
// false whatever was set. A FeatureGates value is built once at startup and then only read, so
// concurrent reads are safe; Set/Parse are not thread-safe.

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace tmcd {

enum class Prerelease { kAlpha, kBeta, kGA };
std::string_view PrereleaseName(Prerelease p);

struct GateSpec {
  std::string_view name;
  bool default_value;
  Prerelease prerelease;
  std::string_view since;  // tmcd version that introduced it
  std::string_view owner;
  std::string_view description;
};

inline constexpr std::string_view kGateTMC = "TMC";
inline constexpr std::string_view kGateAPIExport = "TMCAPIExport";
inline constexpr std::string_view kGateAdvancedPlacement = "TMCAdvancedPlacement";
inline constexpr std::string_view kGateStatusAggregation = "TMCStatusAggregation";
inline constexpr std::string_view kGateTracing = "TMCTracing";

// The known gates, in display order (master first).
const std::vector<GateSpec>& KnownGates();

class FeatureGates {
 public:
  FeatureGates();
  // Parses "A=true,B=false" (spaces around items allowed, empty string = no change).
  Status Parse(std::string_view spec);
  // Sets one gate; unknown names and the wrong value type are errors.
  Status Set(std::string_view name, bool value);
  // The effective value: false for a sub-gate when TMC is off.
  bool Enabled(std::string_view name) const;
  // Whether the gate was set explicitly (rather than left at its default).
  bool Explicit(std::string_view name) const;
  // Effective values of every gate, by name.
  std::map<std::string, bool> Effective() const;
  // Text for --help: one line per gate with default, stage, since and owner.
  static std::string HelpText();

 private:
  std::map<std::string, bool, std::less<>> set_;
};

}  // namespace tmcd
