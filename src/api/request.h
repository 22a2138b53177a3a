#pragma once
// Parses Kubernetes-style request paths, with the optional kcp-style workspace prefix:
//   [/clusters/<ws>]/api/v1/[namespaces/<ns>/]<resource>[/<name>[/<subresource>]]
//   [/clusters/<ws>]/apis/<group>/<version>/[namespaces/<ns>/]<resource>[/<name>[/<subresource>]]
// and the discovery roots /api, /api/v1, /apis, /apis/<group>, /apis/<group>/<version>.
// Pure; thread-safe.

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace tmcd::api {

inline constexpr std::string_view kDefaultWorkspace = "root";

struct RequestPath {
  std::string workspace = std::string(kDefaultWorkspace);
  enum class Kind { kDiscoveryRoot, kDiscoveryGroup, kDiscoveryVersion, kResource } kind = Kind::kResource;
  bool core = false;  // /api rather than /apis
  std::string group;
  std::string version;
  std::string namespace_;
  std::string resource;
  std::string name;
  std::string subresource;
  // Request-scoped admission, run on the final object of a create/update/patch just before it is
  // stored (the server sets it for RBAC writes: escalation prevention, docs/security.md).
  std::function<Status(const nlohmann::json& obj)> admit;
  // dryRun=All: a write runs every check, default and admission, and stores nothing
  // (docs/local-api.md#dry-run).
  bool dry_run = false;
  // What the request's answer carries as Warning headers (kube's "299 - <text>"), filled by the
  // object layer (e.g. unknown fields a strategic merge patch dropped).
  mutable std::vector<std::string> warnings;
  // Who writes, for metadata.managedFields: the fieldManager parameter, else from the User-Agent.
  std::string field_manager;
  bool field_manager_given = false;  // server-side apply requires an explicit fieldManager
  bool force = false;                // server-side apply: take conflicting fields from their managers
  mutable bool created = false;      // set by a server-side apply that created the object (201)
  // fieldValidation: Strict (tmcd's default, see docs/local-api.md#field-validation), Warn or Ignore.
  std::string field_validation = "Strict";
  bool field_validation_given = false;
};

// NotFound for paths outside the API; BadRequest for malformed workspace names.
Result<RequestPath> ParsePath(std::string_view path);
// kcp logical-cluster path syntax: "root", "root:org:team" ([a-z0-9] segments with '-', joined by ':').
bool IsWorkspaceName(std::string_view ws);

}  // namespace tmcd::api
