#include "registry/field_set.h"

#include <algorithm>

#include "registry/strategic_patch.h"

namespace tmcd::registry {
namespace {

using Json = nlohmann::json;

enum class ListKind { kAtomic, kSet, kMap };

// Where a node sits in its object's type: a built-in type name, or a node of a custom resource's
// schema (then `name` is unused, except "ObjectMeta" for its metadata).
struct Node {
  std::string_view name;
  const Json* schema = nullptr;
  bool custom = false;  // read from a schema; a missing schema node means "untyped": atomic lists
  bool root = false;    // the object itself: its metadata is ObjectMeta whatever the schema says
};

struct ListType {
  ListKind kind = ListKind::kAtomic;
  std::vector<std::string> keys;
  Node item;
};

// Lists keyed by more than their patch merge key (x-kubernetes-list-map-keys of the published types).
const std::vector<std::string>* CompositeKeys(std::string_view type, const std::string& field) {
  static const std::vector<std::string> kPorts = {"containerPort", "protocol"};
  static const std::vector<std::string> kServicePorts = {"port", "protocol"};
  static const std::vector<std::string> kSpread = {"topologyKey", "whenUnsatisfiable"};
  if (field == "ports" && type == "Container") return &kPorts;
  if (field == "ports" && type == "ServiceSpec") return &kServicePorts;
  if (field == "topologySpreadConstraints" && type == "PodSpec") return &kSpread;
  return nullptr;
}

const Json* SchemaChild(const Json* schema, const std::string& field) {
  if (schema == nullptr || !schema->is_object()) return nullptr;
  if (auto p = schema->find("properties"); p != schema->end() && p->is_object() && p->contains(field)) {
    return &(*p)[field];
  }
  auto a = schema->find("additionalProperties");
  return a != schema->end() && a->is_object() ? &*a : nullptr;
}

Node Child(const Node& n, const std::string& field) {
  if (!n.custom) return {LookupPatchField(n.name, field).type};
  if (n.root && field == "metadata") return {"ObjectMeta"};
  return {"", SchemaChild(n.schema, field), true};
}

ListType ListTypeOf(const Node& n, const std::string& field) {
  if (!n.custom) {
    const PatchFieldInfo f = LookupPatchField(n.name, field);
    if (!f.merge_list) return {ListKind::kAtomic, {}, {f.type}};
    if (f.merge_key.empty()) return {ListKind::kSet, {}, {f.type}};
    if (const auto* keys = CompositeKeys(n.name, field)) return {ListKind::kMap, *keys, {f.type}};
    return {ListKind::kMap, {std::string(f.merge_key)}, {f.type}};
  }
  const Json* s = SchemaChild(n.schema, field);
  if (s == nullptr) return {};
  auto items = s->find("items");
  const Node item{"", items != s->end() && items->is_object() ? &*items : nullptr, true};
  const std::string list_type = s->value("x-kubernetes-list-type", "atomic");
  if (list_type == "set") return {ListKind::kSet, {}, item};
  if (list_type != "map") return {ListKind::kAtomic, {}, item};
  ListType t{ListKind::kMap, {}, item};
  for (const auto& k : s->value("x-kubernetes-list-map-keys", Json::array())) {
    if (k.is_string()) t.keys.push_back(k.get<std::string>());
  }
  if (t.keys.empty()) t.kind = ListKind::kAtomic;
  return t;
}

// The root of an object of `type`: a custom resource's schema, whose metadata is still ObjectMeta.
Node Root(const ObjectType& type) {
  if (type.schema == nullptr) return {type.kind};
  return {type.kind, type.schema, true, true};
}

std::string KeyOf(const Json& item, const std::vector<std::string>& keys) {
  Json k = Json::object();
  for (const auto& key : keys) {
    if (item.contains(key)) k[key] = item[key];
  }
  return "k:" + k.dump();
}

bool IsKeyedList(const Json& list, const ListType& t) {
  if (t.kind != ListKind::kMap) return false;
  return std::all_of(list.begin(), list.end(), [](const Json& i) { return i.is_object(); });
}

Json ExtractObject(const Json& obj, const Node& type);

Json ExtractList(const Json& list, const Node& parent, const std::string& field) {
  const ListType t = ListTypeOf(parent, field);
  Json out = Json::object();
  if (t.kind == ListKind::kSet) {
    for (const auto& item : list) out["v:" + item.dump()] = Json::object();
  } else if (IsKeyedList(list, t)) {
    for (const auto& item : list) {
      Json node = ExtractObject(item, t.item);
      node["."] = Json::object();
      out[KeyOf(item, t.keys)] = std::move(node);
    }
  }
  return out;  // atomic (or empty): the list is one leaf
}

Json ExtractObject(const Json& obj, const Node& type) {
  Json out = Json::object();
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    const std::string elem = "f:" + it.key();
    if (it->is_object()) {
      out[elem] = ExtractObject(*it, Child(type, it.key()));
    } else if (it->is_array()) {
      out[elem] = ExtractList(*it, type, it.key());
    } else {
      out[elem] = Json::object();
    }
  }
  return out;
}

void CollectLeaves(const Json& node, FieldPath& path, std::vector<FieldPath>& out) {
  for (auto it = node.begin(); it != node.end(); ++it) {
    path.push_back(it.key());
    if (it.key() == "." || (it->is_object() && it->empty())) {
      out.push_back(path);
    } else if (it->is_object()) {
      CollectLeaves(*it, path, out);
    }
    path.pop_back();
  }
}

// The list item an element ("k:{...}" or "v:...") names in `list`.
template <class J>
auto FindItem(J& list, const std::string& elem) {
  if (!list.is_array() || elem.size() < 2) return list.end();
  const Json want = Json::parse(elem.substr(2), nullptr, false);
  if (want.is_discarded()) return list.end();
  if (elem[0] == 'v') return std::find(list.begin(), list.end(), want);
  return std::find_if(list.begin(), list.end(), [&](const Json& item) {
    if (!item.is_object() || !want.is_object()) return false;
    for (auto k = want.begin(); k != want.end(); ++k) {
      const auto v = item.find(k.key());
      if (v == item.end() || *v != *k) return false;
    }
    return true;
  });
}

template <class J>
J* Step(J& node, const std::string& elem) {
  if (elem.rfind("f:", 0) == 0) {
    if (!node.is_object()) return nullptr;
    const auto it = node.find(elem.substr(2));
    return it == node.end() ? nullptr : &*it;
  }
  const auto it = FindItem(node, elem);
  return it == node.end() ? nullptr : &*it;
}

bool RemoveAt(Json& node, const FieldPath& path, size_t i) {
  const std::string& elem = path[i];
  const bool last = i + 1 == path.size() || (i + 2 == path.size() && path[i + 1] == ".");
  if (last) {
    if (elem.rfind("f:", 0) == 0) return node.is_object() && node.erase(elem.substr(2)) > 0;
    const auto it = FindItem(node, elem);
    if (it == node.end()) return false;
    node.erase(it);
    return true;
  }
  Json* next = Step(node, elem);
  return next != nullptr && RemoveAt(*next, path, i + 1);
}

Json MergeObject(Json live, const Json& config, const Node& type);

Json MergeList(Json live, const Json& config, const Node& parent, const std::string& field) {
  const ListType t = ListTypeOf(parent, field);
  if (t.kind == ListKind::kSet) {
    for (const auto& item : config) {
      if (std::find(live.begin(), live.end(), item) == live.end()) live.push_back(item);
    }
    return live;
  }
  if (!IsKeyedList(live, t) || !IsKeyedList(config, t)) return config;
  for (const auto& item : config) {
    const auto at = FindItem(live, KeyOf(item, t.keys));
    if (at == live.end()) {
      live.push_back(item);
    } else {
      *at = MergeObject(std::move(*at), item, t.item);
    }
  }
  return live;
}

Json MergeObject(Json live, const Json& config, const Node& type) {
  if (!live.is_object()) return config;
  for (auto it = config.begin(); it != config.end(); ++it) {
    const auto cur = live.find(it.key());
    if (cur == live.end() || cur->type() != it->type()) {
      live[it.key()] = *it;
    } else if (it->is_object()) {
      *cur = MergeObject(std::move(*cur), *it, Child(type, it.key()));
    } else if (it->is_array()) {
      *cur = MergeList(std::move(*cur), *it, type, it.key());
    } else {
      *cur = *it;
    }
  }
  return live;
}

}  // namespace

Json ExtractFields(const Json& obj, ObjectType type, bool status_only) {
  if (!obj.is_object()) return Json::object();
  if (status_only) {
    const auto st = obj.find("status");
    return st == obj.end() ? Json::object() : ExtractObject(Json{{"status", *st}}, Root(type));
  }
  Json copy = obj;
  for (const char* f : {"apiVersion", "kind", "status"}) copy.erase(f);
  if (copy.contains("metadata") && copy["metadata"].is_object()) {
    Json& m = copy["metadata"];
    for (const char* f : {"name", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp",
                          "deletionTimestamp", "deletionGracePeriodSeconds", "managedFields", "selfLink"}) {
      m.erase(f);
    }
    if (m.empty()) copy.erase("metadata");
  }
  return ExtractObject(copy, Root(type));
}

std::vector<FieldPath> Leaves(const Json& set) {
  std::vector<FieldPath> out;
  FieldPath path;
  if (set.is_object()) CollectLeaves(set, path, out);
  return out;
}

bool Contains(const Json& set, const FieldPath& path) {
  const Json* node = &set;
  for (const auto& elem : path) {
    if (!node->is_object()) return false;
    const auto it = node->find(elem);
    if (it == node->end()) return false;
    node = &*it;
  }
  return !path.empty() && (path.back() == "." || (node->is_object() && node->empty()));
}

void AddPath(Json& set, const FieldPath& path) {
  Json* node = &set;
  for (const auto& elem : path) {
    if (!node->is_object()) *node = Json::object();
    node = &(*node)[elem];
    if (node->is_null()) *node = Json::object();
  }
}

void RemovePath(Json& set, const FieldPath& path) {
  if (path.empty() || !set.is_object()) return;
  const auto it = set.find(path[0]);
  if (it == set.end()) return;
  if (path.size() == 1) {
    set.erase(it);
    return;
  }
  RemovePath(*it, FieldPath(path.begin() + 1, path.end()));
  if (it->is_object() && it->empty()) set.erase(it);  // an emptied parent is not a leaf
}

std::optional<Json> ValueAt(const Json& obj, const FieldPath& path) {
  const Json* node = &obj;
  for (const auto& elem : path) {
    if (elem == ".") break;
    node = Step(*node, elem);
    if (node == nullptr) return std::nullopt;
  }
  return *node;
}

void RemoveValue(Json& obj, const FieldPath& path) {
  if (!path.empty()) RemoveAt(obj, path, 0);
}

Json MergeApplied(Json live, const Json& config, ObjectType type) {
  return MergeObject(std::move(live), config, Root(type));
}

std::string FieldPathString(const FieldPath& path) {
  std::string out;
  for (const auto& elem : path) {
    if (elem.rfind("f:", 0) == 0) {
      out += "." + elem.substr(2);
    } else if (elem.rfind("k:", 0) == 0) {
      const Json keys = Json::parse(elem.substr(2), nullptr, false);
      std::string inner;
      if (keys.is_object()) {
        for (auto it = keys.begin(); it != keys.end(); ++it) {
          inner += (inner.empty() ? "" : ",") + it.key() + "=" + it->dump();
        }
      }
      out += "[" + inner + "]";
    } else if (elem.rfind("v:", 0) == 0) {
      out += "[=" + elem.substr(2) + "]";
    }
  }
  return out;
}

}  // namespace tmcd::registry
