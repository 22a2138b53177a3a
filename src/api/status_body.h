#pragma once
// Kubernetes `Status` response bodies (kind: Status, apiVersion: v1) for errors and for successful
// deletes without an object. Pure; thread-safe.

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "common/status.h"

namespace tmcd::api {

struct StatusDetails {
  std::string name;
  std::string group;
  std::string kind;  // the resource, as the API server puts it
  int retry_after_seconds = 0;
};

nlohmann::json StatusBody(const Status& status, const StatusDetails& details = {});

}  // namespace tmcd::api
