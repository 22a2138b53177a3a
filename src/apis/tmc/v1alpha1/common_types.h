#pragma once
// Types shared by the tmc.kcp.io/v1alpha1 kinds, and the group/version constants.

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "apis/meta/field_errors.h"
#include "apis/meta/reflect.h"

namespace tmcd::apis::v1alpha1 {

inline constexpr std::string_view kGroup = "tmc.kcp.io";
inline constexpr std::string_view kVersion = "v1alpha1";
inline constexpr std::string_view kAPIVersion = "tmc.kcp.io/v1alpha1";

// Lower-case RFC 1123 label, used for locations, zones, providers and cluster names.
inline constexpr std::string_view kDNSLabelPattern = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";

// A Kubernetes resource by API group ("" = core) and plural resource name.
struct GroupResource {
  std::string group;
  std::string resource;
  bool operator==(const GroupResource&) const = default;
  std::string String() const { return group.empty() ? resource : resource + "." + group; }
};

template <class V>
void Reflect(V& v, GroupResource& o) {
  v.Field("group", o.group, {.doc = "API group; empty for the core group.", .max_length = 253});
  v.Field("resource", o.resource,
          {.doc = "Plural resource name, e.g. deployments.",
           .required = true,
           .max_length = 63,
           .pattern = kDNSLabelPattern});
}

// Checks group syntax and rejects duplicates within one list.
// apiVersion is tmc.kcp.io/v1alpha1 and kind is `kind`.
void CheckTypeMeta(const std::string& api_version, const std::string& kind, std::string_view want,
                   const std::string& path, FieldErrors& errs);
void CheckGroupResources(const std::vector<GroupResource>& list, const std::string& path, FieldErrors& errs);

}  // namespace tmcd::apis::v1alpha1
