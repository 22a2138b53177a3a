#pragma once
// OpenAPI v3 documents for kubectl: /openapi/v3 (the index) and /openapi/v3/<api|apis/g>/<v> (one per
// group-version). The TMC types carry the same schemas as the generated CRDs, so `kubectl explain`
// shows their field docs; generic workload types get permissive schemas. Each PATCH operation
// lists the fieldValidation query parameter, which is how kubectl learns that the server validates
// strictly itself. Pure; thread-safe.

#include <nlohmann/json.hpp>
#include <string_view>

#include "common/status.h"

namespace tmcd::api {

nlohmann::json OpenApiIndex();
// `gv_path`: "api/v1" or "apis/<group>/<version>".
Result<nlohmann::json> OpenApiDocument(std::string_view gv_path);

}  // namespace tmcd::api
