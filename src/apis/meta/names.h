#pragma once
// Kubernetes name and label syntax checks (k8s.io/apimachinery/pkg/util/validation). Each returns
// the list of problems ("" ok) so callers can put them into FieldErrors. Pure; thread-safe.

#include <string>
#include <string_view>
#include <vector>

namespace tmcd::apis {

std::vector<std::string> CheckDNS1123Label(std::string_view s);      // ≤63, [a-z0-9]([-a-z0-9]*[a-z0-9])?
std::vector<std::string> CheckDNS1123Subdomain(std::string_view s);  // ≤253, labels joined by '.'
std::vector<std::string> CheckQualifiedName(std::string_view s);     // [prefix/]name, label keys
std::vector<std::string> CheckLabelValue(std::string_view s);        // ≤63, may be empty
// An https URL with a host (http allowed when allow_http). Returns problems.
std::vector<std::string> CheckServerURL(std::string_view s, bool allow_http);

}  // namespace tmcd::apis
