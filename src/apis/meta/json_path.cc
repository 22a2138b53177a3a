#include "apis/meta/json_path.h"

#include <algorithm>
#include <cctype>

namespace tmcd::apis {
namespace {

using Json = nlohmann::json;

constexpr std::string_view kEvery = "*";

bool PlainKeyChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-' || c == '$';
}

Status Bad(std::string_view text, size_t pos, const std::string& why) {
  return Invalid("invalid path " + std::string(text) + " at " + std::to_string(pos) + ": " + why);
}

void CollectFrom(const Json& node, const std::vector<std::string>& segs, size_t i, std::vector<const Json*>& out) {
  if (i == segs.size()) {
    out.push_back(&node);
    return;
  }
  if (segs[i] == kEvery) {
    if (!node.is_array()) return;
    for (const auto& e : node) CollectFrom(e, segs, i + 1, out);
    return;
  }
  if (!node.is_object()) return;
  auto it = node.find(segs[i]);
  if (it != node.end()) CollectFrom(*it, segs, i + 1, out);
}

size_t EraseFrom(Json& node, const std::vector<std::string>& segs, size_t i) {
  if (segs[i] == kEvery) {
    if (!node.is_array() || i + 1 == segs.size()) return 0;  // "[*]" last: arrays are erased by their key
    size_t n = 0;
    for (auto& e : node) n += EraseFrom(e, segs, i + 1);
    return n;
  }
  if (!node.is_object()) return 0;
  if (i + 1 == segs.size()) return node.erase(segs[i]);
  auto it = node.find(segs[i]);
  return it == node.end() ? 0 : EraseFrom(*it, segs, i + 1);
}

}  // namespace

Result<JsonPath> JsonPath::Parse(std::string_view text) {
  JsonPath p;
  size_t i = 0;
  if (text.empty() || text[0] != '.') return Bad(text, 0, "must start with '.'");
  while (i < text.size()) {
    if (text[i] == '.') {
      size_t j = i + 1;
      while (j < text.size() && PlainKeyChar(text[j])) ++j;
      if (j == i + 1) return Bad(text, i + 1, "expected a field name");
      p.segments_.emplace_back(text.substr(i + 1, j - i - 1));
      i = j;
    } else if (text.substr(i, 3) == "[*]") {
      p.segments_.emplace_back(kEvery);
      i += 3;
    } else if (text.substr(i, 2) == "['") {
      const size_t end = text.find("']", i + 2);
      if (end == std::string_view::npos || end == i + 2) return Bad(text, i, "unterminated or empty ['key']");
      p.segments_.emplace_back(text.substr(i + 2, end - i - 2));
      i = end + 2;
    } else {
      return Bad(text, i, "expected '.name', '[*]' or ['key']");
    }
  }
  if (p.segments_.size() > 32) return Bad(text, 0, "more than 32 segments");
  return p;
}

JsonPath JsonPath::Of(std::vector<std::string> segments) {
  JsonPath p;
  p.segments_ = std::move(segments);
  return p;
}

bool JsonPath::HasWildcard() const {
  for (const auto& s : segments_) {
    if (s == kEvery) return true;
  }
  return false;
}

std::string JsonPath::String() const {
  std::string out;
  for (const auto& s : segments_) {
    if (s == kEvery) {
      out += "[*]";
    } else if (std::all_of(s.begin(), s.end(), PlainKeyChar)) {
      out += "." + s;
    } else {
      out += "['" + s + "']";
    }
  }
  return out;
}

bool JsonPath::StartsWith(const JsonPath& prefix) const {
  return prefix.segments_.size() <= segments_.size() &&
         std::equal(prefix.segments_.begin(), prefix.segments_.end(), segments_.begin());
}

JsonPath JsonPath::Tail(size_t n) const {
  JsonPath p;
  for (size_t i = n; i < segments_.size(); ++i) p.segments_.push_back(segments_[i]);
  return p;
}

std::vector<const Json*> JsonPath::Collect(const Json& root) const {
  std::vector<const Json*> out;
  CollectFrom(root, segments_, 0, out);
  return out;
}

const Json* JsonPath::Find(const Json& root) const {
  auto all = Collect(root);
  return all.empty() ? nullptr : all.front();
}

size_t JsonPath::Erase(Json& root) const {
  return segments_.empty() ? 0 : EraseFrom(root, segments_, 0);
}

bool JsonPath::Set(Json& root, Json value) const {
  if (segments_.empty() || HasWildcard()) return false;
  Json* node = &root;
  for (size_t i = 0; i + 1 < segments_.size(); ++i) {
    if (!node->is_object()) return false;
    Json& next = (*node)[segments_[i]];
    if (next.is_null()) next = Json::object();
    node = &next;
  }
  if (!node->is_object()) return false;
  (*node)[segments_.back()] = std::move(value);
  return true;
}

}  // namespace tmcd::apis
