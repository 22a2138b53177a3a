// Server-side apply over the store (docs/local-api.md#server-side-apply): the body is a partial object in
// JSON or YAML; the merge, field ownership and conflicts are src/registry/managed_fields.cc.
#include <yaml-cpp/yaml.h>

#include <charconv>
#include <cstdlib>

#include "common/strings.h"
#include "registry/objects.h"
#include "registry/yaml_body.h"

namespace tmcd::registry {
namespace {

// YAML (1.2 core schema scalars) to JSON, with a node budget so that alias expansion ("billion laughs")
// cannot blow up.
Result<Json> ToJson(const YAML::Node& n, size_t depth, size_t& budget) {
  if (depth > kMaxJsonDepth) return BadRequest("the apply body nests deeper than " + std::to_string(kMaxJsonDepth));
  if (budget-- == 0) return BadRequest("the apply body expands to too many YAML nodes");
  switch (n.Type()) {
    case YAML::NodeType::Sequence: {
      Json out = Json::array();
      for (const auto& item : n) {
        TMCD_ASSIGN_OR_RETURN(Json v, ToJson(item, depth + 1, budget));
        out.push_back(std::move(v));
      }
      return out;
    }
    case YAML::NodeType::Map: {
      Json out = Json::object();
      for (const auto& kv : n) {
        if (!kv.first.IsScalar()) return BadRequest("the apply body has a map key that is not a string");
        TMCD_ASSIGN_OR_RETURN(out[kv.first.Scalar()], ToJson(kv.second, depth + 1, budget));
      }
      return out;
    }
    case YAML::NodeType::Scalar:
      break;
    default:
      return Json(nullptr);
  }
  const std::string& s = n.Scalar();
  if (n.Tag() == "!" || n.Tag() == "tag:yaml.org,2002:str") return Json(s);  // quoted: a string
  if (s == "null" || s == "Null" || s == "NULL" || s == "~" || s.empty()) return Json(nullptr);
  if (s == "true" || s == "True" || s == "TRUE") return Json(true);
  if (s == "false" || s == "False" || s == "FALSE") return Json(false);
  int64_t i = 0;
  const char* end = s.data() + s.size();
  if (auto r = std::from_chars(s.data() + (s[0] == '+' ? 1 : 0), end, i); r.ec == std::errc() && r.ptr == end) {
    return Json(i);
  }
  if (s.find_first_not_of("0123456789+-.eE") == std::string::npos && s.find_first_of("0123456789") == 0) {
    char* stop = nullptr;
    const double d = std::strtod(s.c_str(), &stop);
    if (stop == s.c_str() + s.size()) return Json(d);
  }
  return Json(s);
}

}  // namespace

Result<Json> ParseApplyBody(std::string_view body) {
  if (JsonTooDeep(body)) return BadRequest("the apply body nests deeper than " + std::to_string(kMaxJsonDepth));
  Json j = Json::parse(body, nullptr, false);  // what kubectl and client-go send
  if (j.is_discarded()) {
    try {
      size_t budget = 1'000'000;
      TMCD_ASSIGN_OR_RETURN(j, ToJson(YAML::Load(std::string(body)), 0, budget));
    } catch (const YAML::Exception& e) {
      return BadRequest(std::string("the apply body is neither JSON nor YAML: ") + e.what());
    }
  }
  if (!j.is_object()) return BadRequest("the apply body must be an object");
  return j;
}

Result<Json> ObjectService::Apply(const Request& p, const ResourceInfo& r, std::string_view body, bool status_only) {
  if (!p.field_manager_given) {
    return BadRequest(
        "PATCH requests with an apply content type must specify fieldManager (the manager that owns "
        "the fields it applies)");
  }
  TMCD_ASSIGN_OR_RETURN(Json config, ParseApplyBody(body));
  if (config.value("apiVersion", "") != r.GroupVersion() || config.value("kind", "") != r.kind) {
    return BadRequest("the apply body must have apiVersion " + Quote(r.GroupVersion()) + " and kind " + Quote(r.kind));
  }
  if (!config["metadata"].is_object()) config["metadata"] = Json::object();
  if (config["metadata"].value("name", p.name) != p.name) {
    return BadRequest("the name of the object (" + config["metadata"].value("name", "") +
                      ") does not match the name on the URL (" + p.name + ")");
  }
  config["metadata"]["name"] = p.name;
  const ManagerInfo m = Manager(p, r);
  for (int attempt = 0; attempt < 5; ++attempt) {
    auto stored = store_.Get(Key(p, r, p.name));
    if (!stored.ok() && stored.status().reason() == Reason::kNotFound && !status_only) {
      TMCD_ASSIGN_OR_RETURN(Json obj, ApplyConfiguration(Json(), config, FieldTypeOf(r), m, p.force));
      auto created = Create(p, r, std::move(obj));
      if (created.ok()) p.created = true;
      if (created.ok() || created.status().reason() != Reason::kAlreadyExists) return created;
      continue;  // created concurrently: apply over it
    }
    if (!stored.ok()) return stored.status();
    Json current = Decorate(*stored);
    TMCD_ASSIGN_OR_RETURN(Json applied, ApplyConfiguration(current, config, FieldTypeOf(r), m, p.force));
    Json desired = current;
    if (status_only) {
      desired["status"] = applied.value("status", Json::object());
      desired["metadata"]["managedFields"] = applied["metadata"].value("managedFields", Json::array());
    } else {
      desired = std::move(applied);
      if (r.has_status) {
        if (current.contains("status"))
          desired["status"] = current["status"];
        else
          desired.erase("status");
      }
    }
    auto out = CommitUpdate(p, r, std::move(current), std::move(desired), stored->mod_revision);
    if (out.ok() || out.status().reason() != Reason::kConflict || !out.status().causes().empty()) return out;
  }
  return Status(Reason::kConflict, "too many concurrent writes to " + r.resource + " " + Quote(p.name));
}

}  // namespace tmcd::registry
