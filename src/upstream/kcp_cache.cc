#include "upstream/kcp_cache.h"

#include <charconv>
#include <optional>

#include "common/strings.h"
#include "kube/client.h"

namespace tmcd::upstream {
namespace {

std::optional<uint64_t> NumericRv(const Json& obj) {
  if (!obj.contains("metadata") || !obj["metadata"].is_object()) return std::nullopt;
  const std::string rv = obj["metadata"].value("resourceVersion", "");
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(rv.data(), rv.data() + rv.size(), v);
  if (rv.empty() || ec != std::errc() || p != rv.data() + rv.size()) return std::nullopt;
  return v;
}

std::string Meta(const Json& obj, const char* field) {
  return obj.contains("metadata") && obj["metadata"].is_object() ? obj["metadata"].value(field, "") : "";
}

}  // namespace

Json KcpCache::Slim(Json obj) {
  if (obj.contains("metadata") && obj["metadata"].is_object()) obj["metadata"].erase("managedFields");
  return obj;
}

store::ObjectKey KcpCache::KeyOf(const Gvr& r, const Json& obj) {
  return {kube::LogicalCluster(obj), r.group, r.resource, Meta(obj, "namespace"), Meta(obj, "name")};
}

Status KcpCache::Put(const Gvr& r, const Json& in) {
  const store::ObjectKey key = KeyOf(r, in);
  if (key.workspace.empty()) return BadRequest("object " + key.String() + " carries no kcp.io/cluster annotation");
  const Json obj = Slim(in);
  const std::string json = obj.dump();
  const auto uid = store::ParseUid(Meta(obj, "uid"));
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto current = store_.Get(key);
    if (!current.ok() && current.status().reason() != Reason::kNotFound) return current.status();
    if (!current.ok()) {
      auto made = store_.Create(key, json, uid.value_or(""));
      if (made.ok() || made.status().reason() != Reason::kAlreadyExists) return made.status();
      continue;
    }
    if (uid && current->uid != *uid) {  // a different object under the same name
      auto gone = store_.Delete(key, current->mod_revision);
      if (!gone.ok() && gone.status().reason() != Reason::kConflict) return gone.status();
      continue;
    }
    const Json cached = Json::parse(current->json);
    const auto old_rv = NumericRv(cached);
    const auto new_rv = NumericRv(obj);
    if (old_rv && new_rv && *old_rv >= *new_rv) return Status::Ok();  // replayed or stale
    if (current->json == json) return Status::Ok();
    auto written = store_.Update(key, json, current->mod_revision);
    if (written.ok() || written.status().reason() != Reason::kConflict) return written.status();
  }
  return Status(Reason::kConflict, "caching " + key.String() + " kept conflicting");
}

Status KcpCache::Remove(const Gvr& r, const Json& last) {
  const store::ObjectKey key = KeyOf(r, last);
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto current = store_.Get(key);
    if (!current.ok()) return current.status().reason() == Reason::kNotFound ? Status::Ok() : current.status();
    const auto cached_rv = NumericRv(Json::parse(current->json));
    const auto last_rv = NumericRv(last);
    if (cached_rv && last_rv && *cached_rv > *last_rv) return Status::Ok();  // re-created since
    auto gone = store_.Delete(key, current->mod_revision);
    if (gone.ok() || gone.status().reason() == Reason::kNotFound) return Status::Ok();
    if (gone.status().reason() != Reason::kConflict) return gone.status();
  }
  return Status(Reason::kConflict, "removing " + key.String() + " kept conflicting");
}

Result<size_t> KcpCache::Purge(const std::string& cluster, const std::vector<Gvr>& resources) {
  size_t removed = 0;
  for (const auto& r : resources) {
    TMCD_ASSIGN_OR_RETURN(size_t n, RemoveMissing(cluster, r, {}));
    removed += n;
  }
  return removed;
}

Result<size_t> KcpCache::RemoveMissing(const std::string& cluster, const Gvr& r, const std::set<std::string>& keep) {
  TMCD_ASSIGN_OR_RETURN(store::ListResult list,
                        store_.List(store::ResourcePrefix(cluster, r.group, r.resource), 0, ""));
  size_t removed = 0;
  for (const auto& [raw, o] : list.items) {
    TMCD_ASSIGN_OR_RETURN(store::ObjectKey key, store::DecodeKey(raw));
    if (keep.count(key.namespace_ + "/" + key.name) != 0) continue;
    auto gone = store_.Delete(key, o.mod_revision);
    if (gone.ok()) ++removed;
    if (!gone.ok() && gone.status().reason() != Reason::kNotFound && gone.status().reason() != Reason::kConflict) {
      return gone.status();
    }
  }
  return removed;
}

Result<std::vector<Json>> KcpCache::Cached(const Gvr& r, const std::set<std::string>& clusters) const {
  std::vector<Json> out;
  for (const auto& cluster : clusters) {
    TMCD_ASSIGN_OR_RETURN(store::ListResult list,
                          store_.List(store::ResourcePrefix(cluster, r.group, r.resource), 0, ""));
    for (const auto& [raw, o] : list.items) out.push_back(Json::parse(o.json));
  }
  return out;
}

store::ObjectKey KcpCache::ResumeKey(const std::string& endpoint, const Gvr& r) {
  const std::string id = Base36(Sha256(endpoint + "|" + r.group + "/" + r.version + "/" + r.resource)).substr(0, 24);
  return {std::string(kInternalWorkspace), "tmcd.internal", "resumepoints", "", id};
}

Result<ResumePoint> KcpCache::LoadResume(const std::string& endpoint, const Gvr& r) const {
  auto got = store_.Get(ResumeKey(endpoint, r));
  if (!got.ok()) return got.status();
  const Json doc = Json::parse(got->json, nullptr, false);
  ResumePoint p;
  if (!doc.is_object() || doc.value("endpoint", "") != endpoint) return NotFound("no resume point");
  p.resource_version = doc.value("resourceVersion", "");
  for (const auto& c : doc.value("clusters", Json::array())) p.clusters.insert(c.get<std::string>());
  return p;
}

Status KcpCache::SaveResume(const std::string& endpoint, const Gvr& r, const ResumePoint& p) {
  const store::ObjectKey key = ResumeKey(endpoint, r);
  const std::string json = Json{
      {"endpoint", endpoint},
      {"resource", r.group + "/" + r.version + "/" + r.resource},
      {"resourceVersion", p.resource_version},
      {"clusters", p.clusters}}.dump();
  auto current = store_.Get(key);
  if (current.ok()) {
    if (current->json == json) return Status::Ok();
    return store_.Update(key, json, 0).status();
  }
  if (current.status().reason() != Reason::kNotFound) return current.status();
  return store_.Create(key, json).status();
}

}  // namespace tmcd::upstream
