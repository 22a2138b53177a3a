#pragma once
// Parses Kubernetes-style request paths, with the optional kcp-style workspace prefix:
//   [/clusters/<ws>]/api/v1/[namespaces/<ns>/]<resource>[/<name>[/<subresource>]]
//   [/clusters/<ws>]/apis/<group>/<version>/[namespaces/<ns>/]<resource>[/<name>[/<subresource>]]
// and the discovery roots /api, /api/v1, /apis, /apis/<group>, /apis/<group>/<version>.
// Pure; thread-safe.

#include <string>
#include <string_view>

#include "common/status.h"
#include "registry/request.h"

namespace tmcd::api {

using registry::kDefaultWorkspace;

// A parsed URL: a registry request plus where in the API tree it points.
struct RequestPath : registry::Request {
  enum class Kind { kDiscoveryRoot, kDiscoveryGroup, kDiscoveryVersion, kResource } kind = Kind::kResource;
  bool core = false;  // /api rather than /apis
};

// NotFound for paths outside the API; BadRequest for malformed workspace names.
Result<RequestPath> ParsePath(std::string_view path);
// kcp logical-cluster path syntax: "root", "root:org:team" ([a-z0-9] segments with '-', joined by ':').
bool IsWorkspaceName(std::string_view ws);

}  // namespace tmcd::api
