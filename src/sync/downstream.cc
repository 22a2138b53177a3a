#include "sync/downstream.h"

#include <spdlog/spdlog.h>

#include "sync/naming.h"

namespace tmcd::sync {

kube::ResourceRef Ref(const std::string& group, const std::string& version, const std::string& resource,
                      const std::string& ns) {
  kube::ResourceRef r;
  r.group = group;
  r.version = version;
  r.resource = resource;
  r.namespace_ = ns;
  return r;
}

kube::ResourceRef Ref(const std::string& group, const std::string& resource, const std::string& ns) {
  return Ref(group, "v1", resource, ns);
}

Downstream::Downstream(std::unique_ptr<kube::Client> client, std::string fingerprint,
                       const std::function<void(const UpstreamId&)>& on_change)
    : client_(std::move(client)), fingerprint_(std::move(fingerprint)), on_change_(on_change) {}

Downstream::~Downstream() {
  std::map<std::string, std::unique_ptr<kube::Informer>> informers;
  {
    std::lock_guard<std::mutex> lock(mu_);
    informers.swap(informers_);
  }
  for (auto& [k, inf] : informers) inf->Stop();
}

std::optional<Json> Downstream::Cached(const kube::ResourceRef& r, const std::string& ns, const std::string& name) {
  const std::string k = r.group + "/" + r.version + "/" + r.resource;
  kube::Informer* inf = nullptr;
  bool start = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = informers_.find(k);
    if (it != informers_.end()) {
      inf = it->second.get();
    } else {
      inf = MakeInformer(k, r);
      start = true;
    }
  }
  if (start) inf->Start();  // outside the lock: its first events may call back into the syncer
  // Not in a cache that has not listed yet is not "absent": after a restart every copy would be applied
  // again. Wait for the first list (one request), or read the object itself when that takes too long.
  constexpr auto kSyncWait = std::chrono::seconds(5);
  if (inf->HasSynced() || (!client_->FailingFast() && inf->WaitForSync(kSyncWait))) return inf->Get(ns + "/" + name);
  auto got = client_->Get(Ref(r.group, r.version, r.resource, ns), name);
  if (!got.ok()) return std::nullopt;
  TrimForCache(*got);
  return *got;
}

kube::Informer* Downstream::MakeInformer(const std::string& k, const kube::ResourceRef& r) {
  kube::Informer::Options o;
  o.label_selector = std::string(kManagedByLabel) + "=" + std::string(kManagedByValue);
  o.transform = TrimForCache;
  const kube::ResourceRef all = Ref(r.group, r.version, r.resource, "");
  // A relist after a 410 means tmcd missed that cluster's changes for a while (a long partition,
  // a restarted apiserver over a compacted etcd): say so, as drift found then is corrected late.
  o.on_relist = [server = client_->config().server, k](const Status& cause) {
    if (!cause.ok()) spdlog::info("sync: {} on {} relisted after: {}", k, server, cause.ToString());
  };
  auto informer = std::make_unique<kube::Informer>(*client_, all, o);
  auto notify = [on_change = on_change_, all](const Json& obj) {
    UpstreamId id;
    if (!UpstreamFromAnnotation(obj, id)) return;
    id.group = all.group;
    id.version = all.version;
    id.resource = all.resource;
    on_change(id);
  };
  auto note = [this, k](const Json& obj, bool removed) {
    const Json& m = obj.value("metadata", Json::object());
    NoteRemoved(CopyKey(k, m.value("namespace", ""), m.value("name", "")), removed);
  };
  informer->AddHandlers({.on_add =
                             [notify, note](const Json& obj) {
                               note(obj, false);
                               notify(obj);
                             },
                         .on_update = [notify](const Json&, const Json& now) { notify(now); },
                         .on_delete =
                             [notify, note](const Json& obj) {
                               note(obj, true);
                               notify(obj);
                             }});
  kube::Informer* inf = informer.get();
  informers_[k] = std::move(informer);
  return inf;
}

std::string Downstream::CopyKey(const std::string& gvr, const std::string& ns, const std::string& name) {
  return gvr + "|" + ns + "/" + name;
}

std::string Downstream::CopyKey(const kube::ResourceRef& r, const std::string& ns, const std::string& name) {
  return CopyKey(r.group + "/" + r.version + "/" + r.resource, ns, name);
}

bool Downstream::Removed(const kube::ResourceRef& r, const std::string& ns, const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  return removed_.count(CopyKey(r, ns, name)) != 0;
}

bool Downstream::AppliedRecently(const kube::ResourceRef& r, const std::string& ns, const std::string& name) {
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard<std::mutex> lock(mu_);
  auto it = applied_.find(CopyKey(r, ns, name));
  return it != applied_.end() && now - it->second < kAppliedMemo;
}

void Downstream::NoteRemoved(const std::string& key, bool removed) {
  constexpr auto kKeep = std::chrono::minutes(10);
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard<std::mutex> lock(mu_);
  if (!removed) {
    removed_.erase(key);
    return;
  }
  removed_[key] = now;
  if (removed_.size() % 1024 == 0) std::erase_if(removed_, [&](const auto& e) { return now - e.second > kKeep; });
}

Status Downstream::EnsureNamespace(const std::string& workspace, const std::string& ns) {
  const std::string name = DownstreamNamespace(workspace, ns);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (namespaces_.count(name) != 0) return Status::Ok();
  }
  const std::string locator = Locator(workspace, ns);
  auto existing = client_->Get(Ref("", "namespaces", ""), name);
  if (!existing.ok() && existing.status().reason() != Reason::kNotFound) return existing.status();
  if (existing.ok()) {
    const Json a = (*existing)["metadata"].value("annotations", Json::object());
    const std::string found = a.value(std::string(kLocatorAnnotation), "");
    if (found != locator) {
      return Status(Reason::kConflict, "NamespaceCollision: namespace " + name + " exists on the cluster with " +
                                           (found.empty() ? std::string("no locator") : "locator " + found) + ", not " +
                                           locator + "; tmcd leaves it untouched");
    }
    if ((*existing)["metadata"].contains("deletionTimestamp")) {
      return Status(Reason::kConflict, "namespace " + name + " is being deleted; waiting for it to go");
    }
  } else {
    auto created = client_->Create(Ref("", "namespaces", ""), NamespaceObject(workspace, ns));
    if (!created.ok() && created.status().reason() != Reason::kAlreadyExists) return created.status();
    if (!created.ok()) return EnsureNamespace(workspace, ns);  // raced with another creator: check its locator
  }
  std::lock_guard<std::mutex> lock(mu_);
  namespaces_.insert(name);
  return Status::Ok();
}

Status Downstream::DeleteNamespace(const std::string& workspace, const std::string& ns) {
  const std::string name = DownstreamNamespace(workspace, ns);
  {
    std::lock_guard<std::mutex> lock(mu_);
    namespaces_.erase(name);
  }
  auto existing = client_->Get(Ref("", "namespaces", ""), name);
  if (!existing.ok()) return existing.status().reason() == Reason::kNotFound ? Status::Ok() : existing.status();
  const Json a = (*existing)["metadata"].value("annotations", Json::object());
  const Json l = (*existing)["metadata"].value("labels", Json::object());
  if (a.value(std::string(kLocatorAnnotation), "") != Locator(workspace, ns) ||
      l.value(std::string(kManagedByLabel), "") != kManagedByValue) {
    return Status::Ok();  // not ours
  }
  kube::DeleteOptions o;
  o.precondition_uid = (*existing)["metadata"].value("uid", "");
  Status s = client_->Delete(Ref("", "namespaces", ""), name, o);
  return s.reason() == Reason::kNotFound ? Status::Ok() : s;
}

Result<Json> Downstream::Apply(const kube::ResourceRef& r, const Json& obj) {
  const Json& m = obj["metadata"];
  auto applied = client_->Apply(r, m.value("name", ""), obj, kFieldManager, true);
  // Put back: no longer "seen going", even before the informer sees it come (so it counts once).
  if (applied.ok()) {
    const std::string key = CopyKey(r, m.value("namespace", ""), m.value("name", ""));
    NoteRemoved(key, false);
    const auto now = std::chrono::steady_clock::now();
    std::lock_guard<std::mutex> lock(mu_);
    applied_[key] = now;
    if (applied_.size() % 1024 == 0)
      std::erase_if(applied_, [&](const auto& e) { return now - e.second > kAppliedMemo; });
    return applied;
  }
  // The namespace is gone or going (deleted by hand, or by tmcd with its last copy): made sure of
  // again by the next EnsureNamespace rather than trusted until the process ends.
  const Reason why = applied.status().reason();
  if (why == Reason::kNotFound ||
      (why == Reason::kForbidden && applied.status().message().find("being terminated") != std::string::npos)) {
    std::lock_guard<std::mutex> lock(mu_);
    namespaces_.erase(m.value("namespace", ""));
  }
  return applied;
}

}  // namespace tmcd::sync
