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

Result<KcpCache::Step> KcpCache::Plan(const Gvr& r, const Json& in, store::Store::Mutation& m) const {
  using Op = store::Store::Mutation::Op;
  m.key = KeyOf(r, in);
  if (m.key.workspace.empty()) return BadRequest("object " + m.key.String() + " carries no kcp.io/cluster annotation");
  const Json obj = Slim(in);
  auto current = store_.Get(m.key);
  if (!current.ok() && current.status().reason() != Reason::kNotFound) return current.status();
  const auto uid = store::ParseUid(Meta(obj, "uid"));
  if (!current.ok()) {
    m.op = Op::kCreate;
    m.json = obj.dump();
    m.uid = uid.value_or("");
    return Step::kWrite;
  }
  if (uid && current->uid != *uid) {  // a different object under the same name
    m.op = Op::kDelete;
    m.expected_revision = current->mod_revision;
    return Step::kReplace;
  }
  const auto old_rv = NumericRv(Json::parse(current->json));
  const auto new_rv = NumericRv(obj);
  if (old_rv && new_rv && *old_rv >= *new_rv) return Step::kNone;  // replayed or stale
  m.json = obj.dump();
  if (current->json == m.json) return Step::kNone;
  m.op = Op::kUpdate;
  m.expected_revision = current->mod_revision;
  return Step::kWrite;
}

Status KcpCache::Put(const Gvr& r, const Json& in) {
  for (int attempt = 0; attempt < 3; ++attempt) {
    store::Store::Mutation m;
    TMCD_ASSIGN_OR_RETURN(Step step, Plan(r, in, m));
    if (step == Step::kNone) return Status::Ok();
    // One object: the store's own create, update or delete (and their trace spans, docs/design/tracing.md).
    using Op = store::Store::Mutation::Op;
    Result<store::StoredObject> done = m.op == Op::kCreate ? store_.Create(m.key, std::move(m.json), std::move(m.uid))
                                       : m.op == Op::kUpdate
                                           ? store_.Update(m.key, std::move(m.json), m.expected_revision)
                                           : store_.Delete(m.key, m.expected_revision);
    if (done.ok()) {
      if (step == Step::kWrite) return Status::Ok();
      continue;  // the old uid's copy is gone: now the create
    }
    // Lost a race with another writer of the same object: plan again.
    const Reason why = done.status().reason();
    if (why != Reason::kAlreadyExists && why != Reason::kConflict && why != Reason::kNotFound) return done.status();
  }
  return Status(Reason::kConflict, "caching " + KeyOf(r, in).String() + " kept conflicting");
}

Status KcpCache::PutMany(const Gvr& r, const std::vector<const Json*>& objs) {
  Status first;
  auto note = [&first](const Status& s) {
    if (!s.ok() && first.ok()) first = s;
  };
  std::vector<store::Store::Mutation> batch;
  std::vector<const Json*> of;
  auto flush = [&] {
    auto results = store_.Mutate(std::move(batch));
    for (size_t i = 0; i < results.size(); ++i) {
      if (results[i].ok()) continue;
      const Reason why = results[i].status().reason();
      // Raced with another writer: the one-object path plans again.
      note(why == Reason::kAlreadyExists || why == Reason::kConflict ? Put(r, *of[i]) : results[i].status());
    }
    batch.clear();
    of.clear();
  };
  for (const Json* obj : objs) {
    store::Store::Mutation m;
    auto step = Plan(r, *obj, m);
    if (!step.ok()) {
      note(step.status());
    } else if (*step == Step::kReplace) {
      note(Put(r, *obj));
    } else if (*step == Step::kWrite) {
      batch.push_back(std::move(m));
      of.push_back(obj);
      if (batch.size() == kBatch) flush();
    }
  }
  if (!batch.empty()) flush();
  return first;
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
