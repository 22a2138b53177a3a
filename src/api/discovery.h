#pragma once
// Discovery documents (/api, /api/v1, /apis, /apis/<g>, /apis/<g>/<v>) built from ServedResources().
// Pure; thread-safe.

#include <nlohmann/json.hpp>

#include "api/request.h"
#include "common/status.h"

namespace tmcd::api {

// `read_only`: every resource offers only get, list and watch (kcp mode).
Result<nlohmann::json> Discovery(const RequestPath& p, bool read_only);

}  // namespace tmcd::api
