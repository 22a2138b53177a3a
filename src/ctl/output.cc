#include "ctl/output.h"

#include <algorithm>
#include <cstdint>

#include "apis/meta/time.h"
#include "apis/meta/yaml_emit.h"
#include "common/strings.h"

namespace tmcd::ctl {

Result<Format> ParseFormat(std::string_view s) {
  if (s.empty() || s == "table") return Format::kTable;
  if (s == "wide") return Format::kWide;
  if (s == "json") return Format::kJson;
  if (s == "yaml") return Format::kYaml;
  if (s == "name") return Format::kName;
  return BadRequest("unable to match a printer suitable for the output format " + Quote(s) +
                    ", allowed formats are: json, name, table, wide, yaml");
}

std::string RenderTable(const Table& t, bool wide) {
  std::vector<size_t> keep;
  for (size_t i = 0; i < t.headers.size(); ++i) {
    if (wide || i >= t.wide_only.size() || !t.wide_only[i]) keep.push_back(i);
  }
  std::vector<size_t> width(t.headers.size(), 0);
  auto measure = [&](const std::vector<std::string>& row) {
    for (size_t i : keep) width[i] = std::max(width[i], i < row.size() ? row[i].size() : 0);
  };
  measure(t.headers);
  for (const auto& r : t.rows) measure(r);
  std::string out;
  auto line = [&](const std::vector<std::string>& row) {
    std::string l;
    for (size_t k = 0; k < keep.size(); ++k) {
      const size_t i = keep[k];
      const std::string cell = i < row.size() ? row[i] : "";
      l += cell;
      if (k + 1 < keep.size()) l += std::string(width[i] - cell.size() + 3, ' ');
    }
    while (!l.empty() && l.back() == ' ') l.pop_back();
    out += l + "\n";
  };
  line(t.headers);
  for (const auto& r : t.rows) line(r);
  return out;
}

std::string BinaryQuantity(const std::string& q) {
  if (q.empty() || q.size() > 19 || q.find_first_not_of("0123456789") != std::string::npos) return q;
  uint64_t v = std::stoull(q);
  if (v == 0) return q;
  int unit = 0;
  while (unit < 5 && v % 1024 == 0) {
    v /= 1024;
    ++unit;
  }
  static constexpr const char* kUnits[] = {"", "Ki", "Mi", "Gi", "Ti", "Pi"};
  return unit == 0 ? q : std::to_string(v) + kUnits[unit];
}

std::string Text(const Json& obj, const Json::json_pointer& p) {
  if (!obj.contains(p)) return "";
  const Json& v = obj.at(p);
  return v.is_string() ? v.get<std::string>() : v.dump();
}

std::string ToYaml(const Json& j) {
  return apis::ToYaml(apis::OrderedJson::parse(j.dump()));
}

namespace {

std::string NameOf(const Json& obj) {
  const std::string api = obj.value("apiVersion", "");
  const auto slash = api.find('/');
  const std::string group = slash == std::string::npos ? "" : api.substr(0, slash);
  std::string n = ToLower(obj.value("kind", "object"));
  if (!group.empty()) n += "." + group;
  const auto& md = obj.contains("metadata") ? obj["metadata"] : Json::object();
  return n + "/" + md.value("name", "");
}

}  // namespace

std::string RenderObjects(const std::vector<Json>& items, Format f, bool as_list) {
  if (f == Format::kName) {
    std::string out;
    for (const auto& i : items) out += NameOf(i) + "\n";
    return out;
  }
  Json doc;
  if (as_list || items.size() != 1) {
    doc = {{"apiVersion", "v1"}, {"kind", "List"}, {"items", items}, {"metadata", {{"resourceVersion", ""}}}};
  } else {
    doc = items.front();
  }
  if (f == Format::kYaml) return ToYaml(doc);
  return doc.dump(4) + "\n";
}

std::string HumanDuration(std::chrono::seconds d) {
  const int64_t s = d.count();
  if (s < -1) return "<invalid>";
  if (s < 0) return "0s";
  if (s < 120) return std::to_string(s) + "s";
  const int64_t m = s / 60;
  if (m < 10) return s % 60 == 0 ? std::to_string(m) + "m" : std::to_string(m) + "m" + std::to_string(s % 60) + "s";
  if (m < 180) return std::to_string(m) + "m";
  const int64_t h = m / 60;
  if (h < 8) return m % 60 == 0 ? std::to_string(h) + "h" : std::to_string(h) + "h" + std::to_string(m % 60) + "m";
  if (h < 48) return std::to_string(h) + "h";
  constexpr int64_t kDay = 24;
  constexpr int64_t kYear = 365 * kDay;
  if (h < 8 * kDay) {
    return h % 24 == 0 ? std::to_string(h / 24) + "d" : std::to_string(h / 24) + "d" + std::to_string(h % 24) + "h";
  }
  if (h < 2 * kYear) return std::to_string(h / kDay) + "d";
  const int64_t y = h / kYear;
  if (h < 8 * kYear) {
    const int64_t dd = (h % kYear) / kDay;
    return dd == 0 ? std::to_string(y) + "y" : std::to_string(y) + "y" + std::to_string(dd) + "d";
  }
  return std::to_string(y) + "y";
}

std::string Age(std::string_view rfc3339, std::chrono::system_clock::time_point now) {
  auto t = apis::Time::Parse(rfc3339);
  if (rfc3339.empty() || !t.ok()) return "<unknown>";
  const int64_t now_s = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  return HumanDuration(std::chrono::seconds(now_s - t->seconds));
}

}  // namespace tmcd::ctl
