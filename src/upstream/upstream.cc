#include "upstream/upstream.h"

#include "common/strings.h"

namespace tmcd::upstream {

std::string ObjectRef::String() const {
  std::string gr = group.empty() ? resource : resource + "." + group;
  return workspace + "|" + gr + " " + (namespace_.empty() ? name : namespace_ + "/" + name);
}

Json Upstream::Materialize(const store::StoredObject& o, bool source_versions) {
  Json obj = Json::parse(o.json);
  if (!source_versions) {
    obj["metadata"]["resourceVersion"] = std::to_string(o.mod_revision);
    obj["metadata"]["uid"] = store::UidString(o.uid);
  }
  return obj;
}

Result<Json> Upstream::Get(const ObjectRef& ref) const {
  TMCD_ASSIGN_OR_RETURN(store::StoredObject o, store_.Get(ref.Key()));
  return Materialize(o, SourceVersions());
}

Result<std::vector<Json>> Upstream::List(const std::string& workspace, const std::string& group,
                                         const std::string& resource, const std::string& ns) const {
  const std::string prefix = ns.empty() ? store::ResourcePrefix(workspace, group, resource)
                                        : store::NamespacePrefix(workspace, group, resource, ns);
  TMCD_ASSIGN_OR_RETURN(store::ListResult list, store_.List(prefix, 0, ""));
  std::vector<Json> out;
  out.reserve(list.items.size());
  for (const auto& [key, o] : list.items) out.push_back(Materialize(o, SourceVersions()));
  return out;
}

Result<registry::ResourcePtr> EmbeddedUpstream::Prepare(const ObjectRef& ref, registry::Request& req) const {
  // The workspace's catalog: custom resources are written with their CRD's rules too.
  registry::ResourcePtr r = objects_.catalog().Find(ref.workspace, ref.group, ref.version, ref.resource);
  if (r == nullptr) return NotFound("the local API does not serve " + ref.resource);
  req.workspace = ref.workspace;
  req.group = ref.group;
  req.version = ref.version;
  req.resource = ref.resource;
  req.namespace_ = ref.namespace_;
  req.name = ref.name;
  req.field_manager = "tmcd";  // the in-process controllers, in managedFields
  return r;
}

Result<Json> Upstream::MutateWithStatus(const ObjectRef& ref, const MutateFn& mutate) {
  // Each write sends what `mutate` makes of the object as it is then, and only when its own part
  // changed: the server ignores the status in the first and everything but the status in the second.
  auto part = [&](bool status) {
    return [&, status](Json& cur) -> Result<bool> {
      Json was = cur;
      TMCD_ASSIGN_OR_RETURN(bool changed, mutate(cur));
      if (!changed) return false;
      if (status) return cur.value("status", Json::object()) != was.value("status", Json::object());
      was.erase("status");
      Json now = cur;
      now.erase("status");
      return now != was;
    };
  };
  TMCD_TRY(Mutate(ref, false, part(false)).status());
  return Mutate(ref, true, part(true));
}

Result<Json> EmbeddedUpstream::Write(const ObjectRef& ref, const Json& desired, Part part) {
  registry::Request req;
  TMCD_ASSIGN_OR_RETURN(registry::ResourcePtr r, Prepare(ref, req));
  if (part == Part::kBoth) return objects_.UpdateWithStatus(req, *r, desired);
  if (part == Part::kStatus) req.subresource = "status";
  return objects_.Update(req, *r, desired, part == Part::kStatus);
}

Result<Json> EmbeddedUpstream::Create(const ObjectRef& ref, const Json& obj) {
  registry::Request req;
  TMCD_ASSIGN_OR_RETURN(registry::ResourcePtr r, Prepare(ref, req));
  req.name.clear();  // a create names the collection; the name is the body's
  return objects_.Create(req, *r, obj);
}

Result<Json> EmbeddedUpstream::MergePatch(const ObjectRef& ref, const Json& patch) {
  registry::Request req;
  TMCD_ASSIGN_OR_RETURN(registry::ResourcePtr r, Prepare(ref, req));
  return objects_.Patch(req, *r, "application/merge-patch+json", patch.dump(), false);
}

Result<Json> EmbeddedUpstream::Mutate(const ObjectRef& ref, bool status, const MutateFn& mutate) {
  return MutatePart(ref, status ? Part::kStatus : Part::kObject, mutate);
}

Result<Json> EmbeddedUpstream::MutateWithStatus(const ObjectRef& ref, const MutateFn& mutate) {
  return MutatePart(ref, Part::kBoth, mutate);
}

Result<Json> EmbeddedUpstream::MutatePart(const ObjectRef& ref, Part part, const MutateFn& mutate) {
  Status last;
  for (int attempt = 0; attempt < 5; ++attempt) {
    TMCD_ASSIGN_OR_RETURN(Json obj, Get(ref));
    TMCD_ASSIGN_OR_RETURN(bool changed, mutate(obj));
    if (!changed) return obj;
    auto written = Write(ref, obj, part);
    if (written.ok() || written.status().reason() != Reason::kConflict) return written;
    last = written.status();
  }
  return last.Annotate("writing " + ref.String() + " kept conflicting after 5 tries");
}

}  // namespace tmcd::upstream
