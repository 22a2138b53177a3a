#pragma once
// Decoding API errors: a non-2xx answer's Kubernetes `Status` body becomes a tmcd Status with the same
// reason, message and causes; bodies that are not a Status (proxies, load balancers) get a reason
// from the HTTP code. Also which failures a client may retry. Pure; thread-safe.

#include <string_view>

#include "common/status.h"

namespace tmcd::kube {

Status DecodeStatus(int http_code, std::string_view body);
Reason ReasonForCode(int http_code);
// 429, 5xx and transport failures (kServiceUnavailable) are worth retrying; the rest are permanent.
bool IsRetriable(const Status& s);
// The request never got an HTTP answer: connection, timeout or TLS failure (the client's messages
// for these start with "transport: " or "TLS: ").
inline bool IsTransportError(const Status& s) {
  return s.message().rfind("transport: ", 0) == 0 || s.message().rfind("TLS: ", 0) == 0;
}
// Gone/Expired: the resourceVersion is compacted; relist.
inline bool IsExpired(const Status& s) {
  return s.reason() == Reason::kGone || s.reason() == Reason::kExpired;
}

}  // namespace tmcd::kube
