#include "upstream/kcp_upstream.h"

#include <malloc.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>

#include "apis/tmc/v1alpha1/manifests.h"
#include "upstream/kcp_bootstrap.h"

namespace tmcd::upstream {
namespace {

namespace v1 = apis::v1alpha1;
using SteadyClock = std::chrono::steady_clock;

const Gvr kBindings{"apis.kcp.io", "v1alpha1", "apibindings"};

std::vector<Gvr> CachedResources(bool workload_types, const std::vector<ClaimedResource>& claimed) {
  std::vector<Gvr> out = {{"tmc.kcp.io", "v1alpha1", "clusterregistrations"},
                          {"tmc.kcp.io", "v1alpha1", "workloadplacements"},
                          {"tmc.kcp.io", "v1alpha1", "resourceinterpreters"}};
  if (workload_types) {  // what the APIExport offers (apis/tmc/v1alpha1/workload_schemas.h)
    for (const char* r : {"deployments", "statefulsets", "daemonsets", "replicasets"}) out.push_back({"apps", "v1", r});
    for (const char* r : {"jobs", "cronjobs"}) out.push_back({"batch", "v1", r});
    for (const char* r : {"ingresses", "networkpolicies"}) out.push_back({"networking.k8s.io", "v1", r});
    out.push_back({"autoscaling", "v2", "horizontalpodautoscalers"});
    out.push_back({"policy", "v1", "poddisruptionbudgets"});
    out.push_back({"", "v1", "services"});
    out.push_back({"", "v1", "persistentvolumeclaims"});
  }
  for (const char* r : {"namespaces", "configmaps", "secrets", "serviceaccounts"}) out.push_back({"", "v1", r});
  for (const auto& c : claimed) out.push_back({c.group, c.version, c.resource});
  return out;
}

// A claim of a resource the export already carries (or always claims) would make two informers
// write the same cache keys: refused at start.
Status CheckClaims(bool workload_types, const std::vector<ClaimedResource>& claimed) {
  const auto own = CachedResources(workload_types, {});
  for (const auto& c : claimed) {
    if (c.group.empty() && c.resource == "events") {  // claimed (and written) by tmcd, never cached
      return Invalid("upstream.claimedResources: " + c.String() +
                     " is already claimed by tmcd itself (it writes Events); claim only other exports' resources");
    }
    for (const auto& g : own) {
      if (g.group == c.group && g.resource == c.resource) {
        return Invalid(
            "upstream.claimedResources: " + c.String() +
            " is already exported or claimed by tmcd itself; claim only other exports' resources" +
            (g.group.empty() || g.group == "tmc.kcp.io" ? "" : " (or set upstream.exportWorkloadTypes: false)"));
      }
    }
  }
  return Status::Ok();
}

std::string Detail(const Status& s) {
  return s.ok() ? "" : ": " + s.message();
}

// Reading through the virtual workspace needs the "content" subresource of the export.
std::string EndpointDetail(const Status& s, const std::string& workspace) {
  if (s.reason() != Reason::kForbidden) return Detail(s);
  return Detail(s) + " (tmcd's user needs the verbs '*' on apiexports/content " + std::string(v1::kExportName) +
         " in " + workspace + ": see config/kcp/rbac/provider-clusterrole.yaml)";
}

bool BindsOurExport(const Json& binding) {
  const Json* ref = binding.contains("spec") ? &binding["spec"] : nullptr;
  if (ref == nullptr || !ref->contains("reference") || !(*ref)["reference"].contains("export")) return false;
  return (*ref)["reference"]["export"].value("name", "") == v1::kExportName;
}

}  // namespace

struct KcpUpstream::Endpoint {
  std::string url;
  std::unique_ptr<kube::Client> client;
  std::unique_ptr<kube::Informer> bindings;
  std::vector<std::pair<Gvr, std::unique_ptr<kube::Informer>>> informers;
  std::set<std::string> saved_clusters;      // bound at the last save before this start
  std::map<std::string, std::string> saved;  // informer → last saved resume point (supervisor only)
  size_t resumed = 0;
  // Serializes cache writes of this endpoint against binding changes, so that an object of a
  // cluster whose binding was just deleted cannot be written back after the purge.
  std::mutex mu;
  bool reconciled = false;        // guarded by mu: the initial bound/unbound reconcile ran
  std::set<std::string> bound;    // guarded by mu
  std::set<std::string> unbound;  // guarded by mu: seen, but no binding: never cached
};

KcpUpstream::KcpUpstream(store::Store& store, kube::RestConfig provider, KcpOptions options)
    : Upstream(store),
      provider_config_(std::move(provider)),
      options_(std::move(options)),
      resources_(CachedResources(options_.export_workload_types, options_.claimed)),
      cache_(store) {}

KcpUpstream::~KcpUpstream() {
  Stop();
}

Status KcpUpstream::Start() {
  TMCD_TRY(CheckClaims(options_.export_workload_types, options_.claimed));
  TMCD_ASSIGN_OR_RETURN(provider_, kube::Client::Create(provider_config_, options_.client));
  supervisor_ = std::thread([this] { Supervise(); });
  return Status::Ok();
}

void KcpUpstream::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_) return;
    stop_ = true;
  }
  cv_.notify_all();
  if (supervisor_.joinable()) supervisor_.join();
  if (slices_) slices_->Stop();
  std::map<std::string, std::shared_ptr<Endpoint>> endpoints;
  {
    std::lock_guard<std::mutex> lock(mu_);
    endpoints.swap(endpoints_);
  }
  for (auto& [url, ep] : endpoints) {
    ep->bindings->Stop();
    for (auto& [gvr, inf] : ep->informers) inf->Stop();
  }
  // Every handler has returned: the resume points now cover everything that reached the store.
  std::lock_guard<std::mutex> lock(mu_);
  endpoints_.swap(endpoints);
  SaveResumePoints();
  endpoints_.clear();
}

bool KcpUpstream::Sleep(std::chrono::milliseconds d) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, d, [&] { return stop_ || wake_; });
  wake_ = false;
  return !stop_;
}

void KcpUpstream::SetReason(std::string why) {
  std::lock_guard<std::mutex> lock(mu_);
  if (why == reason_) return;
  if (why.empty()) {
    // The initial lists parsed whole pages of objects; give that transient memory back.
    malloc_trim(0);
    spdlog::info("kcp upstream ready: initial sync done");
  } else {
    spdlog::warn("kcp upstream not ready: {}", why);
  }
  reason_ = std::move(why);
}

std::string KcpUpstream::NotReadyReason() const {
  std::lock_guard<std::mutex> lock(mu_);
  return reason_;
}

Status KcpUpstream::Bootstrap() {
  auto boot = BootstrapExport(*provider_, options_.workspace, options_.export_workload_types, options_.claimed);
  if (!boot.ok()) return boot.status().Annotate("bootstrapping the APIExport in " + options_.workspace);
  spdlog::info("kcp: APIExport {} in {} ({}): {} created, {} updated, {} unchanged", v1::kExportName,
               options_.workspace, boot->export_version, boot->created.size(), boot->updated.size(),
               boot->unchanged.size());
  auto urls = ExportEndpoints(*provider_, options_.workspace);  // creates the endpoint slice if missing
  if (!urls.ok()) return urls.status().Annotate("reading the endpoints of the APIExport in " + options_.workspace);
  kube::Informer::Options io;
  io.field_selector = "metadata.name=" + std::string(v1::kExportName);
  slices_ = std::make_unique<kube::Informer>(
      *provider_, kube::ResourceRef{"apis.kcp.io", "v1alpha1", "apiexportendpointslices", "", options_.workspace}, io);
  auto wake = [this] {
    std::lock_guard<std::mutex> lock(mu_);
    wake_ = true;
    cv_.notify_all();
  };
  slices_->AddHandlers(
      {[wake](const Json&) { wake(); }, [wake](const Json&, const Json&) { wake(); }, [wake](const Json&) { wake(); }});
  slices_->Start();
  return Status::Ok();
}

void KcpUpstream::Supervise() {
  kube::Backoff backoff(options_.backoff, 7);
  auto last_fallback = SteadyClock::time_point{};
  std::vector<std::string> fallback_urls;
  while (true) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stop_) return;
    }
    if (!slices_) {
      Status s = Bootstrap();
      if (!s.ok()) {
        SetReason("kcp: " + s.message());
        if (!Sleep(backoff.Next(SteadyClock::now()))) return;
        continue;
      }
    }
    std::vector<std::string> urls;
    for (const auto& slice : slices_->List()) {
      if (!slice.contains("status") || !slice["status"].is_object()) continue;
      for (const auto& e : slice["status"].value("endpoints", Json::array())) urls.push_back(e.value("url", ""));
    }
    if (urls.empty() && slices_->HasSynced() && SteadyClock::now() - last_fallback > std::chrono::seconds(2)) {
      // kcp before v0.28 may publish the URLs on the export only.
      last_fallback = SteadyClock::now();
      auto got = ExportEndpoints(*provider_, options_.workspace);
      if (got.ok()) fallback_urls = *got;
    }
    if (urls.empty()) urls = fallback_urls;
    Reconcile(urls);
    SaveResumePoints();
    if (!Sleep(options_.save_interval)) return;
  }
}

std::shared_ptr<KcpUpstream::Endpoint> KcpUpstream::StartEndpoint(const std::string& url) {
  kube::RestConfig cfg = provider_config_;
  cfg.server = url;
  auto client = kube::Client::Create(cfg, options_.client);
  if (!client.ok()) {
    spdlog::error("kcp: cannot use endpoint {}: {}", url, client.status().message());
    return nullptr;
  }
  auto ep = std::make_shared<Endpoint>();
  Endpoint* raw = ep.get();
  ep->url = url;
  ep->client = std::move(client).value();
  kube::Informer::Options io;
  io.not_found_means_empty = true;  // the virtual workspace serves a resource only while it is bound
  io.transform = [](Json& obj) { obj = KcpCache::Slim(std::move(obj)); };  // managedFields: large, unused
  ep->bindings = std::make_unique<kube::Informer>(
      *ep->client, kube::ResourceRef{"apis.kcp.io", "v1alpha1", "apibindings", "", "*"}, io);
  ep->bindings->AddHandlers({[this, raw](const Json& b) { OnBinding(*raw, b, false); },
                             [this, raw](const Json&, const Json& b) { OnBinding(*raw, b, false); },
                             [this, raw](const Json& b) { OnBinding(*raw, b, true); }});
  if (auto saved = cache_.LoadResume(url, kBindings); saved.ok()) ep->saved_clusters = saved->clusters;
  for (const Gvr& gvr : resources_) {
    auto inf = std::make_unique<kube::Informer>(*ep->client,
                                                kube::ResourceRef{gvr.group, gvr.version, gvr.resource, "", "*"}, io);
    inf->AddIndex("cluster", [](const Json& obj) { return std::vector<std::string>{kube::LogicalCluster(obj)}; });
    auto put = [this, raw, gvr](const Json& obj) {
      std::lock_guard<std::mutex> lock(raw->mu);
      if (raw->unbound.count(kube::LogicalCluster(obj)) != 0) return;
      Status s = cache_.Put(gvr, obj);
      if (!s.ok()) spdlog::error("kcp: caching {}: {}", gvr.String(), s.message());
    };
    // A list's objects in batches that share a store commit (a first list: thousands of objects);
    // the lock per batch (PutMany's own batch size), not per list, lets the other resources' lists
    // interleave.
    auto put_many = [this, raw, gvr](const std::vector<Json>& objs) {
      for (size_t from = 0; from < objs.size(); from += KcpCache::kBatch) {
        std::lock_guard<std::mutex> lock(raw->mu);
        std::vector<const Json*> bound;
        for (size_t i = from; i < std::min(objs.size(), from + KcpCache::kBatch); ++i) {
          if (raw->unbound.count(kube::LogicalCluster(objs[i])) == 0) bound.push_back(&objs[i]);
        }
        Status s = cache_.PutMany(gvr, bound);
        if (!s.ok()) spdlog::error("kcp: caching {}: {}", gvr.String(), s.message());
      }
    };
    inf->AddHandlers({put, [put](const Json&, const Json& obj) { put(obj); },
                      [this, raw, gvr](const Json& obj) {
                        std::lock_guard<std::mutex> lock(raw->mu);
                        Status s = cache_.Remove(gvr, obj);
                        if (!s.ok()) spdlog::error("kcp: removing a cached {}: {}", gvr.String(), s.message());
                      },
                      put_many});
    auto point = cache_.LoadResume(url, gvr);
    if (point.ok() && !point->resource_version.empty()) {
      auto objects = cache_.Cached(gvr, ep->saved_clusters);
      if (objects.ok()) {
        inf->Resume(std::move(objects).value(), point->resource_version);
        ep->saved[gvr.String()] = point->resource_version;
        ++ep->resumed;
      }
    }
    ep->informers.emplace_back(gvr, std::move(inf));
  }
  spdlog::info("kcp: following endpoint {} ({} resources, {} resumed from saved resourceVersions)", url,
               resources_.size(), ep->resumed);
  ep->bindings->Start();
  for (auto& [gvr, inf] : ep->informers) inf->Start();
  return ep;
}

void KcpUpstream::Reconcile(const std::vector<std::string>& urls) {
  std::set<std::string> want(urls.begin(), urls.end());
  want.erase("");
  std::vector<std::shared_ptr<Endpoint>> gone;
  for (auto it = endpoints_.begin(); it != endpoints_.end();) {
    if (want.count(it->first) != 0) {
      ++it;
      continue;
    }
    gone.push_back(it->second);
    std::lock_guard<std::mutex> lock(mu_);
    it = endpoints_.erase(it);
  }
  for (auto& ep : gone) {
    spdlog::info("kcp: endpoint {} is gone; its informers stop", ep->url);
    ep->bindings->Stop();
    for (auto& [gvr, inf] : ep->informers) inf->Stop();
  }
  for (const auto& url : want) {
    if (endpoints_.count(url) != 0) continue;
    auto ep = StartEndpoint(url);
    if (!ep) continue;
    std::lock_guard<std::mutex> lock(mu_);
    endpoints_[url] = std::move(ep);
  }
  std::string why;
  if (!slices_->HasSynced()) {
    why = "kcp: waiting for the APIExportEndpointSlice in " + options_.workspace + Detail(slices_->LastError());
  }
  for (auto& [url, ep] : endpoints_) {
    if (!why.empty()) break;
    if (!ep->bindings->HasSynced()) {
      why = "kcp: waiting for the initial list of apibindings at " + url +
            EndpointDetail(ep->bindings->LastError(), options_.workspace);
      break;
    }
    size_t synced = 0;
    std::string waiting;
    for (auto& [gvr, inf] : ep->informers) {
      if (inf->HasSynced()) {
        ++synced;
      } else if (waiting.empty()) {
        waiting = gvr.String() + EndpointDetail(inf->LastError(), options_.workspace);
      }
    }
    if (synced < ep->informers.size()) {
      why = "kcp: initial sync at " + url + ": " + std::to_string(synced) + "/" + std::to_string(ep->informers.size()) +
            " resources synced (waiting for " + waiting + ")";
      break;
    }
    InitialReconcile(*ep);
  }
  SetReason(why);
}

void KcpUpstream::InitialReconcile(Endpoint& ep) {
  {
    std::lock_guard<std::mutex> lock(ep.mu);
    if (ep.reconciled) return;
  }
  // Clusters tmcd knows of (saved at the last run, or visible now) without a binding: a binding
  // deleted while tmcd was down, or claimed objects kcp still shows after the binding went.
  std::set<std::string> candidates = ep.saved_clusters;
  for (auto& [gvr, inf] : ep.informers) {
    for (const auto& obj : inf->List()) candidates.insert(kube::LogicalCluster(obj));
  }
  std::lock_guard<std::mutex> lock(ep.mu);
  for (const auto& cluster : candidates) {
    if (ep.bound.count(cluster) != 0) continue;
    ep.unbound.insert(cluster);
    auto removed = cache_.Purge(cluster, resources_);
    if (removed.ok() && *removed > 0)
      spdlog::info("kcp: {} has no binding: removed {} cached objects", cluster, *removed);
  }
  ep.reconciled = true;
}

void KcpUpstream::OnBinding(Endpoint& ep, const Json& binding, bool deleted) {
  if (!BindsOurExport(binding)) return;
  const std::string cluster = kube::LogicalCluster(binding);
  std::lock_guard<std::mutex> lock(ep.mu);
  if (deleted) {
    ep.bound.erase(cluster);
    ep.unbound.insert(cluster);
    auto removed = cache_.Purge(cluster, resources_);
    if (!removed.ok()) {
      spdlog::error("kcp: purging {} after its binding was deleted: {}", cluster, removed.status().message());
    } else {
      spdlog::info("kcp: the binding in {} was deleted: removed {} cached objects", cluster, *removed);
    }
    return;
  }
  if (ep.bound.insert(cluster).second) spdlog::info("kcp: {} is bound to {}", cluster, v1::kExportName);
  // A binding (re)making resources appear in the virtual workspace: look for them now.
  for (auto& [gvr, inf] : ep.informers) inf->Poke();
  if (ep.unbound.erase(cluster) > 0) SyncCluster(ep, cluster);  // objects dropped while unbound
}

void KcpUpstream::SyncCluster(Endpoint& ep, const std::string& cluster) {
  for (auto& [gvr, inf] : ep.informers) {
    std::set<std::string> keep;
    const std::vector<Json> objs = inf->ByIndex("cluster", cluster);
    std::vector<const Json*> all;
    for (const auto& obj : objs) {
      const Json& m = obj["metadata"];
      keep.insert(m.value("namespace", "") + "/" + m.value("name", ""));
      all.push_back(&obj);
    }
    if (Status s = cache_.PutMany(gvr, all); !s.ok()) spdlog::error("kcp: caching {}: {}", gvr.String(), s.message());
    if (inf->HasSynced()) {
      auto removed = cache_.RemoveMissing(cluster, gvr, keep);
      if (!removed.ok())
        spdlog::error("kcp: reconciling {} in {}: {}", gvr.String(), cluster, removed.status().message());
    }
  }
}

void KcpUpstream::SaveResumePoints() {
  for (auto& [url, ep] : endpoints_) {
    for (auto& [gvr, inf] : ep->informers) {
      const std::string rv = inf->HandledResourceVersion();
      std::string& saved = ep->saved[gvr.String()];
      if (rv.empty() || rv == saved) continue;
      Status s = cache_.SaveResume(url, gvr, {rv, {}});
      if (s.ok()) saved = rv;
    }
    ResumePoint bindings;
    {
      std::lock_guard<std::mutex> lock(ep->mu);
      if (!ep->reconciled) continue;
      bindings.clusters = ep->bound;
    }
    std::string key;
    for (const auto& c : bindings.clusters) key += c + ",";
    std::string& saved = ep->saved["apibindings"];
    if (key == saved) continue;
    if (cache_.SaveResume(url, kBindings, bindings).ok()) saved = key;
  }
}

KcpUpstream::Stats KcpUpstream::GetStats() const {
  Stats st;
  std::lock_guard<std::mutex> lock(mu_);
  st.endpoints = endpoints_.size();
  for (const auto& [url, ep] : endpoints_) {
    st.resumed += ep->resumed;
    for (const auto& [gvr, inf] : ep->informers) st.lists += inf->Relists() + (inf->HasSynced() ? 1 : 0);
    st.lists -= ep->resumed;
    std::lock_guard<std::mutex> ep_lock(ep->mu);
    st.bound_clusters += ep->bound.size();
  }
  return st;
}

Result<std::shared_ptr<KcpUpstream::Endpoint>> KcpUpstream::EndpointFor(const std::string& cluster) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [url, e] : endpoints_) {
    std::lock_guard<std::mutex> ep_lock(e->mu);
    if (e->bound.count(cluster) != 0) return e;
  }
  return NotFound("logical cluster " + cluster + " has no binding to the APIExport " + std::string(v1::kExportName));
}

Result<Json> KcpUpstream::Mutate(const ObjectRef& ref, bool status, const MutateFn& mutate) {
  TMCD_ASSIGN_OR_RETURN(auto ep, EndpointFor(ref.workspace));
  const kube::ResourceRef rr{ref.group, ref.version, ref.resource, ref.namespace_, ref.workspace};
  Status last;
  for (int attempt = 0; attempt < 5; ++attempt) {
    TMCD_ASSIGN_OR_RETURN(Json obj, ep->client->Get(rr, ref.name));
    TMCD_ASSIGN_OR_RETURN(bool changed, mutate(obj));
    if (!changed) return obj;
    auto written = ep->client->Update(rr, obj, status ? "status" : "");
    if (written.ok() || written.status().reason() != Reason::kConflict) return written;
    last = written.status();
  }
  return last.Annotate("writing " + ref.String() + " in kcp kept conflicting after 5 tries");
}

Result<Json> KcpUpstream::Create(const ObjectRef& ref, const Json& obj) {
  TMCD_ASSIGN_OR_RETURN(auto ep, EndpointFor(ref.workspace));
  return ep->client->Create({ref.group, ref.version, ref.resource, ref.namespace_, ref.workspace}, obj);
}

Result<Json> KcpUpstream::MergePatch(const ObjectRef& ref, const Json& patch) {
  TMCD_ASSIGN_OR_RETURN(auto ep, EndpointFor(ref.workspace));
  return ep->client->Patch({ref.group, ref.version, ref.resource, ref.namespace_, ref.workspace}, ref.name,
                           kube::PatchType::kMerge, patch);
}

}  // namespace tmcd::upstream
