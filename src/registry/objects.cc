#include "registry/objects.h"

#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <charconv>

#include "apis/meta/codec.h"
#include "apis/meta/object_meta.h"
#include "apis/meta/time.h"
#include "apis/meta/validate.h"
#include "common/json_patch.h"
#include "common/strings.h"
#include "registry/strategic_patch.h"

namespace tmcd::registry {
namespace {

// Removes `path` ("spec.a.b", "spec.list[2].c") from `obj`.
void RemoveJsonPath(Json& obj, std::string_view path) {
  Json* node = &obj;
  std::string key;
  for (size_t i = 0; i <= path.size(); ++i) {
    const char c = i < path.size() ? path[i] : '.';
    if (c != '.' && c != '[') {
      key += c;
      continue;
    }
    const bool last = i == path.size();
    if (!key.empty()) {
      if (!node->is_object() || !node->contains(key)) return;
      if (last) {
        node->erase(key);
        return;
      }
      node = &(*node)[key];
      key.clear();
    }
    if (c == '[') {
      const size_t close = path.find(']', i);
      if (close == std::string_view::npos) return;
      size_t idx = 0;
      if (std::from_chars(path.data() + i + 1, path.data() + close, idx).ec != std::errc()) return;
      if (!node->is_array() || idx >= node->size()) return;
      node = &(*node)[idx];
      i = close;
      if (i + 1 < path.size() && path[i + 1] == '.') ++i;
    }
  }
}

}  // namespace

// fieldValidation=Warn|Ignore: the unknown fields a strict decode reported are dropped from `obj` (their
// paths relative to `prefix`), with a warning each for Warn, as kube-apiserver does. Whether any were.
bool ObjectService::DropUnknownFields(const Status& s, Json& obj, const std::string& prefix, const Request& p) {
  if (p.field_validation == "Strict") return false;
  bool dropped = false;
  for (const auto& c : s.causes()) {
    if (c.reason != "FieldValueUnknown") continue;
    RemoveJsonPath(obj, c.field);
    if (p.field_validation == "Warn") p.warnings.push_back("unknown field \"" + prefix + c.field + "\"");
    dropped = true;
  }
  return dropped;
}

namespace {

Result<uint64_t> ParseResourceVersion(const std::string& rv) {
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(rv.data(), rv.data() + rv.size(), v);
  if (rv.empty() || ec != std::errc() || p != rv.data() + rv.size()) {
    return BadRequest("invalid resourceVersion " + Quote(rv) + ": must be a non-negative integer");
  }
  return v;
}

std::string RandomSuffix() {
  static constexpr char kAlphabet[] = "bcdfghjklmnpqrstvwxz2456789";  // Kubernetes' generateName alphabet
  unsigned char buf[5];
  RAND_bytes(buf, sizeof(buf));
  std::string out;
  for (unsigned char c : buf) out += kAlphabet[c % (sizeof(kAlphabet) - 1)];
  return out;
}

// Everything that is not metadata or status: what a spec change (and so a generation bump) is.
Json SpecPart(Json obj) {
  if (obj.is_object()) {
    obj.erase("metadata");
    obj.erase("status");
  }
  return obj;
}

const Json& MetaOf(const Json& obj) {
  static const Json kEmpty = Json::object();
  auto it = obj.find("metadata");
  return it != obj.end() && it->is_object() ? *it : kEmpty;
}

std::vector<std::string> Finalizers(const Json& obj) {
  std::vector<std::string> out;
  const Json& m = MetaOf(obj);
  if (m.contains("finalizers") && m["finalizers"].is_array()) {
    for (const auto& f : m["finalizers"]) {
      if (f.is_string()) out.push_back(f.get<std::string>());
    }
  }
  return out;
}

}  // namespace

Json Decorate(const store::StoredObject& o) {
  Json obj = Json::parse(o.json);
  obj["metadata"]["resourceVersion"] = std::to_string(o.mod_revision);
  obj["metadata"]["uid"] = store::UidString(o.uid);
  return obj;
}

Result<Json> ObjectService::DryRun(const store::ObjectKey& key, Json obj, uint64_t expected, bool create) const {
  auto stored = store_.Get(key);
  const std::string what = key.resource + " " + Quote(key.name);
  Json& meta = obj["metadata"];
  if (create) {
    if (stored.ok()) return Status(Reason::kAlreadyExists, what + " already exists");
    if (stored.status().reason() != Reason::kNotFound) return stored.status();
    // As kube-apiserver: a dry-run create answers with a fresh uid and no resourceVersion.
    std::array<unsigned char, 16> raw{};
    RAND_bytes(raw.data(), raw.size());
    raw[6] = (raw[6] & 0x0f) | 0x40;  // RFC 4122 version 4
    raw[8] = (raw[8] & 0x3f) | 0x80;
    meta["uid"] = store::UidString(std::string_view(reinterpret_cast<const char*>(raw.data()), raw.size()));
    meta.erase("resourceVersion");
    return obj;
  }
  if (!stored.ok()) return stored.status();
  if (expected != 0 && expected != stored->mod_revision) {
    return Status(Reason::kConflict, "Operation cannot be fulfilled on " + what +
                                         ": the object has been modified; please apply your changes to the latest "
                                         "version and try again");
  }
  meta["resourceVersion"] = std::to_string(stored->mod_revision);
  meta["uid"] = store::UidString(stored->uid);
  return obj;
}

ManagerInfo ObjectService::Manager(const Request& p, const ResourceInfo& r) const {
  const bool sub = p.subresource == "status" || p.subresource == "scale";
  return {p.field_manager.empty() ? "unknown" : p.field_manager, sub ? p.subresource : "", r.GroupVersion(), Now()};
}

std::string ObjectService::Now() const {
  return apis::Time::FromTimePoint(clock_.Now()).ToString();
}

store::ObjectKey ObjectService::Key(const Request& p, const ResourceInfo& r, const std::string& name) const {
  return {p.workspace, r.group, r.resource, r.namespaced ? p.namespace_ : "", name};
}

std::string ObjectService::Prefix(const Request& p, const ResourceInfo& r) const {
  if (r.namespaced && !p.namespace_.empty())
    return store::NamespacePrefix(p.workspace, r.group, r.resource, p.namespace_);
  return store::ResourcePrefix(p.workspace, r.group, r.resource);
}

Result<Json> ObjectService::Get(const Request& p, const ResourceInfo& r) {
  TMCD_ASSIGN_OR_RETURN(auto stored, store_.Get(Key(p, r, p.name)));
  return Decorate(stored);
}

// Checks identity and metadata, applies the type's strict validation and defaults, and returns the
// JSON to store (without resourceVersion and uid, which the store owns).
Result<Json> ObjectService::Prepare(const Request& p, const ResourceInfo& r, Json obj, const Json* current) const {
  if (!obj.is_object()) return BadRequest("the request body must be a JSON object");
  const std::string api_version = obj.value("apiVersion", r.GroupVersion());
  const std::string kind = obj.value("kind", r.kind);
  if (api_version != r.GroupVersion() || kind != r.kind) {
    return BadRequest("the body's apiVersion/kind " + Quote(api_version + "/" + kind) + " does not match " +
                      Quote(r.GroupVersion() + "/" + r.kind) + " of the request URL");
  }
  obj["apiVersion"] = api_version;
  obj["kind"] = kind;
  Json& meta = obj["metadata"];
  if (!meta.is_object()) return BadRequest("metadata must be an object");
  const std::string ns = meta.value("namespace", "");
  if (r.namespaced) {
    if (!ns.empty() && ns != p.namespace_) {
      return BadRequest("the namespace of the provided object (" + ns +
                        ") does not match the namespace sent on the request (" + p.namespace_ + ")");
    }
    meta["namespace"] = p.namespace_;
  } else {
    meta.erase("namespace");
  }
  meta.erase("resourceVersion");
  meta.erase("uid");
  if (r.normalize) {
    auto out = r.normalize(obj);
    if (!out.ok() && DropUnknownFields(out.status(), obj, "", p)) out = r.normalize(obj);
    if (out.ok() && r.crd.empty() && r.resource == "workloadplacements") {
      TMCD_TRY(RefuseUnimplementedPlacementFields(*out, current, advanced_placement_));
    }
    if (out.ok() && r.crd.empty() && r.resource == "clusterregistrations") StampTaintTimes(*out, current, Now());
    return out;
  }
  if (r.group.empty() && r.kind == "Secret" && obj.contains("stringData")) {
    // As the core registry: stringData is write-only, merged into data (base64) over existing keys.
    const Json string_data = obj["stringData"];
    obj.erase("stringData");
    if (!string_data.is_object()) return Invalid("Secret stringData must be a map of strings");
    if (!obj.contains("data") || obj["data"].is_null()) obj["data"] = Json::object();
    if (!obj["data"].is_object()) return Invalid("Secret data must be a map of base64 strings");
    for (auto it = string_data.begin(); it != string_data.end(); ++it) {
      if (!it->is_string()) return Invalid("Secret stringData[" + Quote(it.key()) + "] must be a string");
      obj["data"][it.key()] = Base64Encode(it->get<std::string>());
    }
  }
  apis::ObjectMeta m;
  apis::FieldErrors errs;
  TMCD_TRY(apis::DecodeJson(meta.dump(), m, errs));
  if (!errs.empty() && DropUnknownFields(errs.ToStatus("", ""), meta, "metadata.", p)) {
    errs = apis::FieldErrors();
    m = apis::ObjectMeta();
    TMCD_TRY(apis::DecodeJson(meta.dump(), m, errs));
  }
  apis::ValidateFields(m, errs);
  if (r.path_segment_names) {  // kube's ValidatePathSegmentName (RBAC: "system:masters", "tmc:viewer")
    if (m.name.empty() || m.name == "." || m.name == ".." || m.name.find_first_of("/%") != std::string::npos) {
      errs.Invalid("metadata.name", Quote(m.name), "may not be empty, '.' or '..', and may not contain '/' or '%'");
    }
  } else {
    apis::CheckObjectName(m, r.resource == "namespaces" || r.resource == "services", "metadata", errs);
  }
  if (!errs.empty()) return errs.ToStatus(r.kind, m.name);
  TMCD_TRY(PrepareCustom(p, r, obj, current));
  if (r.validate) {
    if (Status s = r.validate(obj, current); !s.ok()) {
      if (!s.causes().empty()) return s;  // field errors, already "<Kind> "<name>" is invalid: [...]"
      return Status(Reason::kInvalid, r.kind + " " + Quote(m.name) + " is invalid: " + s.message());
    }
  }
  if (p.admit) TMCD_TRY(p.admit(obj));
  return obj;
}

Result<Json> ObjectService::Create(const Request& p, const ResourceInfo& r, Json body) {
  if (!body.is_object()) return BadRequest("the request body must be a JSON object");
  if (r.namespaced && p.namespace_.empty()) return BadRequest("a namespace is required to create " + r.resource);
  Json& meta = body["metadata"];
  if (!meta.is_object()) return BadRequest("metadata must be an object");
  if (!meta.contains("name") && meta.contains("generateName") && meta["generateName"].is_string()) {
    meta["name"] = meta["generateName"].get<std::string>() + RandomSuffix();
  }
  meta["creationTimestamp"] = Now();
  meta["generation"] = 1;
  meta.erase("deletionTimestamp");
  meta.erase("deletionGracePeriodSeconds");
  if (r.has_status) body.erase("status");
  if (r.resource == "namespaces") body["status"] = {{"phase", "Active"}};
  TMCD_ASSIGN_OR_RETURN(Json obj, Prepare(p, r, std::move(body)));
  TrackUpdate(nullptr, obj, FieldTypeOf(r), Manager(p, r));
  const std::string name = obj["metadata"].value("name", "");
  if (p.dry_run) return DryRun(Key(p, r, name), std::move(obj), 0, true);
  TMCD_ASSIGN_OR_RETURN(auto stored, store_.Create(Key(p, r, name), obj.dump()));
  Committed(p, r);
  return Decorate(stored);
}

Result<Json> ObjectService::Update(const Request& p, const ResourceInfo& r, Json body, bool status_only) {
  return UpdatePart(p, r, std::move(body), status_only ? Part::kStatus : Part::kObject);
}

Result<Json> ObjectService::UpdateWithStatus(const Request& p, const ResourceInfo& r, Json body) {
  return UpdatePart(p, r, std::move(body), r.has_status ? Part::kBoth : Part::kObject);
}

Result<Json> ObjectService::UpdatePart(const Request& p, const ResourceInfo& r, Json body, Part part) {
  if (!body.is_object() || !MetaOf(body).is_object()) return BadRequest("the request body must be a JSON object");
  const Json& meta = MetaOf(body);
  if (meta.value("name", p.name) != p.name) {
    return BadRequest("the name of the object (" + meta.value("name", "") + ") does not match the name on the URL (" +
                      p.name + ")");
  }
  if (!meta.contains("resourceVersion")) {
    return Status(Reason::kInvalid,
                  r.kind + " " + Quote(p.name) +
                      " is invalid: metadata.resourceVersion: Invalid value: 0x0: must be specified "
                      "for an update",
                  {{"FieldValueInvalid", "must be specified for an update", "metadata.resourceVersion"}});
  }
  TMCD_ASSIGN_OR_RETURN(uint64_t expected, ParseResourceVersion(meta.value("resourceVersion", "")));
  TMCD_ASSIGN_OR_RETURN(auto stored, store_.Get(Key(p, r, p.name)));
  Json current = Decorate(stored);
  Json desired = current;
  if (part == Part::kStatus) {
    desired["status"] = body.value("status", Json::object());
  } else {
    desired = std::move(body);
    if (part == Part::kObject && r.has_status && current.contains("status")) desired["status"] = current["status"];
    if (part == Part::kObject && r.has_status && !current.contains("status")) desired.erase("status");
  }
  return CommitUpdate(p, r, std::move(current), std::move(desired), expected, part == Part::kBoth);
}

Result<Json> ObjectService::CommitUpdate(const Request& p, const ResourceInfo& r, Json current, Json desired,
                                         uint64_t expected, bool with_status) {
  if (!desired.contains("metadata") || !desired["metadata"].is_object()) desired["metadata"] = Json::object();
  Json& meta = desired["metadata"];
  const Json& old = current["metadata"];
  // The object's identity is its key: an update or patch (of any type, status included) that renames
  // it, or turns it into another kind, would store one object that reads as another.
  if (!meta.contains("name")) meta["name"] = old["name"];  // as kube fills in an omitted name
  if (meta["name"] != old["name"]) {
    return BadRequest("the name of the object (" + meta["name"].dump() + ") does not match the name on the URL (" +
                      p.name + ")");
  }
  for (const char* f : {"apiVersion", "kind"}) {
    if (desired.contains(f) && desired[f] != current[f]) {
      return BadRequest(std::string(f) + " " + desired[f].dump() + " does not match the " + r.kind + " on the URL (" +
                        current.value(f, "") + ")");
    }
  }
  if (meta.contains("uid") && meta["uid"] != old["uid"]) {
    return Status(Reason::kConflict, "Precondition failed: UID in precondition: " + meta["uid"].dump() +
                                         ", UID in object meta: " + old["uid"].dump());
  }
  // Server-owned fields keep their stored values.
  for (const char* f : {"creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation"}) {
    if (old.contains(f))
      meta[f] = old[f];
    else
      meta.erase(f);
  }
  if (SpecPart(desired) != SpecPart(current)) meta["generation"] = old.value("generation", 0) + 1;
  const auto old_fin = Finalizers(current);
  const auto new_fin = Finalizers(desired);
  const bool deleting = old.contains("deletionTimestamp");
  if (deleting) {
    for (const auto& f : new_fin) {
      if (std::find(old_fin.begin(), old_fin.end(), f) == old_fin.end()) {
        return Status(Reason::kInvalid,
                      r.kind + " " + Quote(p.name) +
                          " is invalid: metadata.finalizers: Forbidden: no "
                          "new finalizers can be added if the object is being deleted",
                      {{"FieldValueForbidden", "no new finalizers can be added if the object is being deleted",
                        "metadata.finalizers"}});
      }
    }
  }
  TMCD_ASSIGN_OR_RETURN(Json obj, Prepare(p, r, std::move(desired), &current));
  TrackUpdate(&current, obj, FieldTypeOf(r), Manager(p, r));
  if (with_status) {  // then the status, as a write of the status subresource over the object just written
    Json written = current;
    written["metadata"]["managedFields"] = obj["metadata"].value("managedFields", Json::array());
    Request sub = p;
    sub.subresource = "status";
    TrackUpdate(&written, obj, FieldTypeOf(r), Manager(sub, r));
  }
  if (deleting && new_fin.empty()) {
    // The last finalizer is gone: the object is deleted now.
    if (p.dry_run) return DryRun(Key(p, r, p.name), std::move(obj), expected, false);
    TMCD_ASSIGN_OR_RETURN(auto gone, store_.Delete(Key(p, r, p.name), expected));
    (void)gone;
    Committed(p, r);
    Json result = obj;
    result["metadata"]["resourceVersion"] = std::to_string(store_.CurrentRevision());
    result["metadata"]["uid"] = old["uid"];
    return result;
  }
  if (p.dry_run) return DryRun(Key(p, r, p.name), std::move(obj), expected, false);
  TMCD_ASSIGN_OR_RETURN(auto stored, store_.Update(Key(p, r, p.name), obj.dump(), expected));
  Committed(p, r);
  return Decorate(stored);
}

Result<ParsedPatch> ParsePatch(std::string_view content_type, std::string_view body, std::string_view kind) {
  ParsedPatch out;
  if (StartsWith(content_type, "application/merge-patch+json")) {
    out.type = ParsedPatch::Type::kMerge;
  } else if (StartsWith(content_type, "application/json-patch+json")) {
    out.type = ParsedPatch::Type::kJson;
  } else if (StartsWith(content_type, "application/strategic-merge-patch+json") && HasStrategicPatchSchema(kind)) {
    // As kube-apiserver: strategic merge patch for built-in kinds only (their Go types carry the
    // patch metadata); custom resources, the TMC types among them, get 415.
    out.type = ParsedPatch::Type::kStrategic;
  } else {
    return Status(Reason::kUnsupportedMediaType,
                  "the body of the request was in an unknown format - accepted media types include: "
                  "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml" +
                      std::string(HasStrategicPatchSchema(kind) ? ", application/strategic-merge-patch+json" : ""));
  }
  if (JsonTooDeep(body)) return BadRequest("the patch nests deeper than " + std::to_string(kMaxJsonDepth) + " levels");
  out.patch = Json::parse(body, nullptr, false);
  if (out.patch.is_discarded()) return BadRequest("the patch is not valid JSON");
  if (out.type != ParsedPatch::Type::kJson && !out.patch.is_object()) {
    return BadRequest("a merge patch must be a JSON object");
  }
  if (out.type == ParsedPatch::Type::kJson && !out.patch.is_array()) {
    return BadRequest("a JSON patch must be a JSON array of operations");
  }
  out.kind = std::string(kind);
  return out;
}

Result<Json> ParsedPatch::ApplyTo(const Json& current, std::vector<std::string>* warnings) const {
  switch (type) {
    case Type::kMerge: {
      Json patched = current;
      patched.merge_patch(patch);
      return patched;
    }
    case Type::kStrategic:
      return StrategicMergePatch(current, patch, kind, warnings);
    case Type::kJson:
      break;
  }
  return ApplyJsonPatch(current, patch);
}

Result<Json> ObjectService::Patch(const Request& p, const ResourceInfo& r, std::string_view content_type,
                                  std::string_view body, bool status_only) {
  TMCD_ASSIGN_OR_RETURN(const ParsedPatch patch, ParsePatch(content_type, body, r.kind));
  for (int attempt = 0; attempt < 5; ++attempt) {
    TMCD_ASSIGN_OR_RETURN(auto stored, store_.Get(Key(p, r, p.name)));
    Json current = Decorate(stored);
    p.warnings.clear();  // a retry starts over
    TMCD_ASSIGN_OR_RETURN(Json patched, patch.ApplyTo(current, &p.warnings));
    // Unknown "$keys" a strategic patch dropped: kube's default (Warn) unless the client chose.
    if (!p.warnings.empty() && p.field_validation_given && p.field_validation == "Strict") {
      return BadRequest("strict decoding error: " + Join(p.warnings, ", "));
    }
    if (p.field_validation == "Ignore") p.warnings.clear();
    Json desired = current;
    if (status_only) {
      desired["status"] = patched.value("status", Json::object());
    } else {
      desired = patched;
      if (r.has_status) {
        if (current.contains("status"))
          desired["status"] = current["status"];
        else
          desired.erase("status");
      }
    }
    // A resourceVersion the patch sets is a precondition; otherwise retry on concurrent writes.
    const std::string rv = MetaOf(patched).value("resourceVersion", "");
    TMCD_ASSIGN_OR_RETURN(uint64_t expected, ParseResourceVersion(rv));
    const bool client_precondition = rv != MetaOf(current).value("resourceVersion", "");
    auto result = CommitUpdate(p, r, current, desired, expected);
    if (result.ok() || result.status().reason() != Reason::kConflict || client_precondition) return result;
  }
  return Status(Reason::kConflict, "too many concurrent writes to " + r.resource + " " + Quote(p.name));
}

Result<Json> ObjectService::Delete(const Request& p, const ResourceInfo& r, const Json& options) {
  const Json pre = options.is_object() ? options.value("preconditions", Json::object()) : Json::object();
  if (options.is_object() && options.contains("propagationPolicy")) {
    const std::string pp = options.value("propagationPolicy", "");
    if (pp != "Orphan" && pp != "Background" && pp != "Foreground") {
      return BadRequest("propagationPolicy must be Orphan, Background or Foreground");
    }
  }
  const bool pinned = pre.contains("resourceVersion");
  for (int attempt = 0; attempt < 5; ++attempt) {
    TMCD_ASSIGN_OR_RETURN(auto stored, store_.Get(Key(p, r, p.name)));
    Json current = Decorate(stored);
    if (pre.contains("uid") && pre["uid"] != current["metadata"]["uid"]) {
      return Status(Reason::kConflict, "Precondition failed: UID in precondition: " + pre["uid"].dump() +
                                           ", UID in object meta: " + current["metadata"]["uid"].dump());
    }
    uint64_t expected = stored.mod_revision;
    if (pinned) {
      TMCD_ASSIGN_OR_RETURN(expected, ParseResourceVersion(pre.value("resourceVersion", "")));
    }
    auto result = DeleteAt(p, r, std::move(current), expected);
    // Without a resourceVersion precondition, a write that raced this one (a controller adding a
    // finalizer or writing status) is retried on the object as it is now, as Kubernetes'
    // GuaranteedUpdate does; a client deleting unconditionally never gets a 409.
    if (result.ok() || result.status().reason() != Reason::kConflict || pinned) return result;
  }
  return Status(Reason::kConflict, "too many concurrent writes to " + r.resource + " " + Quote(p.name));
}

Result<Json> ObjectService::DeleteAt(const Request& p, const ResourceInfo& r, Json current, uint64_t expected) {
  if (!Finalizers(current).empty()) {
    if (current["metadata"].contains("deletionTimestamp")) return current;
    // Finalizers hold the object: mark it; the last finalizer's removal deletes it (CommitUpdate).
    Json obj = current;
    obj["metadata"]["deletionTimestamp"] = Now();
    obj["metadata"]["deletionGracePeriodSeconds"] = 0;
    // As the Kubernetes registry does (markAsDeleting): marking for deletion is a new generation,
    // so that controllers filtering on generations see it.
    const int64_t gen = obj["metadata"].value("generation", int64_t{0});
    if (gen > 0) obj["metadata"]["generation"] = gen + 1;
    obj["metadata"].erase("resourceVersion");
    obj["metadata"].erase("uid");
    if (p.dry_run) return DryRun(Key(p, r, p.name), std::move(obj), expected, false);
    TMCD_ASSIGN_OR_RETURN(auto updated, store_.Update(Key(p, r, p.name), obj.dump(), expected));
    Committed(p, r);
    return Decorate(updated);
  }
  if (p.dry_run) return DryRun(Key(p, r, p.name), std::move(current), expected, false);
  TMCD_ASSIGN_OR_RETURN(auto gone, store_.Delete(Key(p, r, p.name), expected));
  Committed(p, r);
  return Decorate(gone);
}

}  // namespace tmcd::registry
