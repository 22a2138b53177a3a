#include "ctl/describe.h"

#include <algorithm>

#include "common/strings.h"

namespace tmcd::ctl {

void Describer::Section(const std::vector<std::pair<std::string, std::string>>& kv) {
  size_t w = 0;
  for (const auto& [k, v] : kv) w = std::max(w, k.size() + 1);
  for (const auto& [k, v] : kv) {
    std::string value = v.empty() ? "<none>" : v;
    // Multi-line values (labels) continue under the value column.
    std::string pad(w + 2, ' ');
    std::string line = k + ":" + std::string(w - k.size() - 1 + 2, ' ');
    const auto lines = Split(value, '\n');
    for (size_t i = 0; i < lines.size(); ++i) {
      out_ += (i == 0 ? line : pad) + lines[i] + "\n";
    }
  }
}

void Describer::Heading(const std::string& title) {
  out_ += title + ":\n";
}

void Describer::Indented(const std::string& text) {
  for (const auto& l : Split(text, '\n')) {
    if (!l.empty()) out_ += "  " + l + "\n";
  }
}

std::string LabelLines(const Json& labels) {
  if (!labels.is_object() || labels.empty()) return "<none>";
  std::vector<std::string> out;
  for (const auto& [k, v] : labels.items()) out.push_back(k + "=" + (v.is_string() ? v.get<std::string>() : v.dump()));
  return Join(out, "\n");
}

std::string ConditionTable(const Json& conditions, std::chrono::system_clock::time_point now) {
  if (!conditions.is_array() || conditions.empty()) return "<none>";
  Table t{{"TYPE", "STATUS", "REASON", "AGE", "MESSAGE"}, {}, {}};
  for (const auto& c : conditions) {
    t.rows.push_back({c.value("type", ""), c.value("status", ""), c.value("reason", ""),
                      Age(c.value("lastTransitionTime", ""), now), c.value("message", "")});
  }
  return RenderTable(t, false);
}

}  // namespace tmcd::ctl
