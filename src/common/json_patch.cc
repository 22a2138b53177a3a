#include "common/json_patch.h"

#include <string>

namespace tmcd {
namespace {

using Json = nlohmann::json;

Status NotApplicable(const std::string& why) {
  return Status(Reason::kInvalid, "the JSON patch could not be applied: " + why);
}

}  // namespace

Result<Json> ApplyJsonPatch(const Json& doc, const Json& ops) {
  if (!ops.is_array()) return NotApplicable("a JSON patch must be an array of operations");
  Json out = doc;
  try {
    for (const Json& op : ops) {
      if (!op.is_object() || !op.contains("op") || !op["op"].is_string() || !op.contains("path") ||
          !op["path"].is_string()) {
        return NotApplicable("every operation needs string members \"op\" and \"path\"");
      }
      const std::string kind = op["op"].get<std::string>();
      if (kind == "add" || kind == "copy" || kind == "move") {
        const Json::json_pointer target(op["path"].get<std::string>());
        if (!target.empty()) {
          const Json::json_pointer parent = target.parent_pointer();
          if (out.contains(parent) && out.at(parent).is_primitive() && !out.at(parent).is_null()) {
            return NotApplicable("cannot " + kind + " at " + op["path"].get<std::string>() + ": its parent " +
                                 parent.to_string() + " is not an object or an array");
          }
        }
      }
      out.patch_inplace(Json::array({op}));  // in place: no copy of the document per operation
    }
  } catch (const Json::exception& e) {
    return NotApplicable(e.what());
  }
  return out;
}

}  // namespace tmcd
