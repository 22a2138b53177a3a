#pragma once
// OpenAPI v3 documents for kubectl: /openapi/v3 (the index) and /openapi/v3/<api|apis/g>/<v> (one per
// group-version). The TMC types carry the same schemas as the generated CRDs, so `kubectl explain`
// shows their field docs; custom resources carry their CRDs' schemas; generic workload types get
// permissive schemas. Each PATCH operation
// lists the fieldValidation query parameter, which is how kubectl learns that the server validates
// strictly itself. Pure; thread-safe.

#include <nlohmann/json.hpp>
#include <string_view>

#include "common/status.h"
#include "registry/catalog.h"

namespace tmcd::api {

// `served`: what the workspace serves (registry::Catalog), custom resources with their CRDs' schemas.
nlohmann::json OpenApiIndex(const std::vector<registry::ResourcePtr>& served);
// `gv_path`: "api/v1" or "apis/<group>/<version>".
Result<nlohmann::json> OpenApiDocument(std::string_view gv_path, const std::vector<registry::ResourcePtr>& served);

}  // namespace tmcd::api
