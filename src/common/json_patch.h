#pragma once
// RFC 6902 JSON Patch for the API's PATCH (application/json-patch+json), over nlohmann's patch.
// nlohmann's `add` asserts (aborts the process) when the parent of the target path is a string,
// number or boolean, instead of throwing; a patch such as [{"op":"add","path":"/kind/x","value":1}]
// would kill tmcd. The operations are applied one at a time, and `add`, `copy` and `move` are
// refused first when their target's parent is such a value (docs/reliability.md#hostile-input).

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace tmcd {

// The patched document, or an Invalid status that says why the patch does not apply.
Result<nlohmann::json> ApplyJsonPatch(const nlohmann::json& doc, const nlohmann::json& ops);

}  // namespace tmcd
