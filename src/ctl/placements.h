#pragma once
// `tmcctl placement ...` (docs/tmcctl.md "Placements"): create, list, describe, explain, simulate,
// delete WorkloadPlacements in a namespace. Each returns the process exit code.

#include <string>
#include <vector>

#include "ctl/session.h"

namespace tmcd::ctl {

struct PlacementFlags {
  std::string file;                    // -f: a WorkloadPlacement in YAML or JSON ("-" = stdin)
  std::vector<std::string> resources;  // resource[.group], default deployments.apps
  std::string selector;                // workload label selector, k=v[,k=v]
  std::vector<std::string> locations;
  std::vector<std::string> clusters;  // clusterNames
  std::string cluster_selector;       // cluster label selector, k=v[,k=v]
  int number_of_clusters = 0;
  std::string strategy;
  std::string replicas;  // Duplicated | Divided
  std::string deletion_policy;
  bool dry_run = false;
};

// The WorkloadPlacement the flags (or the file) describe; usage errors as BadRequest.
Result<Json> PlacementFromFlags(const std::string& name, const std::string& ns, const PlacementFlags& f);

int PlacementCreate(Session& s, const std::string& name, const PlacementFlags& f);
int PlacementList(Session& s, const std::vector<std::string>& names, bool watch = false);
int PlacementDescribe(Session& s, const std::string& name);
int PlacementExplain(Session& s, const std::string& name);
// Evaluates the placement in the file now (the explain endpoint's dry run): nothing is stored.
int PlacementSimulate(Session& s, const std::string& file);
int PlacementDelete(Session& s, const std::string& name);

// The explain document as a table: CLUSTER LOCATION FEASIBLE CHOSEN SCORE WHY.
std::string ExplainText(const Json& explanation);

}  // namespace tmcd::ctl
