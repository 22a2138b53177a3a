#pragma once
// SyncRecords (docs/api-reference.md): one per (workload, cluster), kept in the store next to the
// workload (same workspace and namespace, group tmc.kcp.io, resource syncrecords) and served
// read-only by the local API. They are tmcd's own durable memory of what it put where: the syncer
// writes a record before the first downstream create, so that a crash never leaves a downstream
// copy nobody remembers, and removes it only after the copy is gone (or orphaned).
// Thread-safe (the store is); callers serialize per workload (the work queue does).

#include <functional>
#include <string>
#include <vector>

#include "apis/tmc/v1alpha1/sync_record.h"
#include "common/clock.h"
#include "store/store.h"

namespace tmcd::sync {

namespace v1 = apis::v1alpha1;

class RecordStore {
 public:
  RecordStore(store::Store& store, const Clock& clock) : store_(store), clock_(clock) {}
  // Every record in (workspace, namespace).
  Result<std::vector<v1::SyncRecord>> InNamespace(const std::string& workspace, const std::string& ns) const;
  // Calls `each` for every record in the workspace (in `ns` only, unless empty) of a copy on `cluster`,
  // until it returns false. Decodes only the records whose text names the cluster.
  Status ForEachOnCluster(const std::string& workspace, const std::string& ns, const std::string& cluster,
                          const std::function<bool(const v1::SyncRecord&)>& each) const;
  // Whether any record in (workspace, namespace) is of a copy on `cluster` (stops at the first).
  Result<bool> AnyOnCluster(const std::string& workspace, const std::string& ns, const std::string& cluster) const;
  // The records of one workload.
  Result<std::vector<v1::SyncRecord>> ForWorkload(const std::string& workspace, const std::string& ns,
                                                  const std::string& group, const std::string& resource,
                                                  const std::string& name) const;
  // Creates or updates (skipped when nothing changed).
  Status Put(v1::SyncRecord record);
  Status Delete(const v1::SyncRecord& record);

 private:
  store::Store& store_;
  const Clock& clock_;
};

}  // namespace tmcd::sync
