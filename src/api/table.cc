#include "api/table.h"

#include "api/printers.h"
#include "apis/meta/time.h"
#include "common/strings.h"

namespace tmcd::api {
namespace {

using Json = nlohmann::json;

// Applies one path step to each current node.
std::vector<Json> Step(const std::vector<Json>& nodes, std::string_view& path) {
  std::vector<Json> out;
  if (path.front() == '.') {
    path.remove_prefix(1);
    size_t end = path.find_first_of(".[");
    std::string key(path.substr(0, end));
    path.remove_prefix(end == std::string_view::npos ? path.size() : end);
    for (const auto& n : nodes) {
      if (n.is_object() && n.contains(key)) out.push_back(n[key]);
    }
    return out;
  }
  size_t close = path.find(']');
  std::string_view inner = path.substr(1, close == std::string_view::npos ? std::string_view::npos : close - 1);
  path.remove_prefix(close == std::string_view::npos ? path.size() : close + 1);
  for (const auto& n : nodes) {
    if (!n.is_array()) continue;
    if (inner == "*") {
      out.insert(out.end(), n.begin(), n.end());
    } else if (StartsWith(inner, "?(@.")) {  // ?(@.key=="value")
      std::string_view cond = inner.substr(4, inner.size() - 5);
      size_t eq = cond.find("==");
      if (eq == std::string_view::npos) continue;
      std::string key(cond.substr(0, eq));
      std::string want(Trim(cond.substr(eq + 2)));
      if (want.size() >= 2 && (want.front() == '"' || want.front() == '\'')) want = want.substr(1, want.size() - 2);
      for (const auto& item : n) {
        if (item.is_object() && item.contains(key) && item[key].is_string() && item[key] == want) out.push_back(item);
      }
    } else {
      size_t idx = 0;
      for (char c : inner) idx = idx * 10 + static_cast<size_t>(c - '0');
      if (idx < n.size()) out.push_back(n[idx]);
    }
  }
  return out;
}

}  // namespace

bool WantsTable(std::string_view accept) {
  return accept.find("as=Table") != std::string_view::npos && accept.find("g=meta.k8s.io") != std::string_view::npos;
}

std::vector<Json> EvalJsonPath(const Json& obj, std::string_view path) {
  std::vector<Json> nodes = {obj};
  while (!path.empty() && !nodes.empty()) {
    if (path.front() != '.' && path.front() != '[') return {};
    nodes = Step(nodes, path);
  }
  return nodes;
}

std::string HumanAge(std::chrono::seconds age) {
  if (age.count() < -1) return "<invalid>";  // duration.HumanDuration: a time in the future
  const int64_t s = std::max<int64_t>(age.count(), 0);
  auto two = [](int64_t a, const char* ua, int64_t b, const char* ub) {
    return std::to_string(a) + ua + (b != 0 ? std::to_string(b) + ub : "");
  };
  constexpr int64_t kMinute = 60;
  constexpr int64_t kHour = 60 * kMinute;
  constexpr int64_t kDay = 24 * kHour;
  constexpr int64_t kYear = 365 * kDay;
  if (s < 2 * kMinute) return std::to_string(s) + "s";
  if (s < 10 * kMinute) return two(s / kMinute, "m", s % kMinute, "s");
  if (s < 3 * kHour) return std::to_string(s / kMinute) + "m";
  if (s < 8 * kHour) return two(s / kHour, "h", (s % kHour) / kMinute, "m");
  if (s < 2 * kDay) return std::to_string(s / kHour) + "h";
  if (s < 8 * kDay) return two(s / kDay, "d", (s % kDay) / kHour, "h");
  if (s < 2 * kYear) return std::to_string(s / kDay) + "d";
  return std::to_string(s / kYear) + "y";
}

Json ToTable(const ResourceInfo& r, const std::vector<Json>& objects, const std::string& rv,
             std::chrono::system_clock::time_point now) {
  Json table = {{"kind", "Table"}, {"apiVersion", "meta.k8s.io/v1"}, {"metadata", {{"resourceVersion", rv}}}};
  const BuiltinPrinter* printer = FindBuiltinPrinter(r.kind);
  const bool name_column = printer == nullptr || printer->name_column;
  Json cols = Json::array();
  if (name_column) {
    cols.push_back({{"name", "Name"},
                    {"type", "string"},
                    {"format", "name"},
                    {"description", "Name must be unique within a namespace."},
                    {"priority", 0}});
  }
  if (printer != nullptr) {
    for (const auto& c : printer->columns) {
      cols.push_back({{"name", std::string(c.name)},
                      {"type", std::string(c.type)},
                      {"format", ""},
                      {"description", std::string(c.description)},
                      {"priority", c.priority}});
    }
  }
  static const std::vector<registry::Column> kNoColumns;
  const auto& columns = printer != nullptr ? kNoColumns : r.columns;  // a built-in printer replaces them
  for (const auto& c : columns) {
    cols.push_back({{"name", std::string(c.name)},
                    {"type", std::string(c.type)},
                    {"format", ""},
                    {"description", std::string(c.description)},
                    {"priority", c.priority}});
  }
  table["columnDefinitions"] = cols;
  table["rows"] = Json::array();
  for (const auto& obj : objects) {
    const auto meta = obj.is_object() ? obj.find("metadata") : obj.end();
    const Json metadata = meta != obj.end() && meta->is_object() ? *meta : Json::object();
    Json cells = Json::array();
    if (name_column) cells.push_back(metadata.value("name", ""));
    if (printer != nullptr) {
      for (auto& cell : printer->cells(obj, now)) cells.push_back(std::move(cell));
    }
    for (const auto& c : columns) {
      auto values = EvalJsonPath(obj, c.json_path);
      if (values.empty()) {
        cells.push_back(nullptr);
      } else if (c.type == "date" && values[0].is_string()) {
        auto t = apis::Time::Parse(values[0].get<std::string>());
        cells.push_back(t.ok() ? HumanAge(std::chrono::duration_cast<std::chrono::seconds>(
                                     now - std::chrono::system_clock::time_point(std::chrono::seconds(t->seconds))))
                               : "<invalid>");
      } else {
        std::vector<std::string> parts;
        parts.reserve(values.size());
        for (const auto& v : values) parts.push_back(v.is_string() ? v.get<std::string>() : v.dump());
        cells.push_back(Join(parts, ","));
      }
    }
    Json partial = {{"kind", "PartialObjectMetadata"}, {"apiVersion", "meta.k8s.io/v1"}, {"metadata", metadata}};
    table["rows"].push_back({{"cells", cells}, {"object", partial}});
  }
  return table;
}

}  // namespace tmcd::api
