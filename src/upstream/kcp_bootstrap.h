#pragma once
// kcp mode, provider side (docs/design/architecture.md §1): make tmcd's provider workspace serve the TMC APIs.
// BootstrapExport creates the content-addressed APIResourceSchemas that are missing and creates or
// updates the APIExport to point at them, in whichever APIExport version the kcp serves (v1alpha2,
// or v1alpha1 before kcp v0.28). Idempotent: a second run changes nothing; a schema change adds a new
// schema object and moves the export to it, leaving the old schema for existing bindings.
// ExportEndpoints finds the virtual-workspace URLs through which tmcd sees every bound workspace.
// Thread-safe (stateless; uses the client's own thread safety).

#include <string>
#include <vector>

#include "common/config.h"
#include "kube/client.h"

namespace tmcd::upstream {

struct BootstrapResult {
  std::string export_version;  // "v1alpha1" or "v1alpha2"
  std::vector<std::string> created;
  std::vector<std::string> updated;
  std::vector<std::string> unchanged;
};

// `workspace` is the provider workspace's logical-cluster path, e.g. "root:tmc". `workload_types`
// also exports the schemas of the workload kinds kcp does not serve (upstream.exportWorkloadTypes).
// `claimed` become permission claims of the export (upstream.claimedResources).
Result<BootstrapResult> BootstrapExport(kube::Client& c, const std::string& workspace, bool workload_types = true,
                                        const std::vector<ClaimedResource>& claimed = {});

// The export's virtual-workspace URLs: from its APIExportEndpointSlice (created, named after the
// export, when missing), else from the export's status.virtualWorkspaces (kcp before v0.28).
// Empty while kcp has not published any yet.
Result<std::vector<std::string>> ExportEndpoints(kube::Client& c, const std::string& workspace);

}  // namespace tmcd::upstream
