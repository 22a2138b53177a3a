#include "apis/tmc/v1alpha1/sync_record.h"

#include "common/strings.h"

namespace tmcd::apis::v1alpha1 {

void CheckRules(const SyncRecord& r, const std::string& path, FieldErrors& errs) {
  CheckTypeMeta(r.api_version, r.kind, "SyncRecord", path, errs);
  CheckObjectName(r.metadata, /*label_rule=*/false, JoinPath(path, "metadata"), errs);
  CheckConditionList(r.status.conditions, JoinPath(path, "status.conditions"), errs);
}

}  // namespace tmcd::apis::v1alpha1
