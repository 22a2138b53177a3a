#pragma once
// meta.k8s.io/v1 Table responses for `Accept: application/json;as=Table;v=v1;g=meta.k8s.io`, which
// kubectl get asks for: the resource's printer columns (a JSONPath subset: .a.b, [n], [*],
// [?(@.k=="v")]), dates as human ages, and PartialObjectMetadata per row. Pure; thread-safe.

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "registry/resources.h"

namespace tmcd::api {

using registry::ResourceInfo;

bool WantsTable(std::string_view accept);
// `objects`: one object or a list's items; `now` for ages.
nlohmann::json ToTable(const ResourceInfo& r, const std::vector<nlohmann::json>& objects, const std::string& rv,
                       std::chrono::system_clock::time_point now);
// The values a JSONPath selects, rendered as the API server renders printer-column cells.
std::vector<nlohmann::json> EvalJsonPath(const nlohmann::json& obj, std::string_view path);
std::string HumanAge(std::chrono::seconds age);

}  // namespace tmcd::api
