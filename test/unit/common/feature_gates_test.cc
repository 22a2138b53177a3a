#include "common/feature_gates.h"

#include <doctest/doctest.h>

namespace tmcd {
namespace {

TEST_CASE("defaults and metadata of every gate") {
  FeatureGates g;
  CHECK(g.Enabled(kGateTMC));
  CHECK(g.Enabled(kGateAPIExport));
  CHECK_FALSE(g.Enabled(kGateAdvancedPlacement));
  CHECK(g.Enabled(kGateStatusAggregation));
  CHECK_FALSE(g.Enabled(kGateTracing));
  CHECK_FALSE(g.Enabled("Nope"));
  for (const auto& spec : KnownGates()) {
    CHECK(spec.since == "0.1");
    CHECK(spec.owner == "@jessesanford");
    CHECK(spec.prerelease == Prerelease::kAlpha);
  }
}

TEST_CASE("parse sets gates and rejects bad input") {
  struct Row {
    std::string spec;
    bool ok;
    std::string error_part;
  };
  for (const Row& r : std::initializer_list<Row>{
           {"", true, ""},
           {"TMCAdvancedPlacement=true", true, ""},
           {" TMC = true , TMCTracing=TRUE ", true, ""},
           {"Nope=true", false, "unknown feature gate \"Nope\""},
           {"TMC=maybe", false, "invalid value \"maybe\""},
           {"TMC", false, "has no value"},
           {"TMC=true,,", false, "has no value"},
       }) {
    CAPTURE(r.spec);
    FeatureGates g;
    Status s = g.Parse(r.spec);
    CHECK(s.ok() == r.ok);
    if (!r.ok) CHECK(s.message().find(r.error_part) != std::string::npos);
  }
}

TEST_CASE("TMC=false forces every sub-gate off") {
  FeatureGates g;
  REQUIRE(g.Parse("TMCAdvancedPlacement=true,TMCTracing=true,TMC=false").ok());
  for (const auto& gate : g.Effective()) {  // no structured binding: clang 14 cannot capture one
    const auto& name = gate.first;
    CAPTURE(name);
    CHECK_FALSE(gate.second);
  }
  CHECK(g.Explicit(kGateAdvancedPlacement));
  REQUIRE(g.Set(kGateTMC, true).ok());
  CHECK(g.Enabled(kGateAdvancedPlacement));
}

TEST_CASE("help text lists every gate with stage, version and owner") {
  std::string help = FeatureGates::HelpText();
  for (const auto& spec : KnownGates()) CHECK(help.find(std::string(spec.name) + "=") != std::string::npos);
  CHECK(help.find("Alpha, since 0.1, owner @jessesanford") != std::string::npos);
}

}  // namespace
}  // namespace tmcd
