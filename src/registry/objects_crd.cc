// CustomResourceDefinitions and their custom resources in the registry (docs/custom-resources.md): a CRD's
// checks and status, a custom resource's schema (defaults, pruning, validation), and the lifecycle that
// ties them — a CRD serves its resource once stored, and deleting it deletes its custom resources first.
#include <spdlog/spdlog.h>

#include <algorithm>

#include "common/strings.h"
#include "registry/crd.h"
#include "registry/objects.h"
#include "registry/structural.h"

namespace tmcd::registry {
namespace {

// CleanupCrd deletes custom resources through Delete, whose commits would start it again.
thread_local int cleanup_depth = 0;

}  // namespace

Status ObjectService::PrepareCustom(const Request& p, const ResourceInfo& r, Json& obj, const Json* current) const {
  if (IsCrd(r)) {
    std::vector<Json> others;
    TMCD_ASSIGN_OR_RETURN(auto list, store_.List(store::ResourcePrefix(p.workspace, kCrdGroup, kCrdResource), 0, ""));
    for (const auto& [key, o] : list.items) others.push_back(Json::parse(o.json));
    TMCD_TRY(PrepareCrd(obj, current, others));
    if (current == nullptr) {
      Json& fin = obj["metadata"]["finalizers"];
      if (!fin.is_array()) fin = Json::array();
      if (std::find(fin.begin(), fin.end(), Json(kCrdCleanupFinalizer)) == fin.end())
        fin.push_back(kCrdCleanupFinalizer);
    }
    SetCrdStatus(obj, current, Now());
    return Status::Ok();
  }
  if (!r.schema) return Status::Ok();
  if (r.terminating && current == nullptr) {
    return Status(Reason::kMethodNotAllowed, "create not allowed while custom resource definition is terminating");
  }
  apis::FieldErrors errs;
  std::vector<std::string> pruned;
  ApplySchema(*r.schema, obj, {.prune = p.field_validation != "Strict", .pruned = &pruned}, errs);
  if (p.field_validation == "Warn") {
    for (const auto& f : pruned) p.warnings.push_back("unknown field \"" + f + "\"");
  }
  if (errs.empty()) return Status::Ok();
  return errs.ToStatus(r.kind + "." + r.group, obj["metadata"].value("name", ""));
}

void ObjectService::Committed(const Request& p, const ResourceInfo& r) {
  if (p.dry_run) return;
  if (IsCrd(r)) {
    catalog_.Reload(p.workspace);
    if (cleanup_depth == 0) CleanupCrd(p.workspace, p.name.empty() ? std::string() : p.name);
    return;
  }
  if (r.terminating && cleanup_depth == 0) CleanupCrd(p.workspace, r.crd);
}

// A CRD marked for deletion: delete its custom resources (finalizers hold those that have them); once
// none is left, drop the cleanup finalizer, which deletes the CRD when it was the last one.
void ObjectService::CleanupCrd(const std::string& ws, const std::string& name) {
  if (name.empty()) return;
  const store::ObjectKey key{ws, std::string(kCrdGroup), std::string(kCrdResource), "", name};
  auto stored = store_.Get(key);
  if (!stored.ok()) return;
  Json crd = Json::parse(stored->json);
  if (!crd["metadata"].contains("deletionTimestamp")) return;
  ++cleanup_depth;
  const ResourceInfo cr = CustomResource(crd);
  const std::string prefix = store::ResourcePrefix(ws, cr.group, cr.resource);
  size_t left = 0;
  if (auto list = store_.List(prefix, 0, ""); list.ok()) {
    for (const auto& [raw, o] : list->items) {
      auto k = store::DecodeKey(raw);
      if (!k.ok()) continue;
      Request req;
      req.workspace = ws;
      req.namespace_ = k->namespace_;
      req.name = k->name;
      auto deleted = Delete(req, cr, Json());
      if (!deleted.ok() && deleted.status().reason() != Reason::kNotFound) {
        spdlog::warn("deleting {} {}/{} of CRD {} in {}: {}", cr.kind, k->namespace_, k->name, name, ws,
                     deleted.status().ToString());
      }
    }
    auto after = store_.List(prefix, 0, "");
    left = after.ok() ? after->items.size() : 1;
  }
  --cleanup_depth;
  if (left > 0) {  // finalizers of custom resources still hold; their removal calls this again
    if (!crd.contains("status") || crd["status"]["conditions"].size() < 3) {
      SetCrdStatus(crd, &crd, Now());  // Terminating=True
      if (Status s = store_.Update(key, crd.dump(), stored->mod_revision).status(); !s.ok()) {
        spdlog::warn("marking CRD {} in {} terminating: {}", name, ws, s.ToString());
      }
    }
    catalog_.Reload(ws);
    return;
  }
  Json& fin = crd["metadata"]["finalizers"];
  if (fin.is_array()) fin.erase(std::remove(fin.begin(), fin.end(), Json(kCrdCleanupFinalizer)), fin.end());
  Status s = fin.is_array() && !fin.empty() ? store_.Update(key, crd.dump(), stored->mod_revision).status()
                                            : store_.Delete(key, stored->mod_revision).status();
  if (!s.ok()) spdlog::warn("finishing the deletion of CRD {} in {}: {}", name, ws, s.ToString());
  catalog_.Reload(ws);
}

}  // namespace tmcd::registry
