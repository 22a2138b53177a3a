#pragma once
// Kubernetes RBAC for the local API, evaluated per workspace (docs/security.md "Authorization").
//
// Roles, ClusterRoles, RoleBindings and ClusterRoleBindings (rbac.authorization.k8s.io/v1) live in
// the store under their workspace like any object; a binding grants only in its own workspace, so a
// subject bound in workspace A can do nothing in workspace B. Built-in ClusterRoles (cluster-admin,
// tmc:cluster-operator, tmc:tenant, tmc:viewer, tmc:monitoring) exist in every workspace and cannot
// be shadowed. The group system:masters is allowed everything (the kube-apiserver's superuser);
// every authenticated user may read discovery, OpenAPI, health and /version and create
// SelfSubjectAccessReviews and SelfSubjectRulesReviews (kube's system:basic-user and
// system:discovery). Rule matching follows kube's: verbs, apiGroups, resources ("res/sub" for a
// subresource, "*", "*/sub"), resourceNames, nonResourceURLs (exact or "prefix*").
//
// Escalation prevention is kube's too: a Role or ClusterRole may only be written by someone who
// holds every permission in it (or has the `escalate` verb on it), a binding only by someone who
// holds every permission of the role it references (or has `bind` on it).
//
// Policies are read from the store per workspace and cached; the API server invalidates a
// workspace after every RBAC write it makes (only the local API writes RBAC objects).
// Thread-safe.

#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/status.h"
#include "security/authn.h"
#include "store/store.h"

namespace tmcd::security {

inline constexpr std::string_view kRbacGroup = "rbac.authorization.k8s.io";

struct PolicyRule {
  std::vector<std::string> verbs;
  std::vector<std::string> api_groups;
  std::vector<std::string> resources;
  std::vector<std::string> resource_names;
  std::vector<std::string> non_resource_urls;
  nlohmann::json ToJson() const;
};

// What a request does, as the authorizer sees it (kube's authorizer.Attributes).
struct Attributes {
  std::string workspace = "root";
  bool resource_request = true;
  std::string verb;  // get list watch create update patch delete (resources); get post put ... (paths)
  std::string group;
  std::string resource;
  std::string subresource;
  std::string namespace_;
  std::string name;
  std::string path;  // non-resource requests
};

struct Decision {
  bool allowed = false;
  std::string reason;  // which binding allowed it, or why not
};

// Parses and validates the `rules` of a Role/ClusterRole (kube's validation: verbs required, a rule
// is either about resources (apiGroups + resources) or about nonResourceURLs, the latter only in
// ClusterRoles). Errors carry the field path.
Result<std::vector<PolicyRule>> ParseRules(const nlohmann::json& rules, bool cluster_role);
// Validates a whole RBAC object of `kind` (Role, ClusterRole, RoleBinding, ClusterRoleBinding):
// rules, roleRef (immutable is enforced by the caller), subjects.
Status ValidateRbacObject(std::string_view kind, const nlohmann::json& obj);
// The rules of the built-in ClusterRole `name`, or nullptr.
const std::vector<PolicyRule>* BuiltinClusterRole(std::string_view name);
const std::map<std::string, std::vector<PolicyRule>, std::less<>>& BuiltinClusterRoles();

// kube's 403 message: `User "u" cannot list resource "secrets" in API group "" in the namespace "n"`.
std::string ForbiddenMessage(const UserInfo& user, const Attributes& a);

class Authorizer {
 public:
  explicit Authorizer(store::Store& store) : store_(store) {}

  Decision Authorize(const UserInfo& user, const Attributes& a);
  // Every rule that applies to `user` in `workspace` and `ns` ("" = cluster-wide rules only).
  std::vector<PolicyRule> RulesFor(const UserInfo& user, const std::string& workspace, const std::string& ns);
  // Escalation prevention for a write of an RBAC object (the object as it would be stored).
  Status CheckRbacWrite(const UserInfo& user, const std::string& workspace, std::string_view kind,
                        const nlohmann::json& obj, const std::function<bool(const std::string& verb)>& may);
  // Drops the cached policy of `workspace` (after an RBAC write).
  void Invalidate(const std::string& workspace);

 private:
  struct Subject {
    std::string kind;
    std::string name;
    std::string namespace_;
  };
  struct Binding {
    std::string name;
    std::string namespace_;  // "" for ClusterRoleBindings
    std::string role_kind;   // Role or ClusterRole
    std::string role_name;
    std::vector<Subject> subjects;
  };
  struct Policy {
    std::map<std::string, std::vector<PolicyRule>> cluster_roles;
    std::map<std::pair<std::string, std::string>, std::vector<PolicyRule>> roles;  // (ns, name)
    std::vector<Binding> cluster_bindings;
    std::multimap<std::string, Binding> role_bindings;  // by namespace
  };
  std::shared_ptr<const Policy> Load(const std::string& workspace);
  static bool Applies(const Binding& b, const UserInfo& user);
  static const std::vector<PolicyRule>* RoleRules(const Policy& p, const Binding& b);
  static void ParseBinding(const nlohmann::json& obj, Binding& out);

  store::Store& store_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<const Policy>> cache_;  // guarded by mu_
  std::map<std::string, uint64_t> generation_;                  // guarded by mu_
};

// Whether `rules` allow `a` (one matching rule is enough).
bool RulesAllow(const std::vector<PolicyRule>& rules, const Attributes& a);

}  // namespace tmcd::security
