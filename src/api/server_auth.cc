// Server: authentication and authorization of every request, the access reviews kubectl's
// `auth can-i` sends, and escalation prevention for RBAC writes (docs/security.md).
#include <algorithm>

#include "api/reply.h"
#include "api/server.h"
#include "api/status_body.h"
#include "common/strings.h"

namespace tmcd::api {
namespace {

using security::Attributes;
using security::UserInfo;

bool NonResourcePath(std::string path) {
  if (StartsWith(path, "/clusters/")) {  // /version and /openapi are served inside workspaces too
    const auto slash = path.find('/', 10);
    if (slash != std::string::npos) path = path.substr(slash);
  }
  return path == "/healthz" || path == "/livez" || path == "/readyz" || path == "/version" || path == "/metrics" ||
         path == "/openapi/v3" || StartsWith(path, "/openapi/");
}

std::string ResourceVerb(const net::HttpRequest& req, const RequestPath& p) {
  const std::string& m = req.method;
  if (m == "GET") {
    if (!p.name.empty()) return "get";
    return req.Param("watch") == "1" || req.Param("watch") == "true" ? "watch" : "list";
  }
  if (m == "POST") return "create";
  if (m == "PUT") return "update";
  if (m == "PATCH") return "patch";
  if (m == "DELETE") return p.name.empty() ? "deletecollection" : "delete";
  return ToLower(m);
}

// kube's request info: a resource request, or a non-resource path (discovery, health, metrics).
Attributes RequestAttributes(const net::HttpRequest& req) {
  Attributes a;
  a.path = req.path;
  if (!NonResourcePath(req.path)) {
    auto p = ParsePath(req.SegmentedPath());
    if (p.ok()) a.workspace = p->workspace;
    if (p.ok() && p->kind == RequestPath::Kind::kResource) {
      a.verb = ResourceVerb(req, *p);
      a.group = p->core ? "" : p->group;
      a.resource = p->resource;
      a.subresource = p->subresource;
      a.namespace_ = p->namespace_;
      a.name = p->name;
      return a;
    }
  }
  if (StartsWith(a.path, "/clusters/")) {  // discovery, /version, /openapi inside a workspace: the path without it
    const auto slash = a.path.find('/', 10);
    const std::string ws = a.path.substr(10, slash == std::string::npos ? std::string::npos : slash - 10);
    if (IsWorkspaceName(ws)) a.workspace = ws;
    a.path = slash == std::string::npos ? "/" : a.path.substr(slash);
  }
  a.resource_request = false;
  a.verb = req.method == "HEAD" ? "get" : ToLower(req.method);
  return a;
}

}  // namespace

bool Server::Admit(const net::HttpRequest& req, net::HttpResponse& res, UserInfo& user, Attributes& attrs,
                   std::string& reason) {
  attrs = RequestAttributes(req);
  if (options_.authn == nullptr || options_.authz == nullptr) {
    user = {"system:admin", "", {std::string(security::kGroupMasters)}, true, "none"};
    return true;
  }
  auto who = options_.authn->Authenticate(req);
  if (!who.ok()) {
    reason = who.status().message();
    Reply(res, 401, StatusBody(Status(Reason::kUnauthorized, "Unauthorized: " + who.status().message())));
    return false;
  }
  user = std::move(who).value();
  const Attributes& a = attrs;
  if (!user.authenticated) {
    const auto& open = options_.anonymous_paths;
    if (!a.resource_request && a.verb == "get" && std::find(open.begin(), open.end(), req.path) != open.end()) {
      return true;
    }
    Reply(res, 401, StatusBody(Status(Reason::kUnauthorized, "Unauthorized")));
    return false;
  }
  const auto decision = options_.authz->Authorize(user, a);
  reason = decision.reason;
  if (decision.allowed) return true;
  const std::string kind = a.resource_request ? a.resource : "";
  Reply(res, 403, StatusBody(Status(Reason::kForbidden, security::ForbiddenMessage(user, a)), {a.name, a.group, kind}));
  return false;
}

void Server::Audit(const net::HttpRequest& req, const net::HttpResponse& res, const UserInfo& user,
                   const Attributes& attrs, bool allowed, const std::string& reason,
                   std::chrono::system_clock::time_point received) const {
  if (options_.audit == nullptr || req.path == "/healthz" || req.path == "/livez" || req.path == "/readyz") return;
  security::AuditRecord r;
  r.user = &user;
  r.attrs = &attrs;
  r.method = req.method;
  r.uri = req.target;
  r.source = req.peer ? req.peer->remote : "";
  r.user_agent = req.Header("User-Agent");
  r.code = res.status;
  r.allowed = allowed;
  r.decision_reason = reason;
  r.received = received;
  r.finished = std::chrono::system_clock::now();
  r.body = &req.body;
  options_.audit->Record(r);
}

void Server::Review(const RequestPath& p, const ResourceInfo& r, const UserInfo& user, const Json& body,
                    net::HttpResponse& res) {
  if (!body.is_object() || body.value("kind", r.kind) != r.kind) {
    return ReplyError(res, BadRequest("the body must be a " + r.kind));
  }
  const Json spec = body.value("spec", Json::object());
  Json out = {{"apiVersion", r.GroupVersion()},
              {"kind", r.kind},
              {"metadata", {{"creationTimestamp", nullptr}}},
              {"spec", spec}};
  if (options_.authz == nullptr) return Reply(res, 201, out);
  if (r.resource == "selfsubjectrulesreviews") {
    const std::string ns = spec.value("namespace", "");
    Json resource_rules = Json::array();
    Json non_resource_rules = Json::array();
    for (const auto& rule : options_.authz->RulesFor(user, p.workspace, ns)) {
      Json j = rule.ToJson();
      if (!rule.non_resource_urls.empty()) {
        non_resource_rules.push_back(j);
      } else {
        resource_rules.push_back(j);
      }
    }
    out["status"] = {
        {"resourceRules", resource_rules}, {"nonResourceRules", non_resource_rules}, {"incomplete", false}};
    return Reply(res, 201, out);
  }
  Attributes a;
  a.workspace = p.workspace;
  if (spec.contains("resourceAttributes")) {
    const Json& ra = spec["resourceAttributes"];
    a.verb = ra.value("verb", "");
    a.group = ra.value("group", "");
    a.resource = ra.value("resource", "");
    a.subresource = ra.value("subresource", "");
    a.namespace_ = ra.value("namespace", "");
    a.name = ra.value("name", "");
  } else if (spec.contains("nonResourceAttributes")) {
    a.resource_request = false;
    a.verb = spec["nonResourceAttributes"].value("verb", "");
    a.path = spec["nonResourceAttributes"].value("path", "");
  } else {
    return ReplyError(
        res, Status(Reason::kInvalid, r.kind + " is invalid: spec: Invalid value: exactly one of "
                                               "nonResourceAttributes or resourceAttributes must be specified"));
  }
  const auto d = options_.authz->Authorize(user, a);
  out["status"] = {{"allowed", d.allowed}};
  if (d.allowed) out["status"]["reason"] = "RBAC: allowed by " + d.reason;  // kube says nothing on a denial
  return Reply(res, 201, out);
}

void Server::AdmitRbacWrite(RequestPath& p, const ResourceInfo& r, const UserInfo& user) {
  if (options_.authz == nullptr) return;
  security::Authorizer* authz = options_.authz;
  p.admit = [authz, user, ws = p.workspace, kind = r.kind, resource = r.resource](const Json& obj) -> Status {
    const Json& meta = obj["metadata"];
    auto may = [&](const std::string& verb) {
      Attributes a;
      a.workspace = ws;
      a.verb = verb;
      a.group = std::string(security::kRbacGroup);
      a.namespace_ = meta.value("namespace", "");
      if (verb == "bind") {  // kube checks bind on the referenced role
        const Json ref = obj.value("roleRef", Json::object());
        a.resource = ref.value("kind", "") == "Role" ? "roles" : "clusterroles";
        a.name = ref.value("name", "");
      } else {
        a.resource = resource;
        a.name = meta.value("name", "");
      }
      return authz->Authorize(user, a).allowed;
    };
    return authz->CheckRbacWrite(user, ws, kind, obj, may);
  };
}

}  // namespace tmcd::api
