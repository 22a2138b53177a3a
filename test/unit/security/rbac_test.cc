// RBAC: kube's rule matching, bindings that grant only in their own workspace and namespace,
// built-in roles, validation and escalation prevention, over a real store.
#include "security/rbac.h"

#include <doctest/doctest.h>

#include "store/temp_store.h"

namespace tmcd::security {
namespace {

using Json = nlohmann::json;

UserInfo User(std::string name, std::vector<std::string> groups = {}) {
  groups.emplace_back("system:authenticated");
  return {std::move(name), "", std::move(groups), true, "x509"};
}

Attributes Res(std::string ws, std::string verb, std::string group, std::string resource, std::string ns,
               std::string name = "", std::string sub = "") {
  Attributes a;
  a.workspace = std::move(ws);
  a.verb = std::move(verb);
  a.group = std::move(group);
  a.resource = std::move(resource);
  a.namespace_ = std::move(ns);
  a.name = std::move(name);
  a.subresource = std::move(sub);
  return a;
}

void Put(store::Store& s, const std::string& ws, const std::string& resource, const std::string& ns, Json obj) {
  obj["metadata"]["namespace"] = ns;
  const std::string name = obj["metadata"]["name"];
  REQUIRE(s.Create({ws, std::string(kRbacGroup), resource, ns, name}, obj.dump()).ok());
}

Json Binding(const std::string& name, const std::string& role_kind, const std::string& role, Json subjects) {
  return {{"metadata", {{"name", name}}},
          {"roleRef", {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", role_kind}, {"name", role}}},
          {"subjects", std::move(subjects)}};
}

TEST_CASE("bindings grant in their own workspace and namespace only; built-in roles; masters and anonymous") {
  store::testing::TempDir dir;
  auto s = store::testing::OpenAt(dir.path());
  REQUIRE(s);
  Put(*s, "root:a", "rolebindings", "shop",
      Binding("t", "ClusterRole", "tmc:tenant", {{{"kind", "User"}, {"name", "alice"}}}));
  Put(*s, "root:a", "clusterrolebindings", "",
      Binding("v", "ClusterRole", "tmc:viewer", {{{"kind", "Group"}, {"name", "viewers"}}}));
  Put(*s, "root:a", "roles", "shop",
      {{"metadata", {{"name", "cm-one"}}},
       {"rules",
        {{{"verbs", {"get"}}, {"apiGroups", {""}}, {"resources", {"configmaps"}}, {"resourceNames", {"one"}}}}}});
  Put(*s, "root:a", "rolebindings", "shop",
      Binding("cm", "Role", "cm-one", {{{"kind", "ServiceAccount"}, {"name", "bot"}, {"namespace", "ci"}}}));
  Authorizer z(*s);
  const auto alice = User("alice");
  const auto vera = User("vera", {"viewers"});
  const auto bot = User("system:serviceaccount:ci:bot");
  const auto admin = User("root", {"system:masters"});
  UserInfo anon{"system:anonymous", "", {"system:unauthenticated"}, false, "anonymous"};
  struct Row {
    const UserInfo& user;
    Attributes a;
    bool allowed;
  };
  for (const Row& r : std::initializer_list<Row>{
           {alice, Res("root:a", "create", "apps", "deployments", "shop"), true},
           {alice, Res("root:a", "get", "", "secrets", "shop", "db"), true},
           {alice, Res("root:a", "get", "", "secrets", "other", "db"), false},  // another namespace
           {alice, Res("root:b", "get", "", "secrets", "shop", "db"), false},   // another workspace
           {alice, Res("root:a", "list", "apps", "deployments", ""), false},    // all namespaces
           {alice, Res("root:a", "get", "tmc.kcp.io", "workloadplacements", "shop", "w", "explain"), true},
           {alice, Res("root:a", "update", "tmc.kcp.io", "workloadplacements", "shop", "w", "status"), false},
           {alice, Res("root:a", "create", "tmc.kcp.io", "clusterregistrations", ""), false},
           {vera, Res("root:a", "list", "apps", "deployments", ""), true},
           {vera, Res("root:a", "watch", "tmc.kcp.io", "clusterregistrations", ""), true},
           {vera, Res("root:a", "get", "", "secrets", "shop", "db"), false},  // viewers never read Secrets
           {vera, Res("root:a", "delete", "apps", "deployments", "shop", "web"), false},
           {vera, Res("root", "list", "apps", "deployments", ""), false},
           {bot, Res("root:a", "get", "", "configmaps", "shop", "one"), true},
           {bot, Res("root:a", "get", "", "configmaps", "shop", "two"), false},  // resourceNames
           {bot, Res("root:a", "list", "", "configmaps", "shop"), false},
           {admin, Res("root:z", "delete", "", "secrets", "x", "y"), true},
           {anon, Res("root:a", "get", "", "configmaps", "shop", "one"), false},
       }) {
    CAPTURE(r.user.name);
    CAPTURE(r.a.verb + " " + r.a.group + "/" + r.a.resource + "/" + r.a.subresource + " " + r.a.workspace + "/" +
            r.a.namespace_ + "/" + r.a.name);
    CHECK(z.Authorize(r.user, r.a).allowed == r.allowed);
  }
  // Non-resource paths: discovery for every user bound in the workspace (it names the workspace's
  // custom resources), /metrics only with tmc:monitoring.
  Attributes metrics;
  metrics.resource_request = false;
  metrics.verb = "get";
  metrics.path = "/metrics";
  CHECK_FALSE(z.Authorize(vera, metrics).allowed);
  Attributes apis = metrics;
  apis.path = "/apis/apps/v1";
  apis.workspace = "root:a";
  CHECK(z.Authorize(vera, apis).allowed);
  CHECK_FALSE(z.Authorize(anon, apis).allowed);
  Attributes other = apis;  // vera has no binding in root:b: neither its discovery nor its OpenAPI
  other.workspace = "root:b";
  CHECK_FALSE(z.Authorize(vera, other).allowed);
  other.path = "/openapi/v3/apis/example.com/v1";
  CHECK_FALSE(z.Authorize(vera, other).allowed);
  other.path = "/version";  // not workspace content
  CHECK(z.Authorize(vera, other).allowed);
  Put(*s, "root", "clusterrolebindings", "",
      Binding("m", "ClusterRole", "tmc:monitoring", {{{"kind", "User"}, {"name", "prom"}}}));
  z.Invalidate("root");
  CHECK(z.Authorize(User("prom"), metrics).allowed);
  // The cache follows invalidation: a new binding counts at once.
  CHECK_FALSE(z.Authorize(vera, Res("root:a", "get", "", "secrets", "shop", "db")).allowed);
  Put(*s, "root:a", "rolebindings", "shop",
      Binding("op", "ClusterRole", "tmc:cluster-operator", {{{"kind", "User"}, {"name", "vera"}}}));
  z.Invalidate("root:a");
  CHECK(z.Authorize(vera, Res("root:a", "get", "", "secrets", "shop", "db")).allowed);
}

TEST_CASE("kube's 403 message names the user, verb, resource, group, namespace and workspace") {
  const auto alice = User("alice");
  CHECK(ForbiddenMessage(alice, Res("root", "list", "", "secrets", "shop")) ==
        "secrets is forbidden: User \"alice\" cannot list resource \"secrets\" in API group \"\" in the namespace "
        "\"shop\"");
  CHECK(ForbiddenMessage(alice, Res("root:a", "get", "tmc.kcp.io", "clusterregistrations", "", "c1")) ==
        "clusterregistrations.tmc.kcp.io \"c1\" is forbidden: User \"alice\" cannot get resource "
        "\"clusterregistrations\" in API group \"tmc.kcp.io\" at the cluster scope in workspace \"root:a\"");
}

TEST_CASE("validation of roles and bindings as kube validates them") {
  CHECK(ValidateRbacObject("ClusterRole", {{"rules", {{{"verbs", {"get"}}, {"nonResourceURLs", {"/metrics"}}}}}}).ok());
  CHECK(ValidateRbacObject("Role", {{"rules", {{{"verbs", {"get"}}, {"nonResourceURLs", {"/metrics"}}}}}})
            .message()
            .find("namespaced rules cannot apply to non-resource URLs") != std::string::npos);
  CHECK(ValidateRbacObject("Role", {{"rules", {{{"apiGroups", {""}}, {"resources", {"pods"}}}}}})
            .message()
            .find("rules[0].verbs: Required value") != std::string::npos);
  CHECK(ValidateRbacObject("Role", {{"rules", {{{"verbs", {"get"}}, {"resources", {"pods"}}}}}})
            .message()
            .find("apiGroups: Required value") != std::string::npos);
  CHECK(ValidateRbacObject("ClusterRole", {{"rules", {{{"verbs", {"get"}}, {"nonResourceURLs", {""}}}}}})
            .message()
            .find("must be \"*\" or start with \"/\"") != std::string::npos);
  CHECK(ValidateRbacObject("ClusterRole", {{"aggregationRule", {{"clusterRoleSelectors", Json::array()}}}})
            .message()
            .find("not supported") != std::string::npos);
  CHECK(ValidateRbacObject("ClusterRoleBinding", Binding("b", "Role", "r", Json::array()))
            .message()
            .find("roleRef.kind") != std::string::npos);
  CHECK(ValidateRbacObject("RoleBinding", Binding("b", "Role", "r", {{{"kind", "ServiceAccount"}, {"name", "x"}}}))
            .message()
            .find("subjects[0].namespace: Required value") != std::string::npos);
  CHECK(
      ValidateRbacObject("RoleBinding", Binding("b", "ClusterRole", "tmc:tenant", {{{"kind", "User"}, {"name", "a"}}}))
          .ok());
}

TEST_CASE("escalation: only what one holds can be granted, unless escalate/bind is held") {
  store::testing::TempDir dir;
  auto s = store::testing::OpenAt(dir.path());
  REQUIRE(s);
  // lead may manage RBAC in namespace shop and holds tmc:tenant there.
  Put(*s, "root", "roles", "shop",
      {{"metadata", {{"name", "rbac-admin"}}},
       {"rules",
        {{{"verbs", {"*"}}, {"apiGroups", {"rbac.authorization.k8s.io"}}, {"resources", {"roles", "rolebindings"}}}}}});
  Put(*s, "root", "rolebindings", "shop", Binding("a", "Role", "rbac-admin", {{{"kind", "User"}, {"name", "lead"}}}));
  Put(*s, "root", "rolebindings", "shop",
      Binding("b", "ClusterRole", "tmc:tenant", {{{"kind", "User"}, {"name", "lead"}}}));
  Authorizer z(*s);
  const auto lead = User("lead");
  auto never = [](const std::string&) { return false; };
  Json sub = {{"metadata", {{"name", "x"}, {"namespace", "shop"}}},
              {"rules", {{{"verbs", {"get", "list"}}, {"apiGroups", {""}}, {"resources", {"secrets"}}}}}};
  CHECK(z.CheckRbacWrite(lead, "root", "Role", sub, never).ok());
  Json wider = sub;
  wider["rules"][0]["resources"] = {"*"};  // a wildcard is covered only by a wildcard
  auto denied = z.CheckRbacWrite(lead, "root", "Role", wider, never);
  CHECK(denied.reason() == Reason::kForbidden);
  CHECK(denied.message().find("attempting to grant RBAC permissions not currently held") != std::string::npos);
  CHECK(z.CheckRbacWrite(lead, "root", "Role", wider, [](const std::string& v) { return v == "escalate"; }).ok());
  Json bind_tenant = Binding("c", "ClusterRole", "tmc:tenant", {{{"kind", "User"}, {"name", "intern"}}});
  bind_tenant["metadata"]["namespace"] = "shop";
  CHECK(z.CheckRbacWrite(lead, "root", "RoleBinding", bind_tenant, never).ok());
  Json bind_operator = Binding("d", "ClusterRole", "tmc:cluster-operator", {{{"kind", "User"}, {"name", "intern"}}});
  bind_operator["metadata"]["namespace"] = "shop";
  CHECK(z.CheckRbacWrite(lead, "root", "RoleBinding", bind_operator, never).reason() == Reason::kForbidden);
  CHECK(z.CheckRbacWrite(lead, "root", "RoleBinding", bind_operator, [](const std::string& v) {
           return v == "bind";
         }).ok());
  // In another workspace lead holds nothing.
  CHECK_FALSE(z.CheckRbacWrite(lead, "root:b", "Role", sub, never).ok());
}

}  // namespace
}  // namespace tmcd::security
