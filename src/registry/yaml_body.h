#pragma once
// A request body or a file in JSON or YAML (server-side apply bodies, `tmcctl ... -f FILE`): YAML 1.2 core
// schema scalars, a node budget against alias expansion, depth bounded. Pure; thread-safe.

#include <nlohmann/json.hpp>
#include <string_view>

#include "common/status.h"

namespace tmcd::registry {

// The object in `body` (JSON first, then YAML); BadRequest when it is neither or not an object.
Result<nlohmann::json> ParseApplyBody(std::string_view body);

}  // namespace tmcd::registry
