// ObjectService: list and watch, with label/field selectors and continue tokens.
#include <algorithm>
#include <charconv>
#include <cstring>

#include "common/strings.h"
#include "registry/objects.h"

namespace tmcd::registry {
namespace {

constexpr size_t kPageBatch = 500;

std::string FieldValue(const Json& obj, const std::string& field) {
  const Json& meta = obj.contains("metadata") ? obj["metadata"] : Json::object();
  if (field == "metadata.name") return meta.value("name", "");
  if (field == "metadata.namespace") return meta.value("namespace", "");
  // A kind's own field labels (ResourceInfo::field_labels): a dotted path to a scalar; Events'
  // "source" is source.component, as kube-apiserver maps it.
  const Json* v = &obj;
  for (const auto& part : Split(field == "source" ? "source.component" : field, '.')) {
    if (!v->is_object()) return "";
    const auto it = v->find(std::string(part));
    if (it == v->end()) return "";
    v = &*it;
  }
  if (v->is_string()) return v->get<std::string>();
  return v->is_number() || v->is_boolean() ? v->dump() : "";
}

// Continue tokens carry the key to resume after, base64 of {"start": <hex key>}.
std::string EncodeContinue(const std::string& key) {
  return Base64Encode(Json{{"start", HexEncode(key)}}.dump());
}

Result<std::string> DecodeContinue(const std::string& token, const std::string& prefix) {
  std::string raw;
  auto bad = [] { return BadRequest("continue key is not valid: it was not issued by this server for this list"); };
  if (!Base64Decode(token, raw)) return bad();
  Json j = Json::parse(raw, nullptr, false);
  if (!j.is_object() || !j.contains("start") || !j["start"].is_string()) return bad();
  const std::string hex = j["start"].get<std::string>();
  if (hex.size() % 2 != 0) return bad();
  std::string key;
  for (size_t i = 0; i < hex.size(); i += 2) {
    unsigned v = 0;
    auto [p, ec] = std::from_chars(hex.data() + i, hex.data() + i + 2, v, 16);
    if (ec != std::errc() || p != hex.data() + i + 2) return bad();
    key += static_cast<char>(v);
  }
  if (key.compare(0, prefix.size(), prefix) != 0) return bad();
  return key;
}

// Index of the '"' that closes the string whose text starts at `start`, or npos. memchr finds each
// candidate quote (it scans a long value many bytes at a time); a quote preceded by an odd run of
// backslashes is escaped and skipped.
size_t StringEnd(std::string_view json, size_t start) {
  for (size_t i = start; i < json.size(); ++i) {
    const void* q = std::memchr(json.data() + i, '"', json.size() - i);
    if (q == nullptr) return std::string_view::npos;
    i = static_cast<const char*>(q) - json.data();
    size_t backslashes = 0;
    while (i - backslashes > start && json[i - backslashes - 1] == '\\') ++backslashes;
    if (backslashes % 2 == 0) return i;
  }
  return std::string_view::npos;
}

// Offset just after the '{' that opens the top-level "metadata" object, or npos. Tracks strings and
// nesting, so a "metadata" key inside a nested object (a pod template) is never taken for it. Every
// listed item goes through this scan, so string contents (most of an object's bytes) are skipped by
// StringEnd rather than read a character at a time (docs/performance.md, "Local API vs a real
// kube-apiserver").
size_t TopLevelMetadata(std::string_view json) {
  int depth = 0;
  for (size_t i = 0; i < json.size(); ++i) {
    const char c = json[i];
    if (c == '{' || c == '[') {
      ++depth;
    } else if (c == '}' || c == ']') {
      --depth;
    } else if (c == '"') {
      const size_t start = i + 1;
      i = StringEnd(json, start);
      if (i == std::string_view::npos) return i;
      if (depth == 1 && json.substr(start, i - start) == "metadata" && json.substr(i + 1, 2) == ":{") return i + 3;
    }
  }
  return std::string_view::npos;
}

bool Trivial(const Filters& f) {
  return f.labels.IsEverything() && f.fields.empty();
}

}  // namespace

std::string DecorateText(const store::StoredObject& o) {
  const size_t at = TopLevelMetadata(o.json);
  if (at == std::string_view::npos) return Decorate(o).dump();
  std::string out;
  out.reserve(o.json.size() + 80);
  out.append(o.json, 0, at);
  out += R"("resourceVersion":")" + std::to_string(o.mod_revision) + R"(","uid":")" + store::UidString(o.uid) + '"';
  if (o.json[at] != '}') out += ',';
  out.append(o.json, at, std::string::npos);
  return out;
}

bool Filters::Matches(const Json& obj) const {
  apis::Labels labels_of;
  const Json& meta = obj.contains("metadata") ? obj["metadata"] : Json::object();
  if (meta.contains("labels") && meta["labels"].is_object()) {
    for (const auto& [k, v] : meta["labels"].items()) {
      if (v.is_string()) labels_of[k] = v.get<std::string>();
    }
  }
  if (!labels.Matches(labels_of)) return false;
  for (const auto& [field, test] : fields) {
    if ((FieldValue(obj, field) == test.second) != test.first) return false;
  }
  return true;
}

Result<Filters> ObjectService::CompileFilters(const ResourceInfo& r, const ListOptions& o) {
  Filters f;
  TMCD_ASSIGN_OR_RETURN(f.labels, apis::Selector::Parse(o.label_selector));
  if (Trim(o.field_selector).empty()) return f;
  for (const auto& raw : Split(o.field_selector, ',')) {
    std::string_view term = Trim(raw);
    size_t pos = term.find("!=");
    bool equal = pos == std::string_view::npos;
    size_t len = 2;
    if (equal) {
      pos = term.find("==");
      if (pos == std::string_view::npos) {
        pos = term.find('=');
        len = 1;
      }
    }
    if (pos == std::string_view::npos) return BadRequest("invalid field selector term " + Quote(term));
    std::string field(Trim(term.substr(0, pos)));
    if (field != "metadata.name" && !(field == "metadata.namespace" && r.namespaced) &&
        std::find(r.field_labels.begin(), r.field_labels.end(), field) == r.field_labels.end()) {
      return BadRequest("field label not supported: " + field);
    }
    f.fields.push_back({field, {equal, std::string(Trim(term.substr(pos + len)))}});
  }
  return f;
}

Result<std::string> ObjectService::ListText(const Request& p, const ResourceInfo& r, const ListOptions& o) {
  TMCD_ASSIGN_OR_RETURN(Filters filters, CompileFilters(r, o));
  if (!o.resource_version.empty()) {
    uint64_t v = 0;
    auto [ptr, ec] =
        std::from_chars(o.resource_version.data(), o.resource_version.data() + o.resource_version.size(), v);
    if (ec != std::errc() || ptr != o.resource_version.data() + o.resource_version.size()) {
      return BadRequest("invalid resourceVersion " + Quote(o.resource_version) + ": must be a non-negative integer");
    }
  }
  const std::string prefix = Prefix(p, r);
  std::string start;
  if (!o.continue_token.empty()) {
    TMCD_ASSIGN_OR_RETURN(start, DecodeContinue(o.continue_token, prefix));
  }
  const bool trivial = Trivial(filters);
  std::string items;
  size_t count = 0;
  uint64_t revision = 0;
  std::string next;
  while (true) {
    TMCD_ASSIGN_OR_RETURN(auto page, store_.List(prefix, kPageBatch, start));
    if (revision == 0) revision = page.revision;
    for (auto& [key, obj] : page.items) {
      if (o.limit > 0 && count == o.limit) {
        next = start;  // resume after the last item returned
        break;
      }
      start = key;
      if (!trivial && !filters.Matches(Decorate(obj))) continue;
      if (count++ > 0) items += ',';
      items += DecorateText(obj);
    }
    if (!next.empty() || page.next_key.empty()) break;
    start = page.next_key;
  }
  Json meta = {{"resourceVersion", std::to_string(revision)}};
  if (!next.empty()) meta["continue"] = EncodeContinue(next);
  return R"({"apiVersion":")" + r.GroupVersion() + R"(","items":[)" + items + R"(],"kind":")" + r.kind +
         R"(List","metadata":)" + meta.dump() + "}";
}

Result<Json> ObjectService::List(const Request& p, const ResourceInfo& r, const ListOptions& o) {
  TMCD_ASSIGN_OR_RETURN(std::string text, ListText(p, r, o));
  return Json::parse(text);
}

Result<WatchStart> ObjectService::Watch(const Request& p, const ResourceInfo& r, const ListOptions& o) {
  WatchStart w;
  TMCD_ASSIGN_OR_RETURN(w.filters, CompileFilters(r, o));
  const std::string prefix = Prefix(p, r);
  if (!p.name.empty()) w.filters.fields.push_back({"metadata.name", {true, p.name}});
  uint64_t from = 0;
  // sendInitialEvents: any resourceVersion is "not older than" the latest state, which is served.
  if (o.send_initial_events || o.resource_version.empty() || o.resource_version == "0") {
    // "Start at the most recent state": synthetic ADDED events for what exists, then changes after it.
    TMCD_ASSIGN_OR_RETURN(auto snapshot, store_.List(prefix, 0, ""));
    for (auto& [key, obj] : snapshot.items) {
      Json decorated = Decorate(obj);
      if (w.filters.Matches(decorated)) w.initial.push_back(std::move(decorated));
    }
    from = snapshot.revision;
    w.initial_events_end = o.send_initial_events;
  } else {
    auto [ptr, ec] =
        std::from_chars(o.resource_version.data(), o.resource_version.data() + o.resource_version.size(), from);
    if (ec != std::errc() || ptr != o.resource_version.data() + o.resource_version.size()) {
      return BadRequest("invalid resourceVersion " + Quote(o.resource_version) + ": must be a non-negative integer");
    }
  }
  TMCD_ASSIGN_OR_RETURN(w.watcher, store_.Watch(prefix, from));
  w.from = from;
  return w;
}

Json ObjectService::WatchEvent(const store::Event& e, const Filters& f) const {
  Json obj = Decorate(e.object);
  if (!f.Matches(obj)) return nullptr;
  return {{"type", std::string(store::EventTypeName(e.type))}, {"object", std::move(obj)}};
}

}  // namespace tmcd::registry
