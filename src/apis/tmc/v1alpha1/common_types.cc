#include "apis/tmc/v1alpha1/common_types.h"

#include <set>

#include "apis/meta/names.h"
#include "common/strings.h"

namespace tmcd::apis::v1alpha1 {

void CheckTypeMeta(const std::string& api_version, const std::string& kind, std::string_view want,
                   const std::string& path, FieldErrors& errs) {
  if (api_version != kAPIVersion) {
    errs.Invalid(JoinPath(path, "apiVersion"), Quote(api_version), "must be " + std::string(kAPIVersion));
  }
  if (kind != want) errs.Invalid(JoinPath(path, "kind"), Quote(kind), "must be " + std::string(want));
}

void CheckGroupResources(const std::vector<GroupResource>& list, const std::string& path, FieldErrors& errs) {
  std::set<std::string> seen;
  for (size_t i = 0; i < list.size(); ++i) {
    const auto& gr = list[i];
    const std::string p = IndexPath(path, i);
    if (!gr.group.empty()) {
      for (const auto& msg : CheckDNS1123Subdomain(gr.group)) errs.Invalid(JoinPath(p, "group"), Quote(gr.group), msg);
    }
    if (!seen.insert(gr.String()).second) errs.Duplicate(p, Quote(gr.String()));
  }
}

}  // namespace tmcd::apis::v1alpha1
