#include "ctl/clusters.h"

#include <algorithm>
#include <map>
#include <thread>

#include "common/strings.h"
#include "ctl/watch.h"

namespace tmcd::ctl {
namespace {

constexpr const char* kDrainTaint = "tmc.kcp.io/drain";

const Json& Field(const Json& obj, std::initializer_list<const char*> path) {
  static const Json kNull;
  const Json* cur = &obj;
  for (const char* p : path) {
    if (!cur->is_object() || !cur->contains(p)) return kNull;
    cur = &(*cur)[p];
  }
  return *cur;
}

std::string Str(const Json& j) {
  if (j.is_string()) return j.get<std::string>();
  if (j.is_null()) return "";
  return j.dump();
}

std::string Ready(const Json& c) {
  if (!Field(c, {"metadata", "deletionTimestamp"}).is_null()) return "Deregistering";
  const std::string r = ConditionStatus(c, "Ready");
  return r.empty() ? "Unknown" : r;
}

std::string Resource(const Json& c, const char* what, const char* name) {
  const std::string avail = BinaryQuantity(Str(Field(c, {"status", "available", name})));
  const std::string cap = BinaryQuantity(Str(Field(c, {"status", what, name})));
  if (cap.empty()) return "<none>";
  return (avail.empty() ? "?" : avail) + "/" + cap;
}

std::string Taints(const Json& c) {
  std::vector<std::string> out;
  for (const auto& t : Field(c, {"spec", "taints"})) {
    std::string s = t.value("key", "");
    if (!t.value("value", "").empty()) s += "=" + t.value("value", "");
    out.push_back(s + ":" + t.value("effect", ""));
  }
  return out.empty() ? "<none>" : Join(out, ",");
}

std::vector<std::string> Row(const Session& s, const Json& c) {
  const auto or_none = [](const std::string& v) { return v.empty() ? std::string("<none>") : v; };
  return {Str(Field(c, {"metadata", "name"})),
          or_none(Str(Field(c, {"spec", "location"}))),
          or_none(Str(Field(c, {"spec", "zone"}))),
          Ready(c),
          Field(c, {"spec", "unschedulable"}) == true ? "Cordoned" : "Enabled",
          or_none(Str(Field(c, {"status", "kubernetesVersion"}))),
          Age(Str(Field(c, {"metadata", "creationTimestamp"})), s.now),
          or_none(Str(Field(c, {"spec", "provider"}))),
          Str(Field(c, {"spec", "endpoint", "server"})),
          Resource(c, "allocatable", "cpu"),
          Resource(c, "allocatable", "memory"),
          Taints(c)};
}

Table ClusterTable(const Session& s, const std::vector<Json>& items) {
  Table t{{"NAME", "LOCATION", "ZONE", "READY", "SCHEDULING", "VERSION", "AGE", "PROVIDER", "SERVER", "CPU", "MEMORY",
           "TAINTS"},
          {false, false, false, false, false, false, false, true, true, true, true, true},
          {}};
  for (const auto& c : items) t.rows.push_back(Row(s, c));
  return t;
}

int Print(Session& s, const std::vector<Json>& items, bool as_list) {
  if (s.format == Format::kTable || s.format == Format::kWide) {
    if (items.empty()) {
      NoResources(s, false);
      return kExitOk;
    }
    *s.out << RenderTable(ClusterTable(s, items), s.format == Format::kWide);
    return kExitOk;
  }
  *s.out << RenderObjects(items, s.format, as_list);
  return kExitOk;
}

constexpr const char* kNotFoundHint = "`tmcctl cluster list` shows the registered clusters";

}  // namespace

std::string ConditionStatus(const Json& obj, const std::string& type) {
  for (const auto& c : Field(obj, {"status", "conditions"})) {
    if (c.value("type", "") == type) return c.value("status", "");
  }
  return "";
}

Result<Json> GetCluster(Session& s, const std::string& name) {
  return s.conn.client->Get(s.Tmc("clusterregistrations"), name);
}

Result<std::vector<Json>> RecordsOn(Session& s, const std::string& cluster) {
  auto list = s.conn.client->ListAll(s.Tmc("syncrecords"), {});
  if (!list.ok()) return list.status();
  std::vector<Json> out;
  for (auto& r : list->items) {
    if (Str(Field(r, {"spec", "clusterName"})) == cluster) out.push_back(std::move(r));
  }
  return out;
}

int ClusterList(Session& s, const std::vector<std::string>& names, const std::string& selector, bool watch) {
  std::vector<Json> items;
  if (names.empty()) {
    kube::ListOptions lo;
    lo.label_selector = selector;
    auto list = s.conn.client->ListAll(s.Tmc("clusterregistrations"), lo);
    if (!list.ok()) return Fail(s, list.status());
    items = std::move(list->items);
    const int rc = Print(s, items, !watch);
    if (!watch) return rc;
    return WatchRows(s, s.Tmc("clusterregistrations"), list->resource_version, selector,
                     [&s](const std::vector<Json>& changed, bool) { return ClusterTable(s, changed); });
  }
  int rc = kExitOk;
  for (const auto& n : names) {
    auto c = GetCluster(s, n);
    if (!c.ok()) {
      rc = Fail(s, c.status(), kNotFoundHint);
      continue;
    }
    items.push_back(std::move(*c));
  }
  if (!items.empty()) Print(s, items, false);
  return rc;
}

int ClusterCordon(Session& s, const std::string& name, bool cordon) {
  auto c = s.conn.client->Patch(s.Tmc("clusterregistrations"), name, kube::PatchType::kMerge,
                                {{"spec", {{"unschedulable", cordon ? Json(true) : Json(nullptr)}}}});
  if (!c.ok()) return Fail(s, c.status(), kNotFoundHint);
  *s.out << "clusterregistration.tmc.kcp.io/" << name << (cordon ? " cordoned" : " uncordoned") << "\n";
  return kExitOk;
}

namespace {

struct TaintEdit {
  std::string key, value, effect;
  bool remove = false;
};

Result<TaintEdit> ParseTaint(std::string spec) {
  TaintEdit e;
  if (!spec.empty() && spec.back() == '-') {
    e.remove = true;
    spec.pop_back();
  }
  const auto colon = spec.rfind(':');
  std::string kv = spec;
  if (colon != std::string::npos) {
    e.effect = spec.substr(colon + 1);
    kv = spec.substr(0, colon);
  }
  const auto eq = kv.find('=');
  e.key = kv.substr(0, eq);
  if (eq != std::string::npos) e.value = kv.substr(eq + 1);
  const bool effect_ok = e.effect == "NoSchedule" || e.effect == "PreferNoSchedule" || e.effect == "NoExecute";
  if (e.key.empty() || (!e.remove && !effect_ok) || (e.remove && !e.effect.empty() && !effect_ok)) {
    return BadRequest("invalid taint " + Quote(spec) +
                      ": want key[=value]:Effect to add, key[:Effect]- to remove; Effect is NoSchedule, "
                      "PreferNoSchedule or NoExecute");
  }
  return e;
}

// Applies the edits to spec.taints with the object's resourceVersion (a concurrent change retries).
Status EditTaints(Session& s, const std::string& name, const std::vector<TaintEdit>& edits, std::string* report) {
  for (int attempt = 0;; ++attempt) {
    TMCD_ASSIGN_OR_RETURN(Json c, GetCluster(s, name));
    Json taints = Json::array();
    for (const auto& t : Field(c, {"spec", "taints"})) taints.push_back(t);
    report->clear();
    for (const auto& e : edits) {
      const auto same = [&](const Json& t) {
        return t.value("key", "") == e.key && (e.effect.empty() || t.value("effect", "") == e.effect);
      };
      const auto before = taints.size();
      taints.erase(std::remove_if(taints.begin(), taints.end(), same), taints.end());
      if (e.remove && before == taints.size()) {
        return NotFound("taint " + Quote(e.key) + " not found on clusterregistration " + Quote(name));
      }
      if (!e.remove) {
        Json t = {{"key", e.key}, {"effect", e.effect}};
        if (!e.value.empty()) t["value"] = e.value;
        taints.push_back(std::move(t));
      }
    }
    c["spec"]["taints"] = taints;
    auto updated = s.conn.client->Update(s.Tmc("clusterregistrations"), c);
    if (updated.ok()) return Status::Ok();
    if (updated.status().reason() != Reason::kConflict || attempt >= 5) return updated.status();
  }
}

}  // namespace

int ClusterTaint(Session& s, const std::string& name, const std::vector<std::string>& specs) {
  std::vector<TaintEdit> edits;
  for (const auto& spec : specs) {
    auto e = ParseTaint(spec);
    if (!e.ok()) return Fail(s, e.status());
    edits.push_back(std::move(*e));
  }
  std::string report;
  if (Status st = EditTaints(s, name, edits, &report); !st.ok()) return Fail(s, st, kNotFoundHint);
  *s.out << "clusterregistration.tmc.kcp.io/" << name << " "
         << (std::all_of(edits.begin(), edits.end(), [](const auto& e) { return e.remove; }) ? "untainted" : "tainted")
         << "\n";
  return kExitOk;
}

int ClusterDrain(Session& s, const std::string& name, const DrainFlags& f) {
  auto before = RecordsOn(s, name);
  if (!before.ok() && before.status().reason() != Reason::kNotFound) return Fail(s, before.status());
  auto c = s.conn.client->Patch(s.Tmc("clusterregistrations"), name, kube::PatchType::kMerge,
                                {{"spec", {{"unschedulable", true}}}});
  if (!c.ok()) return Fail(s, c.status(), kNotFoundHint);
  std::string report;
  const bool tainted = std::any_of(Field(*c, {"spec", "taints"}).begin(), Field(*c, {"spec", "taints"}).end(),
                                   [](const Json& t) { return t.value("key", "") == kDrainTaint; });
  if (!tainted) {
    if (Status st = EditTaints(s, name, {{kDrainTaint, "", "NoExecute", false}}, &report); !st.ok()) {
      return Fail(s, st);
    }
  }
  *s.out << "clusterregistration.tmc.kcp.io/" << name << " cordoned and tainted " << kDrainTaint << ":NoExecute\n";
  if (!before.ok()) {
    *s.out << "copies on the cluster cannot be listed here (SyncRecords are served by tmcd's local API only); "
              "placements move them by their rules\n";
    return kExitOk;
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(f.timeout_seconds);
  std::vector<Json> left = *before;
  while (f.wait && !left.empty() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    auto now = RecordsOn(s, name);
    if (!now.ok()) return Fail(s, now.status());
    left = std::move(*now);
  }
  *s.out << "moved: " << (before->size() >= left.size() ? before->size() - left.size() : 0) << " of " << before->size()
         << " copies\n";
  for (const auto& r : left) {
    const auto& up = Field(r, {"spec", "upstream"});
    *s.out << "still on " << name << ": " << up.value("resource", "") << " " << up.value("namespace", "") << "/"
           << up.value("name", "") << " (placement " << Str(Field(r, {"spec", "placementName"}))
           << (f.wait ? ", which tolerates the taint or has nowhere else to go)\n" : ")\n");
  }
  return left.empty() || !f.wait ? kExitOk : kExitFailure;
}

}  // namespace tmcd::ctl
