#pragma once
// Writing JSON and Status responses; shared by the server's translation units. Include only from
// files that include <httplib.h> through the cpp-httplib dependency (its defines must match).

#include <httplib.h>

#include <nlohmann/json.hpp>

#include "api/status_body.h"
#include "common/status.h"

namespace tmcd::api {

inline void Reply(httplib::Response& res, int code, const nlohmann::json& body) {
  res.status = code;
  res.set_content(body.dump(), "application/json");
}

inline void ReplyError(httplib::Response& res, const Status& s, const StatusDetails& d = {}) {
  Reply(res, HttpCode(s.reason()), StatusBody(s, d));
}

}  // namespace tmcd::api
