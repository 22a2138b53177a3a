#include "upstream/kcp_bootstrap.h"

#include "apis/tmc/v1alpha1/manifests.h"
#include "common/strings.h"

namespace tmcd::upstream {
namespace {

using kube::Json;
namespace v1 = apis::v1alpha1;

kube::ResourceRef KcpRef(const std::string& version, const std::string& resource, const std::string& ws) {
  return {"apis.kcp.io", version, resource, "", ws};
}

Result<std::string> ExportVersion(kube::Client& c, const std::string& ws) {
  auto group = c.GetPath("/clusters/" + ws + "/apis/apis.kcp.io");
  if (!group.ok()) {
    return group.status().Annotate("cannot discover apis.kcp.io in " + ws + " (is it a kcp workspace?)");
  }
  bool v1alpha2 = false;
  for (const auto& v : (*group)["versions"]) v1alpha2 = v1alpha2 || v.value("version", "") == "v1alpha2";
  return std::string(v1alpha2 ? "v1alpha2" : "v1alpha1");
}

// The spec fields tmcd owns on the export; others (identity, maximalPermissionPolicy) are kept.
const char* const kOwnedFields[] = {"latestResourceSchemas", "resources", "permissionClaims"};

Status EnsureExport(kube::Client& c, const kube::ResourceRef& ref, const Json& desired, BootstrapResult& out) {
  const std::string name = desired["metadata"]["name"];
  for (int attempt = 0; attempt < 5; ++attempt) {
    auto current = c.Get(ref, name);
    if (!current.ok() && current.status().reason() != Reason::kNotFound) return current.status();
    if (!current.ok()) {
      auto made = c.Create(ref, desired);
      if (made.ok()) return out.created.push_back("apiexport/" + name), Status::Ok();
      if (made.status().reason() != Reason::kAlreadyExists) return made.status();
      continue;  // created concurrently: compare with that one
    }
    Json next = *current;
    for (const char* f : kOwnedFields) {
      if (desired["spec"].contains(f)) next["spec"][f] = desired["spec"][f];
    }
    if (next["spec"] == (*current)["spec"]) return out.unchanged.push_back("apiexport/" + name), Status::Ok();
    auto written = c.Update(ref, next);
    if (written.ok()) return out.updated.push_back("apiexport/" + name), Status::Ok();
    if (written.status().reason() != Reason::kConflict) return written.status();
  }
  return Status(Reason::kConflict, "the APIExport " + name + " kept changing under tmcd; giving up after 5 tries");
}

}  // namespace

Result<BootstrapResult> BootstrapExport(kube::Client& c, const std::string& workspace, bool workload_types,
                                        const std::vector<ClaimedResource>& claimed) {
  BootstrapResult out;
  TMCD_ASSIGN_OR_RETURN(out.export_version, ExportVersion(c, workspace));
  const auto objects = v1::KcpObjects(out.export_version, workload_types, claimed);
  const auto schemas = KcpRef("v1alpha1", "apiresourceschemas", workspace);
  for (size_t i = 0; i + 1 < objects.size(); ++i) {
    const Json ars = Json::parse(objects[i].dump());
    const std::string name = ars["metadata"]["name"];
    // Schemas are immutable and content-addressed: an existing name already has this content.
    auto made = c.Create(schemas, ars);
    if (made.ok()) {
      out.created.push_back("apiresourceschema/" + name);
    } else if (made.status().reason() == Reason::kAlreadyExists) {
      out.unchanged.push_back("apiresourceschema/" + name);
    } else {
      return made.status().Annotate("creating APIResourceSchema " + name + " in " + workspace);
    }
  }
  const Json exp = Json::parse(objects.back().dump());
  TMCD_TRY(EnsureExport(c, KcpRef(out.export_version, "apiexports", workspace), exp, out));
  return out;
}

Result<std::vector<std::string>> ExportEndpoints(kube::Client& c, const std::string& workspace) {
  const std::string name(v1::kExportName);
  std::vector<std::string> urls;
  const auto slices = KcpRef("v1alpha1", "apiexportendpointslices", workspace);
  auto slice = c.Get(slices, name);
  if (!slice.ok() && slice.status().reason() == Reason::kNotFound) {
    Json want = {{"apiVersion", "apis.kcp.io/v1alpha1"},
                 {"kind", "APIExportEndpointSlice"},
                 {"metadata", {{"name", name}}},
                 {"spec", {{"export", {{"path", workspace}, {"name", name}}}}}};
    slice = c.Create(slices, want);
  }
  if (slice.ok() && slice->contains("status") && (*slice)["status"].is_object()) {
    for (const auto& e : (*slice)["status"].value("endpoints", Json::array())) urls.push_back(e.value("url", ""));
  }
  if (!urls.empty()) return urls;
  // kcp before v0.28 also publishes the URLs on the export itself.
  TMCD_ASSIGN_OR_RETURN(std::string version, ExportVersion(c, workspace));
  TMCD_ASSIGN_OR_RETURN(Json exp, c.Get(KcpRef(version, "apiexports", workspace), name));
  if (exp.contains("status") && exp["status"].is_object()) {
    for (const auto& vw : exp["status"].value("virtualWorkspaces", Json::array())) urls.push_back(vw.value("url", ""));
  }
  return urls;
}

}  // namespace tmcd::upstream
