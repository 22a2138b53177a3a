#include "kube/errors.h"

#include <nlohmann/json.hpp>

#include "common/strings.h"

namespace tmcd::kube {

Reason ReasonForCode(int http_code) {
  switch (http_code) {
    case 400:
      return Reason::kBadRequest;
    case 401:
      return Reason::kUnauthorized;
    case 403:
      return Reason::kForbidden;
    case 404:
      return Reason::kNotFound;
    case 405:
      return Reason::kMethodNotAllowed;
    case 406:
      return Reason::kNotAcceptable;
    case 409:
      return Reason::kConflict;
    case 410:
      return Reason::kGone;
    case 413:
      return Reason::kRequestEntityTooLarge;
    case 415:
      return Reason::kUnsupportedMediaType;
    case 422:
      return Reason::kInvalid;
    case 429:
      return Reason::kTooManyRequests;
    case 503:
      return Reason::kServiceUnavailable;
    case 504:
      return Reason::kTimeout;
    default:
      return http_code >= 500 ? Reason::kInternalError : Reason::kBadRequest;
  }
}

namespace {

// A string field of a peer's Status, "" when absent or of another type: a peer's JSON is not trusted
// to follow the schema (json::value would throw on a type mismatch).
std::string Field(const nlohmann::json& obj, const char* key) {
  const auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

Status DecodeStatus(int http_code, std::string_view body) {
  const nlohmann::json doc = JsonTooDeep(body) ? nlohmann::json(nullptr) : nlohmann::json::parse(body, nullptr, false);
  if (!doc.is_object() || Field(doc, "kind") != "Status") {
    std::string snippet = ValidUtf8(body.substr(0, 200));  // a peer's bytes become a message
    return {ReasonForCode(http_code), "HTTP " + std::to_string(http_code) + (snippet.empty() ? "" : ": " + snippet)};
  }
  Reason reason = ReasonForCode(http_code);
  const std::string name = Field(doc, "reason");
  if (auto known = ReasonFromName(name)) reason = *known;
  if (name == "ServerTimeout") reason = Reason::kTimeout;  // 500 "try again later"
  std::vector<Cause> causes;
  if (doc.contains("details") && doc["details"].is_object() && doc["details"].contains("causes") &&
      doc["details"]["causes"].is_array()) {
    for (const auto& c : doc["details"]["causes"]) {
      if (c.is_object()) causes.push_back({Field(c, "reason"), Field(c, "message"), Field(c, "field")});
    }
  }
  std::string message = Field(doc, "message");
  if (message.empty()) message = "HTTP " + std::to_string(http_code) + (name.empty() ? "" : " " + name);
  return {reason, std::move(message), std::move(causes)};
}

bool IsRetriable(const Status& s) {
  switch (s.reason()) {
    case Reason::kTooManyRequests:
    case Reason::kInternalError:
    case Reason::kServiceUnavailable:
    case Reason::kTimeout:
      return true;
    default:
      return false;
  }
}

}  // namespace tmcd::kube
