// `tmcctl placement list|explain|simulate` (docs/tmcctl.md "Placements").
#include <fstream>
#include <sstream>

#include "common/strings.h"
#include "ctl/placements.h"
#include "ctl/watch.h"

namespace tmcd::ctl {
namespace {

std::string Cond(const Json& p, const std::string& type) {
  for (const auto& c : p.value("status", Json::object()).value("conditions", Json::array())) {
    if (c.value("type", "") == type) return c.value("status", "");
  }
  return "Unknown";
}

std::vector<std::string> Row(const Session& s, const Json& p) {
  const Json spec = p.value("spec", Json::object());
  const Json st = p.value("status", Json::object());
  std::vector<std::string> chosen;
  for (const auto& d : st.value("decisions", Json::array())) chosen.push_back(d.value("clusterName", ""));
  const std::string wanted = spec.contains("numberOfClusters") ? spec["numberOfClusters"].dump() : "all";
  const Json md = p.value("metadata", Json::object());
  return {md.value("namespace", ""),
          md.value("name", ""),
          spec.value("strategy", "Spread"),
          std::to_string(chosen.size()) + "/" + wanted,
          st.contains("selectedWorkloads") ? st["selectedWorkloads"].dump() : "0",
          Cond(p, "Scheduled"),
          Cond(p, "Synced"),
          Cond(p, "Ready"),
          Age(md.value("creationTimestamp", ""), s.now),
          chosen.empty() ? "<none>" : Join(chosen, ",")};
}

}  // namespace

namespace {

Table PlacementTable(const Session& s, const std::vector<Json>& items) {
  Table t{
      {"NAMESPACE", "NAME", "STRATEGY", "CLUSTERS", "WORKLOADS", "SCHEDULED", "SYNCED", "READY", "AGE", "DECISIONS"},
      {false, false, false, false, false, false, false, false, false, true},
      {}};
  for (const auto& p : items) t.rows.push_back(Row(s, p));
  if (!s.all_namespaces) {  // kubectl shows the namespace column only with -A
    t.headers.erase(t.headers.begin());
    t.wide_only.erase(t.wide_only.begin());
    for (auto& r : t.rows) r.erase(r.begin());
  }
  return t;
}

}  // namespace

int PlacementList(Session& s, const std::vector<std::string>& names, bool watch) {
  std::vector<Json> items;
  std::string rv;
  int rc = kExitOk;
  if (names.empty()) {
    auto list = s.conn.client->ListAll(s.Tmc("workloadplacements", s.ListNamespace()), {});
    if (!list.ok()) return Fail(s, list.status());
    items = std::move(list->items);
    rv = list->resource_version;
  } else {
    for (const auto& n : names) {
      auto p = s.conn.client->Get(s.Tmc("workloadplacements", s.namespace_), n);
      if (!p.ok()) {
        rc = Fail(s, p.status(), "`tmcctl placement list` shows the placements of the namespace");
        continue;
      }
      items.push_back(std::move(*p));
    }
  }
  if (s.format != Format::kTable && s.format != Format::kWide) {
    if (!items.empty() || names.empty()) *s.out << RenderObjects(items, s.format, names.empty() && !watch);
  } else if (items.empty()) {
    if (names.empty()) NoResources(s, true);
  } else {
    *s.out << RenderTable(PlacementTable(s, items), s.format == Format::kWide);
  }
  if (!watch || !names.empty()) return rc;
  s.out->flush();
  return WatchRows(s, s.Tmc("workloadplacements", s.ListNamespace()), rv, "",
                   [&s](const std::vector<Json>& changed, bool) { return PlacementTable(s, changed); });
}

std::string ExplainText(const Json& e) {
  std::ostringstream out;
  const Json sched = e.value("scheduled", Json::object());
  out << "Strategy:   " << e.value("strategy", "") << "\n";
  out << "Wanted:     " << (e.contains("wanted") ? e["wanted"].dump() : "?") << " cluster(s), "
      << (e.contains("feasible") ? e["feasible"].dump() : "?") << " feasible\n";
  out << "Scheduled:  " << sched.value("status", "") << " (" << sched.value("reason", "") << ")";
  if (!sched.value("message", "").empty()) out << ": " << sched.value("message", "");
  out << "\n";
  Table t{{"CLUSTER", "LOCATION", "FEASIBLE", "CHOSEN", "SCORE", "WHY"}, {}, {}};
  for (const auto& c : e.value("clusters", Json::array())) {
    std::vector<std::string> why;
    for (const auto& r : c.value("rejected", Json::array())) why.push_back(r.get<std::string>());
    if (c.value("kept", false)) why.push_back("kept (already placed)");
    if (c.value("newPlacementsOnly", false)) why.push_back("new placements only");
    for (const auto& ev : c.value("evict", Json::array())) why.push_back("evict: " + ev.dump());
    std::string score = c.contains("total") ? c["total"].dump() : "-";
    if (c.contains("scores")) {
      std::vector<std::string> parts;
      for (const auto& [plugin, sc] : c["scores"].items())
        parts.push_back(plugin + "=" + sc.value("score", Json(0)).dump());
      score += " (" + Join(parts, " ") + ")";
    }
    t.rows.push_back({c.value("name", ""), c.value("location", ""), c.value("feasible", false) ? "yes" : "no",
                      c.value("chosen", false) ? "yes" : "no", score, why.empty() ? "-" : Join(why, "; ")});
  }
  out << "\n" << (t.rows.empty() ? "no clusters in the workspace\n" : RenderTable(t, false));
  return out.str();
}

namespace {

int PrintExplanation(Session& s, const Json& e) {
  if (s.format == Format::kJson || s.format == Format::kYaml) {
    *s.out << RenderObjects({e}, s.format, false);
  } else {
    *s.out << ExplainText(e);
  }
  return kExitOk;
}

}  // namespace

int PlacementExplain(Session& s, const std::string& name) {
  auto e = s.conn.client->GetPath(s.Tmc("workloadplacements", s.namespace_).Path(name, "explain"));
  if (!e.ok()) return Fail(s, e.status(), "`tmcctl placement list` shows the placements of the namespace");
  return PrintExplanation(s, *e);
}

int PlacementSimulate(Session& s, const std::string& file) {
  PlacementFlags f;
  f.file = file;
  auto p = PlacementFromFlags("", s.namespace_, f);
  if (!p.ok()) return Fail(s, p.status());
  if ((*p)["metadata"].value("name", "").empty()) (*p)["metadata"]["name"] = "simulated";
  auto r = s.conn.client->Do(
      "POST", s.Tmc("workloadplacements", s.namespace_).Path((*p)["metadata"].value("name", "simulated"), "explain"),
      p->dump(), "application/json");
  if (!r.ok()) return Fail(s, r.status());
  Json e = Json::parse(r->body, nullptr, false);
  if (e.is_discarded()) return Fail(s, Internal("the server's explanation is not JSON"));
  if (s.format == Format::kTable || s.format == Format::kWide) *s.out << "Dry run: nothing was stored.\n";
  return PrintExplanation(s, e);
}

}  // namespace tmcd::ctl
