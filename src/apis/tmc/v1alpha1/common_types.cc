#include "apis/tmc/v1alpha1/common_types.h"

#include <set>

#include "apis/meta/names.h"
#include "common/strings.h"

namespace tmcd::apis::v1alpha1 {

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
