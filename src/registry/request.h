#pragma once
// What one call into the registry layer (docs/design/architecture.md §4) names and carries: the object
// (workspace, group/version/resource, namespace, name, subresource) and the request-scoped options of a
// write. The HTTP layer fills it from a URL (api::RequestPath extends it); the embedded upstream fills it
// from an ObjectRef. Plain value; not thread-safe to mutate while shared.

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace tmcd::registry {

inline constexpr std::string_view kDefaultWorkspace = "root";

struct Request {
  std::string workspace = std::string(kDefaultWorkspace);
  std::string group;  // "" = core
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

}  // namespace tmcd::registry
