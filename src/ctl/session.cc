#include "ctl/session.h"

#include "common/strings.h"

namespace tmcd::ctl {
namespace {

std::string DerivedHint(const Status& st, std::string_view where) {
  const std::string at = where.empty() ? "" : " at " + std::string(where);
  switch (st.reason()) {
    case Reason::kUnauthorized:
      return "the server" + at +
             " refused the credentials: check --token, --client-certificate or the kubeconfig's user (`tmcd "
             "kubeconfig --user NAME` issues one; the Unix socket needs none)";
    case Reason::kForbidden:
      return "ask an administrator of the workspace for a role that allows it (e.g. the ClusterRole "
             "tmc:cluster-operator); `kubectl auth can-i --list` shows what you may do";
    case Reason::kServiceUnavailable:
    case Reason::kTimeout:
      if (where.empty()) return "start tmcd, or say where it is: --socket PATH, --server URL or --kubeconfig FILE";
      return "is tmcd running and reachable" + at +
             "? (`systemctl status tmcd`); --server, --socket or --kubeconfig choose another server";
    default:
      return "";
  }
}

}  // namespace

int FailTo(std::ostream& err, const Status& st, std::string_view where, std::string_view hint) {
  err << "error: " << st.message() << "\n";
  const std::string h = hint.empty() ? DerivedHint(st, where) : std::string(hint);
  if (!h.empty()) err << "hint: " << h << "\n";
  return kExitFailure;
}

int Fail(const Session& s, const Status& st, std::string_view hint) {
  return FailTo(*s.err, st, s.conn.where, hint);
}

void NoResources(const Session& s, bool namespaced) {
  if (namespaced && !s.all_namespaces) {
    *s.err << "No resources found in " << s.namespace_ << " namespace.\n";
  } else {
    *s.err << "No resources found\n";
  }
}

}  // namespace tmcd::ctl
