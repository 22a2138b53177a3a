#pragma once
// metadata.managedFields: who set which field, as kube-apiserver records it. Server-side apply
// (application/apply-patch+yaml) merges a manager's configuration, removes the fields it stopped
// applying (unless another manager owns them too) and refuses, with 409 naming the managers and fields,
// to change a field another manager owns unless forced. Every other write (create, update, patch, the
// status and scale subresources) records the fields it changed under its manager with operation
// Update, taking them from the managers that owned them. Design: docs/design/kubectl-parity.md.
// Pure; thread-safe.

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "common/status.h"
#include "registry/field_set.h"

namespace tmcd::registry {

struct ManagerInfo {
  std::string manager;      // fieldManager, or derived from the User-Agent
  std::string subresource;  // "", "status" or "scale"
  std::string api_version;  // the request's group/version
  std::string time;         // RFC 3339, now
};

// The object `config` applied by `m` over `live` (null: create-on-apply), managedFields included.
// Conflicts are 409 Conflict with one FieldManagerConflict cause per field, unless `force`.
Result<nlohmann::json> ApplyConfiguration(const nlohmann::json& live, const nlohmann::json& config, ObjectType type,
                                          const ManagerInfo& m, bool force);

// Sets `updated`'s managedFields after a non-apply write by `m` that turned `old` (null on create) into
// `updated`. Managed fields the client sent are kept when they differ from the stored ones (restores,
// migrations); an empty list clears them, as on kube-apiserver.
void TrackUpdate(const nlohmann::json* old, nlohmann::json& updated, ObjectType type, const ManagerInfo& m);

// kube's default manager name: the User-Agent up to its first '/', at most 128 bytes.
std::string ManagerFromUserAgent(std::string_view user_agent);

}  // namespace tmcd::registry
