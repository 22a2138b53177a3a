#include "security/rbac.h"

#include <algorithm>

#include "common/strings.h"

namespace tmcd::security {
namespace {

using Json = nlohmann::json;

bool Has(const std::vector<std::string>& v, std::string_view x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

PolicyRule Rule(std::vector<std::string> verbs, std::vector<std::string> groups, std::vector<std::string> resources) {
  return PolicyRule{std::move(verbs), std::move(groups), std::move(resources), {}, {}};
}

std::map<std::string, std::vector<PolicyRule>, std::less<>> BuildBuiltins() {
  const std::vector<std::string> all = {"*"};
  const std::vector<std::string> read = {"get", "list", "watch"};
  const std::vector<std::string> write = {"get", "list", "watch", "create", "update", "patch", "delete"};
  std::map<std::string, std::vector<PolicyRule>, std::less<>> out;
  out["cluster-admin"] = {Rule(all, all, all), PolicyRule{all, {}, {}, {}, all}};
  out["tmc:cluster-operator"] = {
      Rule(write, {"tmc.kcp.io"}, {"clusterregistrations", "clusterregistrations/status"}),
      Rule(write, {""}, {"secrets"}),
      Rule({"get", "list", "watch", "create"}, {""}, {"namespaces"}),
      Rule(read, {"tmc.kcp.io"}, {"workloadplacements", "workloadplacements/explain", "syncrecords"}),
      Rule({"create"}, {"tmc.kcp.io"}, {"workloadplacements/explain"}),  // the dry run: evaluates, stores nothing
      Rule(read, {""}, {"events"}),
  };
  out["tmc:tenant"] = {
      Rule(write, {"tmc.kcp.io"}, {"workloadplacements"}),
      Rule({"get", "create"}, {"tmc.kcp.io"}, {"workloadplacements/explain"}),
      Rule(read, {"tmc.kcp.io"}, {"syncrecords"}),
      Rule(write, {"apps"}, {"deployments", "deployments/scale"}),
      Rule(write, {""}, {"configmaps", "secrets", "services", "serviceaccounts"}),
      Rule(read, {""}, {"events"}),
  };
  out["tmc:viewer"] = {
      Rule(read, {"tmc.kcp.io"},
           {"clusterregistrations", "workloadplacements", "workloadplacements/explain", "syncrecords"}),
      Rule(read, {"apps"}, {"deployments", "deployments/scale"}),
      Rule(read, {""}, {"namespaces", "configmaps", "services", "serviceaccounts", "events"}),
  };
  out["tmc:monitoring"] = {PolicyRule{{"get"}, {}, {}, {}, {"/metrics"}}};
  return out;
}

// kube's system:discovery + system:basic-user, for every authenticated user.
bool BasicUserAllowed(const Attributes& a) {
  if (!a.resource_request) {
    if (a.verb != "get") return false;
    const std::string& p = a.path;
    return p == "/api" || p == "/apis" || StartsWith(p, "/api/") || StartsWith(p, "/apis/") || p == "/openapi/v3" ||
           StartsWith(p, "/openapi/") || p == "/version" || p == "/healthz" || p == "/livez" || p == "/readyz";
  }
  return a.verb == "create" && a.group == "authorization.k8s.io" &&
         (a.resource == "selfsubjectaccessreviews" || a.resource == "selfsubjectrulesreviews");
}

bool ResourceMatches(const std::vector<std::string>& resources, const Attributes& a) {
  const std::string combined = a.subresource.empty() ? a.resource : a.resource + "/" + a.subresource;
  for (const auto& r : resources) {
    if (r == "*" || r == combined) return true;
    if (!a.subresource.empty() && r == "*/" + a.subresource) return true;
  }
  return false;
}

bool UrlMatches(const std::vector<std::string>& urls, const std::string& path) {
  for (const auto& u : urls) {
    if (u == "*" || u == path) return true;
    if (!u.empty() && u.back() == '*' && StartsWith(path, u.substr(0, u.size() - 1))) return true;
  }
  return false;
}

bool RuleAllows(const PolicyRule& r, const Attributes& a) {
  if (!Has(r.verbs, "*") && !Has(r.verbs, a.verb)) return false;
  if (!a.resource_request) return UrlMatches(r.non_resource_urls, a.path);
  if (!Has(r.api_groups, "*") && !Has(r.api_groups, a.group)) return false;
  if (!ResourceMatches(r.resources, a)) return false;
  return r.resource_names.empty() || (!a.name.empty() && Has(r.resource_names, a.name));
}

Result<std::vector<std::string>> Strings(const Json& obj, const char* key, const std::string& where) {
  std::vector<std::string> out;
  if (!obj.contains(key) || obj[key].is_null()) return out;
  if (!obj[key].is_array()) return Invalid(where + "." + key + ": Invalid value: must be a list of strings");
  for (const auto& v : obj[key]) {
    if (!v.is_string()) return Invalid(where + "." + key + ": Invalid value: must be a list of strings");
    out.push_back(v.get<std::string>());
  }
  return out;
}

// Whether some owner rule covers one atomic permission (verb, group, resource, name) or (verb, url).
// A wildcard in the wanted rule is covered only by a wildcard (kube's ruleCovers).
bool Covered(const std::vector<PolicyRule>& owner, const std::string& verb, const std::string* group,
             const std::string& what, const std::string* name) {
  for (const auto& o : owner) {
    if (!Has(o.verbs, "*") && !Has(o.verbs, verb)) continue;
    if (group == nullptr) {
      if (Has(o.non_resource_urls, "*") || Has(o.non_resource_urls, what)) return true;
      for (const auto& u : o.non_resource_urls) {
        if (!u.empty() && u.back() == '*' && StartsWith(what, u.substr(0, u.size() - 1))) return true;
      }
      continue;
    }
    if (!Has(o.api_groups, "*") && !Has(o.api_groups, *group)) continue;
    const auto slash = what.find('/');
    const bool res_ok = Has(o.resources, "*") || Has(o.resources, what) ||
                        (slash != std::string::npos && Has(o.resources, "*" + what.substr(slash)));
    if (!res_ok) continue;
    if (o.resource_names.empty() || (name != nullptr && Has(o.resource_names, *name))) return true;
  }
  return false;
}

}  // namespace

Json PolicyRule::ToJson() const {
  Json j = {{"verbs", verbs}};
  if (!non_resource_urls.empty()) j["nonResourceURLs"] = non_resource_urls;
  if (!non_resource_urls.empty() && resources.empty()) return j;
  j["apiGroups"] = api_groups;
  j["resources"] = resources;
  if (!resource_names.empty()) j["resourceNames"] = resource_names;
  return j;
}

const std::map<std::string, std::vector<PolicyRule>, std::less<>>& BuiltinClusterRoles() {
  static const auto kRoles = BuildBuiltins();
  return kRoles;
}

const std::vector<PolicyRule>* BuiltinClusterRole(std::string_view name) {
  const auto& roles = BuiltinClusterRoles();
  auto it = roles.find(name);
  return it == roles.end() ? nullptr : &it->second;
}

bool RulesAllow(const std::vector<PolicyRule>& rules, const Attributes& a) {
  return std::any_of(rules.begin(), rules.end(), [&](const PolicyRule& r) { return RuleAllows(r, a); });
}

Result<std::vector<PolicyRule>> ParseRules(const Json& rules, bool cluster_role) {
  std::vector<PolicyRule> out;
  if (rules.is_null()) return out;
  if (!rules.is_array()) return Invalid("rules: Invalid value: must be a list");
  for (size_t i = 0; i < rules.size(); ++i) {
    const std::string where = "rules[" + std::to_string(i) + "]";
    if (!rules[i].is_object()) return Invalid(where + ": Invalid value: must be an object");
    PolicyRule r;
    TMCD_ASSIGN_OR_RETURN(r.verbs, Strings(rules[i], "verbs", where));
    TMCD_ASSIGN_OR_RETURN(r.api_groups, Strings(rules[i], "apiGroups", where));
    TMCD_ASSIGN_OR_RETURN(r.resources, Strings(rules[i], "resources", where));
    TMCD_ASSIGN_OR_RETURN(r.resource_names, Strings(rules[i], "resourceNames", where));
    TMCD_ASSIGN_OR_RETURN(r.non_resource_urls, Strings(rules[i], "nonResourceURLs", where));
    if (r.verbs.empty()) return Invalid(where + ".verbs: Required value: verbs must contain at least one value");
    for (const auto& u : r.non_resource_urls) {
      if (u != "*" && (u.empty() || u.front() != '/')) {
        return Invalid(where + ".nonResourceURLs: Invalid value: " + Quote(u) + ": must be \"*\" or start with \"/\"");
      }
    }
    if (!r.non_resource_urls.empty()) {
      if (!cluster_role) {
        return Invalid(where + ".nonResourceURLs: Invalid value: namespaced rules cannot apply to non-resource URLs");
      }
      if (!r.api_groups.empty() || !r.resources.empty()) {
        return Invalid(where +
                       ".nonResourceURLs: Invalid value: rules cannot apply to both regular resources and "
                       "non-resource URLs");
      }
    } else if (r.resources.empty()) {
      return Invalid(where + ".resources: Required value: resource rules must supply at least one resource");
    } else if (r.api_groups.empty()) {
      return Invalid(where + ".apiGroups: Required value: resource rules must supply at least one api group");
    }
    out.push_back(std::move(r));
  }
  return out;
}

Status ValidateRbacObject(std::string_view kind, const Json& obj) {
  if (kind == "Role" || kind == "ClusterRole") {
    if (obj.contains("aggregationRule") && !obj["aggregationRule"].is_null()) {
      return Invalid("aggregationRule: Forbidden: aggregated ClusterRoles are not supported by tmcd");
    }
    return ParseRules(obj.value("rules", Json()), kind == "ClusterRole").status();
  }
  const Json ref = obj.value("roleRef", Json());
  if (!ref.is_object()) return Invalid("roleRef: Required value");
  if (ref.value("apiGroup", "") != kRbacGroup)
    return Invalid("roleRef.apiGroup: Unsupported value: want \"" + std::string(kRbacGroup) + "\"");
  const std::string rk = ref.value("kind", "");
  if (rk != "ClusterRole" && (rk != "Role" || kind == "ClusterRoleBinding")) {
    return Invalid("roleRef.kind: Unsupported value: " + Quote(rk) +
                   (kind == "ClusterRoleBinding" ? ": want \"ClusterRole\"" : ": want \"Role\" or \"ClusterRole\""));
  }
  if (ref.value("name", "").empty()) return Invalid("roleRef.name: Required value");
  const Json subjects = obj.value("subjects", Json::array());
  if (!subjects.is_array()) return Invalid("subjects: Invalid value: must be a list");
  for (size_t i = 0; i < subjects.size(); ++i) {
    const std::string where = "subjects[" + std::to_string(i) + "]";
    const Json& s = subjects[i];
    if (!s.is_object()) return Invalid(where + ": Invalid value: must be an object");
    const std::string sk = s.value("kind", "");
    if (sk != "User" && sk != "Group" && sk != "ServiceAccount") {
      return Invalid(where + ".kind: Unsupported value: " + Quote(sk) +
                     ": want \"User\", \"Group\" or \"ServiceAccount\"");
    }
    if (s.value("name", "").empty()) return Invalid(where + ".name: Required value");
    if (sk == "ServiceAccount" && s.value("namespace", "").empty())
      return Invalid(where + ".namespace: Required value");
  }
  return Status::Ok();
}

std::string ForbiddenMessage(const UserInfo& user, const Attributes& a) {
  std::string msg;
  if (!a.resource_request) {
    msg = "forbidden: User " + Quote(user.name) + " cannot " + a.verb + " path " + Quote(a.path);
  } else {
    const std::string qualified = a.group.empty() ? a.resource : a.resource + "." + a.group;
    const std::string res = a.subresource.empty() ? a.resource : a.resource + "/" + a.subresource;
    msg = qualified + (a.name.empty() ? "" : " " + Quote(a.name)) + " is forbidden: User " + Quote(user.name) +
          " cannot " + a.verb + " resource " + Quote(res) + " in API group " + Quote(a.group) +
          (a.namespace_.empty() ? " at the cluster scope" : " in the namespace " + Quote(a.namespace_));
  }
  if (a.workspace != "root") msg += " in workspace " + Quote(a.workspace);
  return msg;
}

void Authorizer::ParseBinding(const Json& obj, Binding& out) {
  const Json& meta = obj.value("metadata", Json::object());
  out.name = meta.value("name", "");
  out.namespace_ = meta.value("namespace", "");
  const Json ref = obj.value("roleRef", Json::object());
  out.role_kind = ref.value("kind", "");
  out.role_name = ref.value("name", "");
  for (const auto& s : obj.value("subjects", Json::array())) {
    out.subjects.push_back({s.value("kind", ""), s.value("name", ""), s.value("namespace", "")});
  }
}

std::shared_ptr<const Authorizer::Policy> Authorizer::Load(const std::string& workspace) {
  uint64_t gen = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = cache_.find(workspace); it != cache_.end()) return it->second;
    gen = generation_[workspace];
  }
  auto policy = std::make_shared<Policy>();
  auto each = [&](const char* resource, const std::function<void(const Json&)>& fn) {
    auto list = store_.List(store::ResourcePrefix(workspace, kRbacGroup, resource), 0, "");
    if (!list.ok()) return;
    for (const auto& [key, obj] : list->items) {
      Json j = Json::parse(obj.json, nullptr, false);
      if (j.is_object()) fn(j);
    }
  };
  each("clusterroles", [&](const Json& j) {
    auto rules = ParseRules(j.value("rules", Json()), true);
    if (rules.ok()) policy->cluster_roles[j["metadata"].value("name", "")] = std::move(*rules);
  });
  each("roles", [&](const Json& j) {
    auto rules = ParseRules(j.value("rules", Json()), false);
    const Json& m = j["metadata"];
    if (rules.ok()) policy->roles[{m.value("namespace", ""), m.value("name", "")}] = std::move(*rules);
  });
  each("clusterrolebindings", [&](const Json& j) { ParseBinding(j, policy->cluster_bindings.emplace_back()); });
  each("rolebindings", [&](const Json& j) {
    Binding b;
    ParseBinding(j, b);
    policy->role_bindings.emplace(b.namespace_, std::move(b));
  });
  std::lock_guard<std::mutex> lock(mu_);
  if (generation_[workspace] == gen) cache_[workspace] = policy;  // not if an RBAC write raced the load
  return policy;
}

void Authorizer::Invalidate(const std::string& workspace) {
  std::lock_guard<std::mutex> lock(mu_);
  cache_.erase(workspace);
  ++generation_[workspace];
}

bool Authorizer::Applies(const Binding& b, const UserInfo& user) {
  for (const auto& s : b.subjects) {
    if (s.kind == "User" && s.name == user.name) return true;
    if (s.kind == "Group" && Has(user.groups, s.name)) return true;
    if (s.kind == "ServiceAccount" && user.name == "system:serviceaccount:" + s.namespace_ + ":" + s.name) return true;
  }
  return false;
}

const std::vector<PolicyRule>* Authorizer::RoleRules(const Policy& p, const Binding& b) {
  if (b.role_kind == "ClusterRole") {
    if (const auto* builtin = BuiltinClusterRole(b.role_name)) return builtin;
    auto it = p.cluster_roles.find(b.role_name);
    return it == p.cluster_roles.end() ? nullptr : &it->second;
  }
  auto it = p.roles.find({b.namespace_, b.role_name});
  return it == p.roles.end() ? nullptr : &it->second;
}

Decision Authorizer::Authorize(const UserInfo& user, const Attributes& a) {
  if (user.IsMaster()) return {true, "group system:masters"};
  if (!user.authenticated) return {false, "anonymous"};
  const bool discovery = !a.resource_request && (a.path == "/api" || a.path == "/apis" || StartsWith(a.path, "/api/") ||
                                                 StartsWith(a.path, "/apis/") || StartsWith(a.path, "/openapi/"));
  if (BasicUserAllowed(a) && !discovery) return {true, "every authenticated user"};
  const auto policy = Load(a.workspace);
  if (BasicUserAllowed(a)) {
    // Discovery and OpenAPI name a workspace's custom resources and show their schemas: only to users the
    // workspace binds (as kcp's workspace access), never to every authenticated user (docs/security.md).
    bool bound = std::any_of(policy->cluster_bindings.begin(), policy->cluster_bindings.end(),
                             [&](const Binding& b) { return Applies(b, user); });
    for (const auto& [ns, b] : policy->role_bindings) bound = bound || Applies(b, user);
    if (bound) return {true, "every user bound in the workspace"};
    return {false, "no binding in workspace " + Quote(a.workspace) + " gives access to its discovery"};
  }
  for (const auto& b : policy->cluster_bindings) {
    const auto* rules = Applies(b, user) ? RoleRules(*policy, b) : nullptr;
    if (rules != nullptr && RulesAllow(*rules, a)) return {true, "ClusterRoleBinding " + Quote(b.name)};
  }
  if (a.resource_request && !a.namespace_.empty()) {
    auto [lo, hi] = policy->role_bindings.equal_range(a.namespace_);
    for (auto it = lo; it != hi; ++it) {
      const auto* rules = Applies(it->second, user) ? RoleRules(*policy, it->second) : nullptr;
      if (rules != nullptr && RulesAllow(*rules, a)) return {true, "RoleBinding " + Quote(it->second.name)};
    }
  }
  return {false, "no RBAC rule allows it"};
}

std::vector<PolicyRule> Authorizer::RulesFor(const UserInfo& user, const std::string& workspace,
                                             const std::string& ns) {
  if (user.IsMaster()) return *BuiltinClusterRole("cluster-admin");
  std::vector<PolicyRule> out;
  if (!user.authenticated) return out;
  out.push_back(PolicyRule{
      {"create"}, {"authorization.k8s.io"}, {"selfsubjectaccessreviews", "selfsubjectrulesreviews"}, {}, {}});
  out.push_back(
      PolicyRule{{"get"},
                 {},
                 {},
                 {},
                 {"/api", "/api/*", "/apis", "/apis/*", "/openapi/*", "/version", "/healthz", "/livez", "/readyz"}});
  const auto policy = Load(workspace);
  auto add = [&](const Binding& b) {
    const auto* rules = Applies(b, user) ? RoleRules(*policy, b) : nullptr;
    if (rules != nullptr) out.insert(out.end(), rules->begin(), rules->end());
  };
  for (const auto& b : policy->cluster_bindings) add(b);
  if (!ns.empty()) {
    auto [lo, hi] = policy->role_bindings.equal_range(ns);
    for (auto it = lo; it != hi; ++it) add(it->second);
  }
  return out;
}

Status Authorizer::CheckRbacWrite(const UserInfo& user, const std::string& workspace, std::string_view kind,
                                  const Json& obj, const std::function<bool(const std::string& verb)>& may) {
  if (user.IsMaster()) return Status::Ok();
  const std::string ns = obj.value("metadata", Json::object()).value("namespace", "");
  std::vector<PolicyRule> wanted;
  if (kind == "Role" || kind == "ClusterRole") {
    if (may("escalate")) return Status::Ok();
    auto rules = ParseRules(obj.value("rules", Json()), kind == "ClusterRole");
    if (!rules.ok()) return rules.status();
    wanted = std::move(*rules);
  } else {
    if (may("bind")) return Status::Ok();
    Binding b;
    ParseBinding(obj, b);
    const auto* rules = RoleRules(*Load(workspace), b);
    if (rules == nullptr) {
      return {Reason::kForbidden, "user " + Quote(user.name) + " cannot bind " + b.role_kind + " " +
                                      Quote(b.role_name) +
                                      ": it does not exist, and only holders of the bind verb "
                                      "may bind roles that do not exist yet"};
    }
    wanted = *rules;
  }
  const auto owner = RulesFor(user, workspace, ns);
  for (const auto& r : wanted) {
    const std::vector<std::string> none = {""};
    const auto& names = r.resource_names.empty() ? none : r.resource_names;
    for (const auto& verb : r.verbs) {
      bool ok = true;
      for (const auto& url : r.non_resource_urls) ok = ok && Covered(owner, verb, nullptr, url, nullptr);
      for (const auto& g : r.api_groups) {
        for (const auto& res : r.resources) {
          for (const auto& n : names) ok = ok && Covered(owner, verb, &g, res, n.empty() ? nullptr : &n);
        }
      }
      if (!ok) {
        return {Reason::kForbidden, "user " + Quote(user.name) +
                                        " is attempting to grant RBAC permissions not currently held: " +
                                        r.ToJson().dump() + " (verb " + Quote(verb) + ")"};
      }
    }
  }
  return Status::Ok();
}

}  // namespace tmcd::security
