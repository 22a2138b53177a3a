#pragma once
// Writing JSON and Status responses; shared by the server's translation units.

#include <nlohmann/json.hpp>

#include "api/status_body.h"
#include "common/status.h"
#include "net/http_message.h"

namespace tmcd::api {

inline void Reply(net::HttpResponse& res, int code, const nlohmann::json& body) {
  res.status = code;
  // Replacement characters instead of an exception: an error message may quote a client's bytes.
  res.SetContent(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), "application/json");
}

inline void ReplyError(net::HttpResponse& res, const Status& s, const StatusDetails& d = {}) {
  Reply(res, HttpCode(s.reason()), StatusBody(s, d));
}

}  // namespace tmcd::api
