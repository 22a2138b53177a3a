#pragma once
// The columns kube-apiserver prints for the built-in kinds tmcd serves (its internal printers: `kubectl
// get` and `-o wide`), computed from the object rather than JSONPath, as kube does: Deployment READY
// "ready/desired", Service PORT(S) "80:30080/TCP", ConfigMap DATA counts, and so on.
// Design: docs/local-api.md#table-output. Pure; thread-safe.

#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace tmcd::api {

struct BuiltinColumn {
  std::string_view name;
  std::string_view type;  // string | integer | date
  int priority = 0;       // 1: only with -o wide
  std::string_view description;
};

struct BuiltinPrinter {
  std::vector<BuiltinColumn> columns;  // after NAME
  std::function<nlohmann::json(const nlohmann::json& obj, std::chrono::system_clock::time_point now)> cells;
  bool name_column = true;  // false: `columns` are all (Events lead with LAST SEEN)
};

// Null when tmcd prints `kind` from its printer columns (the TMC kinds) or only NAME and AGE.
const BuiltinPrinter* FindBuiltinPrinter(std::string_view kind);

}  // namespace tmcd::api
