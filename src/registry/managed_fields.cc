#include "registry/managed_fields.h"

#include <algorithm>
#include <map>
#include <vector>

#include "common/strings.h"
#include "registry/field_set.h"

namespace tmcd::registry {
namespace {

using Json = nlohmann::json;

bool Same(const Json& entry, const std::string& manager, std::string_view operation, const std::string& subresource) {
  return entry.value("manager", "") == manager && entry.value("operation", "") == operation &&
         entry.value("subresource", "") == subresource;
}

Json Entry(const ManagerInfo& m, std::string_view operation, Json fields) {
  Json e = {{"manager", m.manager}, {"operation", operation},   {"apiVersion", m.api_version},
            {"time", m.time},       {"fieldsType", "FieldsV1"}, {"fieldsV1", std::move(fields)}};
  if (!m.subresource.empty()) e["subresource"] = m.subresource;
  return e;
}

Json ManagedOf(const Json& obj) {
  if (!obj.is_object()) return Json::array();
  const auto md = obj.find("metadata");
  if (md == obj.end() || !md->is_object()) return Json::array();
  const auto mf = md->find("managedFields");
  return mf != md->end() && mf->is_array() ? *mf : Json::array();
}

void SetManaged(Json& obj, Json managed) {
  Json out = Json::array();
  for (auto& e : managed) {
    if (e.is_object() && e.contains("fieldsV1") && e["fieldsV1"].is_object() && !e["fieldsV1"].empty()) {
      out.push_back(std::move(e));
    }
  }
  if (out.empty()) {
    obj["metadata"].erase("managedFields");
  } else {
    obj["metadata"]["managedFields"] = std::move(out);
  }
}

Json FieldsOf(const Json& entry) {
  const auto f = entry.find("fieldsV1");
  return f != entry.end() && f->is_object() ? *f : Json::object();
}

}  // namespace

std::string ManagerFromUserAgent(std::string_view user_agent) {
  std::string out(user_agent.substr(0, user_agent.find('/')));
  if (out.size() > 128) out.resize(128);
  return out;
}

Result<Json> ApplyConfiguration(const Json& live, const Json& config, ObjectType kind, const ManagerInfo& m,
                                bool force) {
  Json obj = live.is_object() ? live : Json::object();
  Json managed = ManagedOf(obj);
  const Json applied = ExtractFields(config, kind, m.subresource == "status");
  // Fields another manager owns whose value this configuration changes.
  std::vector<std::pair<size_t, FieldPath>> conflicts;
  for (const auto& path : Leaves(applied)) {
    if (path.back() == ".") continue;
    const auto current = ValueAt(obj, path);
    if (!current || ValueAt(config, path) == current) continue;
    for (size_t i = 0; i < managed.size(); ++i) {
      if (managed[i].value("manager", "") != m.manager && Contains(FieldsOf(managed[i]), path)) {
        conflicts.emplace_back(i, path);
      }
    }
  }
  if (!conflicts.empty() && !force) {
    std::vector<Cause> causes;
    std::string list;
    for (const auto& [i, path] : conflicts) {
      const std::string who = managed[i].value("manager", "");
      causes.push_back({"FieldManagerConflict", "conflict with " + Quote(who), FieldPathString(path)});
      list += "\n* " + who + ": " + FieldPathString(path);
    }
    return Status(Reason::kConflict,
                  "Apply failed with " + std::to_string(conflicts.size()) +
                      (conflicts.size() == 1 ? " conflict" : " conflicts") + ":" + list,
                  std::move(causes));
  }
  for (const auto& [i, path] : conflicts) {  // forced: the fields change hands
    Json fields = FieldsOf(managed[i]);
    RemovePath(fields, path);
    managed[i]["fieldsV1"] = std::move(fields);
  }
  // Fields this manager applied before and no longer does are removed, unless someone else owns them.
  for (const auto& e : managed) {
    if (!Same(e, m.manager, "Apply", m.subresource)) continue;
    for (const auto& path : Leaves(FieldsOf(e))) {
      if (Contains(applied, path)) continue;
      const bool shared = std::any_of(managed.begin(), managed.end(), [&](const Json& other) {
        return !Same(other, m.manager, "Apply", m.subresource) && Contains(FieldsOf(other), path);
      });
      if (!shared) RemoveValue(obj, path);
    }
  }
  Json cfg = config;
  if (cfg.contains("metadata") && cfg["metadata"].is_object()) cfg["metadata"].erase("managedFields");
  obj = MergeApplied(std::move(obj), cfg, kind);
  if (!obj["metadata"].is_object()) obj["metadata"] = Json::object();
  managed.erase(std::remove_if(managed.begin(), managed.end(),
                               [&](const Json& e) { return Same(e, m.manager, "Apply", m.subresource); }),
                managed.end());
  managed.push_back(Entry(m, "Apply", applied));
  SetManaged(obj, std::move(managed));
  return obj;
}

void TrackUpdate(const Json* old, Json& updated, ObjectType kind, const ManagerInfo& m) {
  if (!updated.is_object()) return;
  if (!updated["metadata"].is_object()) updated["metadata"] = Json::object();
  Json managed = old != nullptr ? ManagedOf(*old) : Json::array();
  if (const auto sent = updated["metadata"].find("managedFields"); sent != updated["metadata"].end()) {
    if (sent->is_array() && *sent != managed) {
      if (sent->empty()) {
        SetManaged(updated, Json::array());  // an explicit [] clears them
        return;
      }
      managed = *sent;  // the client set them (a restore): keep them as given
      SetManaged(updated, std::move(managed));
      return;
    }
  }
  const bool status = m.subresource == "status";
  const Json before = old != nullptr ? ExtractFields(*old, kind, status) : Json::object();
  const Json after = ExtractFields(updated, kind, status);
  Json changed = Json::object();
  for (const auto& path : Leaves(after)) {
    if (old == nullptr || ValueAt(*old, path) != ValueAt(updated, path)) AddPath(changed, path);
  }
  std::vector<FieldPath> removed;
  for (const auto& path : Leaves(before)) {
    if (!Contains(after, path)) removed.push_back(path);
  }
  const std::vector<FieldPath> taken = Leaves(changed);
  bool found = false;
  for (auto& e : managed) {
    Json fields = FieldsOf(e);
    for (const auto& path : removed) RemovePath(fields, path);
    if (Same(e, m.manager, "Update", m.subresource)) {
      found = true;
      for (const auto& path : taken) AddPath(fields, path);
      if (!taken.empty()) e["time"] = m.time;
      e["apiVersion"] = m.api_version;
    } else {
      for (const auto& path : taken) RemovePath(fields, path);
    }
    e["fieldsV1"] = std::move(fields);
  }
  if (!found && !taken.empty()) managed.push_back(Entry(m, "Update", changed));
  SetManaged(updated, std::move(managed));
}

}  // namespace tmcd::registry
