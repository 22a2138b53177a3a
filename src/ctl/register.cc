#include "ctl/register.h"

#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "common/strings.h"
#include "ctl/clusters.h"
#include "sync/interpreter.h"

namespace tmcd::ctl {
namespace {

constexpr const char* kMemberNamespace = "tmc-system";
constexpr const char* kManagedBy = "app.kubernetes.io/managed-by";

const std::vector<std::string>& AllVerbs() {
  static const std::vector<std::string> kVerbs = {"get", "list", "watch", "create", "update", "patch", "delete"};
  return kVerbs;
}

std::string Workspace(const Session& s) {
  return s.conn.workspace.empty() ? "root" : s.conn.workspace;
}

}  // namespace

std::string MemberName(const std::string& name, const std::string& workspace) {
  return "tmcd-" + name + "-" + HexEncode(Sha256(workspace + "/" + name)).substr(0, 8);
}

Json SyncerClusterRole(const std::vector<std::string>& extra) {
  Json rules = Json::array();
  rules.push_back({{"nonResourceURLs", {"/readyz", "/livez", "/version", "/api", "/api/*", "/apis", "/apis/*"}},
                   {"verbs", {"get"}}});
  rules.push_back({{"apiGroups", {""}}, {"resources", {"namespaces"}}, {"verbs", AllVerbs()}});
  rules.push_back({{"apiGroups", {""}}, {"resources", {"nodes", "pods"}}, {"verbs", {"get", "list", "watch"}}});
  std::map<std::string, std::vector<std::string>> by_group;
  for (const auto& k : sync::BuiltinKinds()) by_group[k.group].push_back(k.resource);
  for (const auto& e : extra) {
    const auto dot = e.find('.');
    by_group[dot == std::string::npos ? "" : e.substr(dot + 1)].push_back(e.substr(0, dot));
  }
  for (const auto& [group, resources] : by_group) {
    rules.push_back({{"apiGroups", {group}}, {"resources", resources}, {"verbs", AllVerbs()}});
  }
  return rules;
}

std::vector<Json> MemberObjects(const std::string& name, const std::string& workspace,
                                const std::vector<std::string>& extra) {
  const std::string id = MemberName(name, workspace);
  const Json labels = {{kManagedBy, "tmcctl"}};
  const Json annotations = {{"tmc.kcp.io/workspace", workspace}, {"tmc.kcp.io/cluster-registration", name}};
  return {
      {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", kMemberNamespace}, {"labels", labels}}}},
      {{"apiVersion", "v1"},
       {"kind", "ServiceAccount"},
       {"metadata", {{"name", id}, {"namespace", kMemberNamespace}, {"labels", labels}, {"annotations", annotations}}}},
      {{"apiVersion", "rbac.authorization.k8s.io/v1"},
       {"kind", "ClusterRole"},
       {"metadata", {{"name", id}, {"labels", labels}, {"annotations", annotations}}},
       {"rules", SyncerClusterRole(extra)}},
      {{"apiVersion", "rbac.authorization.k8s.io/v1"},
       {"kind", "ClusterRoleBinding"},
       {"metadata", {{"name", id}, {"labels", labels}, {"annotations", annotations}}},
       {"roleRef", {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "ClusterRole"}, {"name", id}}},
       {"subjects", {{{"kind", "ServiceAccount"}, {"name", id}, {"namespace", kMemberNamespace}}}}}};
}

kube::ResourceRef RefOf(const Json& obj) {
  const std::string api = obj.value("apiVersion", "");
  const auto slash = api.find('/');
  const std::string kind = obj.value("kind", "");
  std::string resource = ToLower(kind) + "s";
  const std::string ns = obj["metadata"].value("namespace", "");
  return {slash == std::string::npos ? "" : api.substr(0, slash),
          api.substr(slash == std::string::npos ? 0 : slash + 1), resource, ns, ""};
}

// Server-side apply as field manager tmcctl (force: tmcctl owns what it sets): fields it does not set, such as a
// registration's cordon and taints, stay. Returns "created", "configured" or "unchanged" (kubectl apply's words).
Result<std::string> Upsert(kube::Client& c, const kube::ResourceRef& r, const Json& obj) {
  const std::string name = obj["metadata"].value("name", "");
  auto before = c.Get(r, name);
  if (!before.ok() && before.status().reason() != Reason::kNotFound) return before.status();
  TMCD_ASSIGN_OR_RETURN(Json after, c.Apply(r, name, obj, "tmcctl", true));
  if (!before.ok()) return std::string("created");
  const auto rv = [](const Json& o) { return o.value("metadata", Json::object()).value("resourceVersion", ""); };
  return std::string(rv(*before) == rv(after) ? "unchanged" : "configured");
}

Result<std::unique_ptr<kube::Client>> MemberClient(const std::string& kubeconfig, const std::string& context) {
  if (kubeconfig.empty()) return BadRequest("--cluster-kubeconfig is required: the kubeconfig of the cluster");
  auto rc = kube::LoadKubeconfig(kubeconfig, context);
  if (!rc.ok()) return rc.status();
  kube::ClientOptions o;
  o.max_retries = 2;
  o.user_agent = "tmcctl/0.1";
  return kube::Client::Create(std::move(*rc), o);
}

namespace {

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return BadRequest("--ca-file " + Quote(path) + ": cannot be read");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Endpoint {
  std::string server, ca_pem;
  bool insecure = false;
};

Result<Endpoint> EndpointFor(const RegisterFlags& f) {
  auto rc = kube::LoadKubeconfig(f.cluster_kubeconfig, f.cluster_context);
  if (!rc.ok()) return rc.status();
  Endpoint e{f.endpoint.empty() ? rc->server : f.endpoint, rc->ca_pem, f.insecure_skip_tls_verify};
  if (!f.ca_file.empty()) {
    TMCD_ASSIGN_OR_RETURN(e.ca_pem, ReadFile(f.ca_file));
  }
  if (e.ca_pem.empty() && rc->insecure_skip_tls_verify && !e.insecure) {
    return BadRequest(
        "the kubeconfig does not verify the cluster's certificate (insecure-skip-tls-verify): give "
        "--ca-file with the CA that signs it, or --insecure-skip-tls-verify to register it unverified");
  }
  return e;
}

Result<Json> Labels(const std::string& spec) {
  Json out = Json::object();
  if (spec.empty()) return out;
  for (const auto& kv : Split(spec, ',')) {
    const auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0)
      return BadRequest("--labels " + Quote(spec) + ": want key=value[,key=value]");
    out[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  return out;
}

}  // namespace

namespace {

Result<std::pair<Json, Json>> UpstreamObjects(const std::string& name, const RegisterFlags& f, const Endpoint& e,
                                              const std::string& token) {
  TMCD_ASSIGN_OR_RETURN(Json labels, Labels(f.labels));
  const std::string secret_name = name + "-credentials";
  Json secret = {
      {"apiVersion", "v1"},
      {"kind", "Secret"},
      {"metadata",
       {{"name", secret_name}, {"namespace", f.credentials_namespace}, {"labels", {{kManagedBy, "tmcctl"}}}}},
      {"type", "Opaque"},
      {"data", {{"token", Base64Encode(token)}}}};
  Json endpoint = {{"server", e.server}};
  if (!e.ca_pem.empty()) endpoint["caBundle"] = Base64Encode(e.ca_pem);
  if (e.insecure) endpoint["insecureSkipTLSVerify"] = true;
  Json spec = {{"location", f.location},
               {"endpoint", endpoint},
               {"credentialsRef", {{"namespace", f.credentials_namespace}, {"name", secret_name}}}};
  if (!f.zone.empty()) spec["zone"] = f.zone;
  if (!f.provider.empty()) spec["provider"] = f.provider;
  Json reg = {{"apiVersion", "tmc.kcp.io/v1alpha1"},
              {"kind", "ClusterRegistration"},
              {"metadata", {{"name", name}}},
              {"spec", spec}};
  if (!labels.empty()) reg["metadata"]["labels"] = labels;
  return std::make_pair(secret, reg);
}

Result<std::string> RequestToken(kube::Client& member, const std::string& sa, int ttl_hours, std::string* expires) {
  const Json req = {{"apiVersion", "authentication.k8s.io/v1"},
                    {"kind", "TokenRequest"},
                    {"spec", {{"expirationSeconds", int64_t{ttl_hours} * 3600}}}};
  TMCD_ASSIGN_OR_RETURN(
      auto resp,
      member.Do("POST", "/api/v1/namespaces/" + std::string(kMemberNamespace) + "/serviceaccounts/" + sa + "/token",
                req.dump(), "application/json"));
  const Json tr = Json::parse(resp.body, nullptr, false);
  const std::string token = tr.is_object() ? tr.value("status", Json::object()).value("token", "") : "";
  if (token.empty()) return Internal("the cluster's TokenRequest answer carries no token");
  *expires = tr["status"].value("expirationTimestamp", "");
  return token;
}

int WaitReady(Session& s, const std::string& name, int timeout_seconds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_seconds);
  std::string last;
  while (std::chrono::steady_clock::now() < deadline) {
    auto c = GetCluster(s, name);
    if (c.ok() && ConditionStatus(*c, "Ready") == "True") {
      *s.out << "clusterregistration.tmc.kcp.io/" << name << " is Ready\n";
      return kExitOk;
    }
    if (c.ok()) {
      for (const auto& cond : c->value("status", Json::object()).value("conditions", Json::array())) {
        if (cond.value("status", "") != "True") last = cond.value("type", "") + ": " + cond.value("message", "");
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  return Fail(
      s,
      Status(Reason::kTimeout, "clusterregistration " + Quote(name) + " did not become Ready within " +
                                   std::to_string(timeout_seconds) + "s" + (last.empty() ? "" : " (" + last + ")")),
      "`tmcctl cluster describe " + name + "` shows its conditions");
}

}  // namespace

int ClusterRegister(Session& s, const std::string& name, const RegisterFlags& f) {
  auto endpoint = EndpointFor(f);
  if (!endpoint.ok()) return Fail(s, endpoint.status());
  const std::vector<Json> member_objects = MemberObjects(name, Workspace(s), f.extra_resources);
  if (f.dry_run) {
    auto up = UpstreamObjects(name, f, *endpoint, "");
    if (!up.ok()) return Fail(s, up.status());
    up->first.erase("data");
    up->first["stringData"] = {{"token", "<requested for the ServiceAccount at registration (TokenRequest)>"}};
    *s.out << "# On the cluster " << endpoint->server << ":\n";
    for (const auto& o : member_objects) *s.out << "---\n" << ToYaml(o);
    *s.out << "# On " << s.conn.where << (s.conn.workspace.empty() ? "" : " workspace " + s.conn.workspace) << ":\n";
    *s.out << "---\n" << ToYaml(up->first) << "---\n" << ToYaml(up->second);
    return kExitOk;
  }
  auto member = MemberClient(f.cluster_kubeconfig, f.cluster_context);
  if (!member.ok()) return Fail(s, member.status());
  for (const auto& o : member_objects) {
    auto what = Upsert(**member, RefOf(o), o);
    if (!what.ok()) {
      return Fail(s,
                  what.status().Annotate("on the cluster, " + ToLower(o.value("kind", "")) + " " +
                                         Quote(o["metadata"].value("name", ""))),
                  "the --cluster-kubeconfig user needs rights to create ServiceAccounts, ClusterRoles and bindings");
    }
    *s.out << "cluster: " << ToLower(o.value("kind", "")) << "/" << o["metadata"].value("name", "") << " " << *what
           << "\n";
  }
  std::string expires;
  auto token = RequestToken(**member, MemberName(name, Workspace(s)), f.token_ttl_hours, &expires);
  if (!token.ok()) return Fail(s, token.status().Annotate("requesting a token on the cluster"));
  auto up = UpstreamObjects(name, f, *endpoint, *token);
  if (!up.ok()) return Fail(s, up.status());
  auto ns = s.conn.client->Create(
      s.Ref("", "v1", "namespaces"),
      {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", f.credentials_namespace}}}});
  if (!ns.ok() && ns.status().reason() != Reason::kAlreadyExists) return Fail(s, ns.status());
  auto secret = Upsert(*s.conn.client, s.Ref("", "v1", "secrets", f.credentials_namespace), up->first);
  if (!secret.ok()) return Fail(s, secret.status());
  *s.out << "tmcd: secret/" << f.credentials_namespace << "/" << name << "-credentials " << *secret
         << " (token expires " << expires << ")\n";
  auto reg = Upsert(*s.conn.client, s.Tmc("clusterregistrations"), up->second);
  if (!reg.ok()) return Fail(s, reg.status());
  *s.out << "tmcd: clusterregistration.tmc.kcp.io/" << name << " " << *reg << "\n";
  return f.wait ? WaitReady(s, name, f.wait_timeout_seconds) : kExitOk;
}

}  // namespace tmcd::ctl
