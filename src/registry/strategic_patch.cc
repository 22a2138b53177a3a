#include "registry/strategic_patch.h"

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "common/strings.h"

namespace tmcd::registry {
namespace {

using Json = nlohmann::json;

enum class Strategy { kDefault, kMerge, kReplace };

// One field's patch metadata: the type of its value (or of its elements), its strategy and, for
// lists of objects that merge, the merge key.
struct FieldMeta {
  std::string_view type;
  Strategy strategy = Strategy::kDefault;
  std::string_view key;
};

using TypeMeta = std::map<std::string_view, FieldMeta>;

constexpr Strategy kMerge = Strategy::kMerge;

// The patchStrategy/patchMergeKey tags of k8s.io/api (core/v1, apps/v1) and apimachinery's meta/v1
// for the fields of the served kinds that carry one; a field not listed merges as an object or is
// replaced as a list, as the Go types' untagged fields do. Facts from the published API types.
const std::map<std::string_view, TypeMeta>& Types() {
  static const std::map<std::string_view, TypeMeta> kTypes = {
      {"ObjectMeta", {{"finalizers", {"", kMerge, ""}}, {"ownerReferences", {"", kMerge, "uid"}}}},
      {"Namespace", {{"metadata", {"ObjectMeta"}}, {"status", {"NamespaceStatus"}}}},
      {"NamespaceStatus", {{"conditions", {"", kMerge, "type"}}}},
      {"ConfigMap", {{"metadata", {"ObjectMeta"}}}},
      {"Secret", {{"metadata", {"ObjectMeta"}}}},
      {"ServiceAccount", {{"metadata", {"ObjectMeta"}}, {"secrets", {"", kMerge, "name"}}}},
      {"Service", {{"metadata", {"ObjectMeta"}}, {"spec", {"ServiceSpec"}}, {"status", {"ServiceStatus"}}}},
      {"ServiceSpec", {{"ports", {"", kMerge, "port"}}}},
      {"ServiceStatus", {{"conditions", {"", kMerge, "type"}}}},
      {"Deployment", {{"metadata", {"ObjectMeta"}}, {"spec", {"DeploymentSpec"}}, {"status", {"DeploymentStatus"}}}},
      {"DeploymentSpec", {{"template", {"PodTemplateSpec"}}}},
      {"DeploymentStatus", {{"conditions", {"", kMerge, "type"}}}},
      {"PodTemplateSpec", {{"metadata", {"ObjectMeta"}}, {"spec", {"PodSpec"}}}},
      {"PodSpec",
       {{"volumes", {"", kMerge, "name"}},
        {"initContainers", {"Container", kMerge, "name"}},
        {"containers", {"Container", kMerge, "name"}},
        {"ephemeralContainers", {"Container", kMerge, "name"}},
        {"imagePullSecrets", {"", kMerge, "name"}},
        {"hostAliases", {"", kMerge, "ip"}},
        {"topologySpreadConstraints", {"", kMerge, "topologyKey"}},
        {"resourceClaims", {"", kMerge, "name"}},
        {"schedulingGates", {"", kMerge, "name"}}}},
      {"Container",
       {{"ports", {"", kMerge, "containerPort"}},
        {"env", {"", kMerge, "name"}},
        {"volumeMounts", {"", kMerge, "mountPath"}},
        {"volumeDevices", {"", kMerge, "devicePath"}}}},
      {"Scale", {{"metadata", {"ObjectMeta"}}}},
      {"Role", {{"metadata", {"ObjectMeta"}}}},
      {"ClusterRole", {{"metadata", {"ObjectMeta"}}}},
      {"RoleBinding", {{"metadata", {"ObjectMeta"}}}},
      {"ClusterRoleBinding", {{"metadata", {"ObjectMeta"}}}},
  };
  return kTypes;
}

FieldMeta Lookup(std::string_view type, const std::string& field) {
  const auto t = Types().find(type);
  if (t == Types().end()) return {};
  const auto f = t->second.find(field);
  return f == t->second.end() ? FieldMeta{} : f->second;
}

constexpr std::string_view kDirective = "$patch";
constexpr std::string_view kRetainKeys = "$retainKeys";
constexpr std::string_view kSetOrderPrefix = "$setElementOrder/";
constexpr std::string_view kDeleteFromPrefix = "$deleteFromPrimitiveList/";

Status Format(const std::string& what) {
  return BadRequest("invalid strategic merge patch: " + what);
}
Status Unprocessable(const std::string& what) {
  return Invalid("the strategic merge patch cannot be applied: " + what);
}

// Whether two list items are the same item: by merge key value for objects, by value for scalars.
bool Same(const Json& a, const Json& b, std::string_view key) {
  if (key.empty()) return a == b;
  if (!a.is_object() || !b.is_object()) return false;
  const auto x = a.find(std::string(key));
  const auto y = b.find(std::string(key));
  return x != a.end() && y != b.end() && *x == *y;
}

// Where `item` sits in `list`; -1 if absent.
long IndexOf(const Json& list, const Json& item, std::string_view key) {
  for (size_t i = 0; i < list.size(); ++i) {
    if (Same(list[i], item, key)) return static_cast<long>(i);
  }
  return -1;
}

// Sorts `items` by their position in `order`, keeping the relative order of items not found.
std::vector<Json> SortBy(std::vector<Json> items, const Json& order, std::string_view key) {
  std::stable_sort(items.begin(), items.end(), [&](const Json& a, const Json& b) {
    const long ia = IndexOf(order, a, key);
    const long ib = IndexOf(order, b, key);
    if (ia < 0 || ib < 0) return ia < 0 && ib >= 0;
    return ia < ib;
  });
  return items;
}

// kube's order for a merged list: the patch's items in the patch's order, the server-only items in the
// live order, interleaved where the live order relates them.
Json NormalizeOrder(const Json& merged, const Json& patch_order, const Json& server_order, std::string_view key) {
  std::vector<Json> patch_items;
  std::vector<Json> server_only;
  for (const auto& item : merged) {
    (IndexOf(patch_order, item, key) >= 0 ? patch_items : server_only).push_back(item);
  }
  patch_items = SortBy(std::move(patch_items), patch_order, key);
  server_only = SortBy(std::move(server_only), server_order, key);
  Json out = Json::array();
  size_t i = 0;
  size_t j = 0;
  while (i < server_only.size() || j < patch_items.size()) {
    if (j >= patch_items.size()) {
      out.push_back(server_only[i++]);
    } else if (i >= server_only.size()) {
      out.push_back(patch_items[j++]);
    } else {
      const long li = IndexOf(server_order, server_only[i], key);
      const long ri = IndexOf(server_order, patch_items[j], key);
      if (li >= 0 && ri >= 0 && li < ri) {
        out.push_back(server_only[i++]);
      } else {
        out.push_back(patch_items[j++]);
      }
    }
  }
  return out;
}

class Merger {
 public:
  Result<Json> MergeMap(Json original, Json patch, std::string_view type);

 private:
  Result<Json> MergeList(Json original, Json patch, const FieldMeta& f, bool delete_list);
  // A patch value taken where the original has none: its directives still apply (to nothing).
  Result<Json> Adopt(Json value, const FieldMeta& f);
  Status SetElementOrder(Json& original, Json& patch, std::string_view type, const std::string& field,
                         const Json& order);
};

Result<Json> Merger::Adopt(Json value, const FieldMeta& f) {
  if (value.is_object()) return MergeMap(Json::object(), std::move(value), f.type);
  if (value.is_array()) return MergeList(Json::array(), std::move(value), f, false);
  return value;
}

Result<Json> Merger::MergeMap(Json original, Json patch, std::string_view type) {
  if (const auto d = patch.find(std::string(kDirective)); d != patch.end()) {
    if (*d == "delete") return Json::object();
    if (*d != "replace") return Format("unknown or misplaced $patch directive " + d->dump());
    patch.erase(std::string(kDirective));
    return MergeMap(Json::object(), std::move(patch), type);
  }
  if (!original.is_object()) original = Json::object();
  if (const auto rk = patch.find(std::string(kRetainKeys)); rk != patch.end()) {
    if (!rk->is_array()) return Format("$retainKeys must be a list of field names");
    const Json keep = *rk;
    patch.erase(std::string(kRetainKeys));
    for (const auto& [k, v] : patch.items()) {
      if (v.is_null() || StartsWith(k, kSetOrderPrefix) || StartsWith(k, kDeleteFromPrefix)) continue;
      if (std::find(keep.begin(), keep.end(), Json(k)) == keep.end()) {
        return Format("field " + Quote(k) + " is in the patch but not in $retainKeys");
      }
    }
    for (auto it = original.begin(); it != original.end();) {
      it = std::find(keep.begin(), keep.end(), Json(it.key())) == keep.end() ? original.erase(it) : std::next(it);
    }
  }
  std::vector<std::string> orders;
  for (const auto& [k, v] : patch.items()) {
    if (StartsWith(k, kSetOrderPrefix)) orders.push_back(k);
  }
  for (const auto& k : orders) {
    const Json order = patch[k];
    patch.erase(k);
    const std::string field = k.substr(kSetOrderPrefix.size());
    if (field.empty() || !order.is_array()) return Format(Quote(k) + " must name a list and hold a list");
    TMCD_TRY(SetElementOrder(original, patch, type, field, order));
  }
  for (auto& [raw_key, value] : patch.items()) {
    std::string k = raw_key;
    bool delete_list = false;
    if (StartsWith(k, kDeleteFromPrefix)) {
      k = k.substr(kDeleteFromPrefix.size());
      delete_list = true;
      if (k.empty() || !value.is_array()) return Format(Quote(raw_key) + " must name a list and hold a list");
    } else if (StartsWith(k, "$")) {
      return Format("unknown directive " + Quote(k));
    }
    if (value.is_null()) {
      original.erase(k);
      continue;
    }
    const FieldMeta f = Lookup(type, k);
    const auto cur = original.find(k);
    if (cur == original.end()) {
      if (delete_list) continue;  // nothing to delete from
      TMCD_ASSIGN_OR_RETURN(original[k], Adopt(std::move(value), f));
    } else if (cur->is_object() && value.is_object()) {
      if (f.strategy == Strategy::kReplace) {
        TMCD_ASSIGN_OR_RETURN(*cur, Adopt(std::move(value), f));
      } else {
        TMCD_ASSIGN_OR_RETURN(*cur, MergeMap(std::move(*cur), std::move(value), f.type));
      }
    } else if (cur->is_array() && value.is_array()) {
      TMCD_ASSIGN_OR_RETURN(*cur, MergeList(std::move(*cur), std::move(value), f, delete_list));
    } else {
      TMCD_ASSIGN_OR_RETURN(*cur, Adopt(std::move(value), f));
    }
  }
  return original;
}

Status Merger::SetElementOrder(Json& original, Json& patch, std::string_view type, const std::string& field,
                               const Json& order) {
  const FieldMeta f = Lookup(type, field);
  const auto o = original.find(field);
  const auto p = patch.find(field);
  const bool has_original = o != original.end() && o->is_array();
  const bool has_patch = p != patch.end() && p->is_array();
  if (!has_original && !has_patch) return Status::Ok();
  if (has_patch) {
    // Each item of the patch must appear in $setElementOrder, in the same relative order.
    size_t at = 0;
    for (const auto& item : *p) {
      if (item.is_object() && item.contains(std::string(kDirective))) continue;
      while (at < order.size() && !Same(order[at], item, f.key)) ++at;
      if (at == order.size())
        return Unprocessable("the order of list " + Quote(field) + " contradicts $setElementOrder");
      ++at;
    }
  }
  const Json server = has_original ? *o : Json::array();
  Json merged;
  if (has_original && has_patch) {
    TMCD_ASSIGN_OR_RETURN(merged, MergeList(*o, *p, f, false));
  } else if (has_patch) {
    TMCD_ASSIGN_OR_RETURN(merged, Adopt(*p, f));
  } else {
    merged = *o;
  }
  original[field] = NormalizeOrder(merged, order, server, f.key);
  if (p != patch.end()) patch.erase(p);
  return Status::Ok();
}

Result<Json> Merger::MergeList(Json original, Json patch, const FieldMeta& f, bool delete_list) {
  int kinds = 0;  // bit 1: objects, bit 2: scalars
  for (const Json* list : {&original, &patch}) {
    for (const auto& item : *list) {
      if (item.is_array()) return Unprocessable("lists of lists cannot be merged");
      kinds |= item.is_object() ? 1 : 2;
    }
  }
  if (kinds == 3) return Unprocessable("list elements are not all of the same type");
  const bool objects = kinds == 1;
  if (f.strategy != Strategy::kMerge) {
    if (!objects) return patch;
    Json out = Json::array();
    for (auto& item : patch) {
      TMCD_ASSIGN_OR_RETURN(Json clean, MergeMap(Json::object(), std::move(item), f.type));
      out.push_back(std::move(clean));
    }
    return out;
  }
  if (!objects) {
    Json merged = Json::array();
    if (delete_list) {
      for (auto& item : original) {
        if (IndexOf(patch, item, "") < 0) merged.push_back(std::move(item));
      }
      return merged;
    }
    for (const Json* list : {&original, &patch}) {
      for (const auto& item : *list) {
        if (IndexOf(merged, item, "") < 0) merged.push_back(item);
      }
    }
    return NormalizeOrder(merged, patch, original, "");
  }
  const std::string key(f.key);
  if (key.empty()) return Unprocessable("cannot merge lists without a merge key");
  Json plain = Json::array();
  bool replace = false;
  for (auto& item : patch) {
    const auto d = item.find(std::string(kDirective));
    if (d == item.end()) {
      if (!item.contains(key)) return Unprocessable("a list element has no merge key " + Quote(key));
      plain.push_back(std::move(item));
    } else if (*d == "delete") {
      if (!item.contains(key)) return Unprocessable("a $patch: delete element has no merge key " + Quote(key));
      for (long at = IndexOf(original, item, key); at >= 0; at = IndexOf(original, item, key)) {
        original.erase(static_cast<size_t>(at));
      }
    } else if (*d == "replace") {
      replace = true;
    } else if (*d == "merge") {
      return Format("merging lists cannot yet be specified in the patch");
    } else {
      return Format("unknown $patch directive " + d->dump() + " in a list element");
    }
  }
  if (replace) {
    Json out = Json::array();
    for (auto& item : plain) {
      TMCD_ASSIGN_OR_RETURN(Json clean, MergeMap(Json::object(), std::move(item), f.type));
      out.push_back(std::move(clean));
    }
    return out;
  }
  const Json server = original;
  for (const auto& item : plain) {
    const long at = IndexOf(original, item, key);
    if (at >= 0) {
      auto& target = original[static_cast<size_t>(at)];
      TMCD_ASSIGN_OR_RETURN(target, MergeMap(std::move(target), item, f.type));
    } else {
      TMCD_ASSIGN_OR_RETURN(Json added, MergeMap(Json::object(), item, f.type));
      original.push_back(std::move(added));
    }
  }
  return NormalizeOrder(original, plain, server, key);
}

bool IsDirective(const std::string& k) {
  return k == kDirective || k == kRetainKeys || StartsWith(k, kSetOrderPrefix) || StartsWith(k, kDeleteFromPrefix);
}

// kube-apiserver decodes a patched object into its Go type, so a "$key" that is no directive is an
// unknown field: dropped, with a warning (fieldValidation=Warn, kubectl's default for patch).
void DropUnknownDirectives(Json& v, const std::string& path, std::vector<std::string>* warnings) {
  if (v.is_object()) {
    for (auto it = v.begin(); it != v.end();) {
      const std::string at = path.empty() ? it.key() : path + "." + it.key();
      if (StartsWith(it.key(), "$") && !IsDirective(it.key())) {
        if (warnings != nullptr) warnings->push_back("unknown field \"" + at + "\"");
        it = v.erase(it);
        continue;
      }
      DropUnknownDirectives(*it, at, warnings);
      ++it;
    }
  } else if (v.is_array()) {
    for (size_t i = 0; i < v.size(); ++i) DropUnknownDirectives(v[i], path + "[" + std::to_string(i) + "]", warnings);
  }
}

}  // namespace

PatchFieldInfo LookupPatchField(std::string_view type, const std::string& field) {
  const FieldMeta f = Lookup(type, field);
  return {f.type, f.strategy == Strategy::kMerge, f.key};
}

bool HasStrategicPatchSchema(std::string_view kind) {
  return Types().count(kind) != 0;
}

Result<Json> StrategicMergePatch(const Json& original, const Json& patch, std::string_view kind,
                                 std::vector<std::string>* warnings) {
  if (!patch.is_object()) return BadRequest("a strategic merge patch must be a JSON object");
  Json clean = patch;
  DropUnknownDirectives(clean, "", warnings);
  Merger m;
  return m.MergeMap(original, std::move(clean), kind);
}

}  // namespace tmcd::registry
