#include "api/status_body.h"

namespace tmcd::api {

nlohmann::json StatusBody(const Status& status, const StatusDetails& details) {
  nlohmann::json body = {{"kind", "Status"}, {"apiVersion", "v1"}, {"metadata", nlohmann::json::object()}};
  body["status"] = status.ok() ? "Success" : "Failure";
  body["message"] = status.message();
  if (!status.ok()) body["reason"] = std::string(ReasonName(status.reason()));
  nlohmann::json d = nlohmann::json::object();
  if (!details.name.empty()) d["name"] = details.name;
  if (!details.group.empty()) d["group"] = details.group;
  if (!details.kind.empty()) d["kind"] = details.kind;
  if (details.retry_after_seconds > 0) d["retryAfterSeconds"] = details.retry_after_seconds;
  if (!status.causes().empty()) {
    d["causes"] = nlohmann::json::array();
    for (const auto& c : status.causes()) {
      d["causes"].push_back({{"reason", c.reason}, {"message", c.message}, {"field", c.field}});
    }
  }
  if (!d.empty()) body["details"] = d;
  body["code"] = HttpCode(status.reason());
  return body;
}

}  // namespace tmcd::api
