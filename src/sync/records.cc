#include "sync/records.h"

#include "apis/meta/codec.h"
#include "apis/tmc/v1alpha1/register.h"
#include "store/codec.h"

namespace tmcd::sync {
namespace {

constexpr std::string_view kGroup = "tmc.kcp.io";
constexpr std::string_view kResource = "syncrecords";

store::ObjectKey KeyOf(const v1::SyncRecord& r) {
  return {r.spec.upstream.workspace, std::string(kGroup), std::string(kResource), r.metadata.namespace_,
          r.metadata.name};
}

}  // namespace

Result<std::vector<v1::SyncRecord>> RecordStore::InNamespace(const std::string& workspace,
                                                             const std::string& ns) const {
  TMCD_ASSIGN_OR_RETURN(auto list, store_.List(store::NamespacePrefix(workspace, kGroup, kResource, ns), 0, ""));
  std::vector<v1::SyncRecord> out;
  for (const auto& [key, o] : list.items) {
    auto r = v1::DecodeStored<v1::SyncRecord>(o.json);
    if (r.ok()) out.push_back(std::move(r).value());
  }
  return out;
}

Status RecordStore::ForEachOnCluster(const std::string& workspace, const std::string& ns, const std::string& cluster,
                                     const std::function<bool(const v1::SyncRecord&)>& each) const {
  const std::string prefix = ns.empty() ? store::ResourcePrefix(workspace, kGroup, kResource)
                                        : store::NamespacePrefix(workspace, kGroup, kResource, ns);
  TMCD_ASSIGN_OR_RETURN(auto list, store_.List(prefix, 0, ""));
  const std::string mention = "\"" + cluster + "\"";  // a record on the cluster names it in its text
  for (const auto& [key, o] : list.items) {
    if (o.json.find(mention) == std::string::npos) continue;
    auto r = v1::DecodeStored<v1::SyncRecord>(o.json);
    if (r.ok() && r->spec.cluster_name == cluster && !each(*r)) break;
  }
  return Status::Ok();
}

Result<bool> RecordStore::AnyOnCluster(const std::string& workspace, const std::string& ns,
                                       const std::string& cluster) const {
  bool any = false;
  TMCD_TRY(ForEachOnCluster(workspace, ns, cluster, [&](const v1::SyncRecord&) {
    any = true;
    return false;  // one is enough
  }));
  return any;
}

Result<std::vector<v1::SyncRecord>> RecordStore::ForWorkload(const std::string& workspace, const std::string& ns,
                                                             const std::string& group, const std::string& resource,
                                                             const std::string& name) const {
  // Record names start with <resource>.<group>.<name>. (workloads whose name extends this one's
  // share the prefix and are filtered out below): one short range scan, not the whole namespace.
  const std::string prefix = store::NamespacePrefix(workspace, kGroup, kResource, ns) + resource + "." +
                             (group.empty() ? "core" : group) + "." + name + ".";
  TMCD_ASSIGN_OR_RETURN(auto list, store_.List(prefix, 0, ""));
  std::vector<v1::SyncRecord> out;
  for (const auto& [key, o] : list.items) {
    auto r = v1::DecodeStored<v1::SyncRecord>(o.json);
    if (!r.ok()) continue;
    const auto& u = r->spec.upstream;
    if (u.group == group && u.resource == resource && u.name == name) out.push_back(std::move(r).value());
  }
  return out;
}

Status RecordStore::Put(v1::SyncRecord record) {
  record.api_version = "tmc.kcp.io/v1alpha1";
  record.kind = "SyncRecord";
  const store::ObjectKey key = KeyOf(record);
  auto current = store_.Get(key);
  if (!current.ok() && current.status().reason() != Reason::kNotFound) return current.status();
  if (!current.ok()) {
    record.metadata.creation_timestamp = apis::Time::FromTimePoint(clock_.Now());
    record.metadata.resource_version.clear();
    record.metadata.uid.clear();
    return store_.Create(key, apis::EncodeJson(record)).status();
  }
  auto before = v1::DecodeStored<v1::SyncRecord>(current->json);
  if (before.ok()) {
    record.metadata.creation_timestamp = before->metadata.creation_timestamp;
    record.metadata.resource_version = before->metadata.resource_version;
    record.metadata.uid = before->metadata.uid;
    if (record == *before) return Status::Ok();
  }
  return store_.Update(key, apis::EncodeJson(record), current->mod_revision).status();
}

Status RecordStore::Delete(const v1::SyncRecord& record) {
  auto s = store_.Delete(KeyOf(record), 0).status();
  return s.reason() == Reason::kNotFound ? Status::Ok() : s;
}

}  // namespace tmcd::sync
