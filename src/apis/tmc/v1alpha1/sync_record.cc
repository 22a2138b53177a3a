#include "apis/tmc/v1alpha1/sync_record.h"

#include "common/strings.h"

namespace tmcd::apis::v1alpha1 {

void CheckRules(const SyncRecord& r, const std::string& path, FieldErrors& errs) {
  if (r.api_version != kAPIVersion) {
    errs.Invalid(JoinPath(path, "apiVersion"), Quote(r.api_version), "must be " + std::string(kAPIVersion));
  }
  if (r.kind != "SyncRecord") errs.Invalid(JoinPath(path, "kind"), Quote(r.kind), "must be SyncRecord");
  CheckObjectName(r.metadata, /*label_rule=*/false, JoinPath(path, "metadata"), errs);
  CheckConditionList(r.status.conditions, JoinPath(path, "status.conditions"), errs);
}

}  // namespace tmcd::apis::v1alpha1
