#pragma once
// Generated manifests for the exported kinds, from the same Reflect() declarations as the codec:
// CRDs (plain Kubernetes) and kcp APIResourceSchemas + the APIExport. The checked-in copies under
// config/ are compared against these by a unit test.

#include <string>
#include <vector>

#include "apis/meta/reflect.h"
#include "common/config.h"

namespace tmcd::apis::v1alpha1 {

struct Manifest {
  std::string path;  // relative to the repository root, e.g. config/crds/tmc.kcp.io_clusterregistrations.yaml
  std::string yaml;
};

inline constexpr std::string_view kExportName = "tmc.kcp.io";

// The openAPIV3Schema of a kind, by plural ("clusterregistrations").
OrderedJson OpenAPISchema(std::string_view plural);
// CRD documents, one per exported kind.
std::vector<Manifest> CrdManifests();
// APIResourceSchemas (content-addressed names) and the APIExport that serves them: the export as
// apis.kcp.io/v1alpha2 (config/kcp/apiexport.yaml) and as v1alpha1 for kcp before v0.28
// (config/kcp/v1alpha1/apiexport.yaml).
std::vector<Manifest> KcpManifests();
// The same as objects: every APIResourceSchema (the TMC kinds, then with `workload_types` the
// workload kinds' schemas of workload_schemas.h), then the APIExport in
// `export_version` ("v1alpha1" or "v1alpha2"). Core-group schemas are named <prefix>.<plural>.core.
// `claimed` adds permission claims (with their identity hash) for other exports' resources, which
// tmcd syncs and writes status, finalizers and labels on (upstream.claimedResources).
std::vector<OrderedJson> KcpObjects(std::string_view export_version, bool workload_types,
                                    const std::vector<ClaimedResource>& claimed = {});
// The name prefix of an APIResourceSchema: "v" + 10 base36 chars of the SHA-256 of its spec, so a
// schema change yields a new immutable object and existing bindings keep the old one.
std::string SchemaPrefix(const OrderedJson& spec);
// Multi-document YAML of the given manifests.
std::string JoinYaml(const std::vector<Manifest>& manifests);

}  // namespace tmcd::apis::v1alpha1
