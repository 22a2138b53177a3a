#pragma once
// Discovery documents (/api, /api/v1, /apis, /apis/<g>, /apis/<g>/<v>) built from what the
// workspace serves (registry::Catalog).
// Pure; thread-safe.

#include <nlohmann/json.hpp>

#include "api/request.h"
#include "common/status.h"
#include "registry/catalog.h"

namespace tmcd::api {

// `read_only`: every resource offers only get, list and watch (kcp mode).
Result<nlohmann::json> Discovery(const RequestPath& p, bool read_only,
                                 const std::vector<registry::ResourcePtr>& served);

}  // namespace tmcd::api
