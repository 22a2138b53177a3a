#pragma once
// Query-string building for API requests. Pure; thread-safe.

#include <string>
#include <string_view>

namespace tmcd::kube {

// Percent-encodes everything but RFC 3986 unreserved characters.
std::string QueryEscape(std::string_view s);
// Appends "?key=value" or "&key=value"; nothing when `value` is empty.
void AddParam(std::string& path, std::string_view key, std::string_view value);

}  // namespace tmcd::kube
