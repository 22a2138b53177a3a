// `tmcctl cluster deregister` (docs/tmcctl.md "Deregistering a cluster"): drain, delete the registration
// (its finalizer removes every copy of the workspace from the cluster), then the credentials on both sides.
#include <thread>

#include "common/strings.h"
#include "ctl/clusters.h"
#include "ctl/register.h"

namespace tmcd::ctl {
namespace {

constexpr const char* kMemberNamespace = "tmc-system";

Status WaitGone(Session& s, const std::string& name, int timeout_seconds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    auto c = GetCluster(s, name);
    if (!c.ok() && c.status().reason() == Reason::kNotFound) return Status::Ok();
    if (!c.ok()) return c.status();
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  return Status(Reason::kTimeout, "clusterregistration " + Quote(name) + " is still being removed after " +
                                      std::to_string(timeout_seconds) + "s (its copies are being deleted)");
}

// Removes what `cluster register` made on the member; the namespace goes with the last identity in it.
Status RemoveMemberObjects(Session& s, const std::string& name, const DeregisterFlags& f) {
  TMCD_ASSIGN_OR_RETURN(auto member, MemberClient(f.cluster_kubeconfig, f.cluster_context));
  const std::string workspace = s.conn.workspace.empty() ? "root" : s.conn.workspace;
  auto objects = MemberObjects(name, workspace, {});
  for (auto it = objects.rbegin(); it != objects.rend(); ++it) {
    const Json& o = *it;
    const std::string kind = ToLower(o.value("kind", ""));
    const std::string n = o["metadata"].value("name", "");
    if (kind == "namespace") {
      kube::ListOptions lo;
      lo.label_selector = "app.kubernetes.io/managed-by=tmcctl";
      TMCD_ASSIGN_OR_RETURN(auto others, member->List({"", "v1", "serviceaccounts", kMemberNamespace, ""}, lo));
      if (!others.items.empty()) {
        *s.out << "cluster: namespace/" << n << " kept (" << others.items.size() << " other registration(s) use it)\n";
        continue;
      }
    }
    Status st = member->Delete(RefOf(o), n);
    if (!st.ok() && st.reason() != Reason::kNotFound)
      return st.Annotate("on the cluster, deleting " + kind + " " + Quote(n));
    *s.out << "cluster: " << kind << "/" << n << (st.ok() ? " deleted" : " already gone") << "\n";
  }
  return Status::Ok();
}

}  // namespace

int ClusterDeregister(Session& s, const std::string& name, const DeregisterFlags& f) {
  auto c = GetCluster(s, name);
  if (!c.ok()) return Fail(s, c.status(), "`tmcctl cluster list` shows the registered clusters");
  const Json creds = c->value("spec", Json::object()).value("credentialsRef", Json::object());
  if (f.drain && !c->value("metadata", Json::object()).contains("deletionTimestamp")) {
    ClusterDrain(s, name, {true, f.timeout_seconds});  // what did not move is removed with the registration
  }
  Status st = s.conn.client->Delete(s.Tmc("clusterregistrations"), name);
  if (!st.ok() && st.reason() != Reason::kNotFound) return Fail(s, st);
  *s.out << "tmcd: clusterregistration.tmc.kcp.io/" << name << " deleted; waiting for its copies to be removed\n";
  if (Status gone = WaitGone(s, name, f.timeout_seconds); !gone.ok()) return Fail(s, gone);
  if (!creds.empty()) {
    const std::string ns = creds.value("namespace", "");
    const std::string secret = creds.value("name", "");
    auto sec = s.conn.client->Get(s.Ref("", "v1", "secrets", ns), secret);
    const bool ours = sec.ok() && sec->value("metadata", Json::object())
                                          .value("labels", Json::object())
                                          .value("app.kubernetes.io/managed-by", "") == "tmcctl";
    if (ours) {
      Status del = s.conn.client->Delete(s.Ref("", "v1", "secrets", ns), secret);
      if (!del.ok() && del.reason() != Reason::kNotFound) return Fail(s, del);
      *s.out << "tmcd: secret/" << ns << "/" << secret << " deleted\n";
    } else if (sec.ok()) {
      *s.out << "tmcd: secret/" << ns << "/" << secret << " kept (not made by tmcctl)\n";
    }
  }
  if (f.cluster_kubeconfig.empty()) {
    *s.out << "the cluster still holds tmcd's identity " << kMemberNamespace << "/"
           << MemberName(name, s.conn.workspace.empty() ? "root" : s.conn.workspace)
           << " (its token stays valid until it expires): give --cluster-kubeconfig to remove it\n";
    return kExitOk;
  }
  if (Status rm = RemoveMemberObjects(s, name, f); !rm.ok()) return Fail(s, rm);
  return kExitOk;
}

}  // namespace tmcd::ctl
