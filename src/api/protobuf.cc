#include "api/protobuf.h"

#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "apis/meta/time.h"
#include "common/strings.h"

namespace tmcd::api {
namespace {

using Json = nlohmann::json;

// One field of a message, from the generated table (scripts/generate-protobuf-schema.py).
struct Field {
  std::string json;
  char card = 'o';         // o optional, z optional and left out of JSON when zero, r repeated, m map, i inline
  std::string type;        // a scalar ("string", "int32", ...) or a message's full name
  std::string value_type;  // maps: the value's type (keys are strings)
};

using Message = std::map<uint32_t, Field>;

constexpr std::string_view kSchemaText =
#include "api/protobuf_schema.inc"
    ;

const std::map<std::string, Message, std::less<>>& Schema() {
  static const auto kSchema = [] {
    std::map<std::string, Message, std::less<>> out;
    for (const std::string& line : Split(kSchemaText, '\n')) {
      const size_t bar = line.find('|');
      if (bar == std::string::npos) continue;
      Message& m = out[line.substr(0, bar)];
      for (const std::string& f : Split(std::string_view(line).substr(bar + 1), ';')) {
        const auto parts = Split(f, ',');
        if (parts.size() != 4 || parts[2].size() != 1) continue;
        Field field{parts[1], parts[2][0], parts[3], ""};
        if (const size_t gt = field.type.find('>'); field.card == 'm' && gt != std::string::npos) {
          field.value_type = field.type.substr(gt + 1);
          field.type = field.type.substr(0, gt);
        }
        m[static_cast<uint32_t>(std::stoul(parts[0]))] = std::move(field);
      }
    }
    return out;
  }();
  return kSchema;
}

constexpr std::string_view kMeta = "k8s.io.apimachinery.pkg.apis.meta.v1.";
constexpr std::string_view kUnknown = "k8s.io.apimachinery.pkg.runtime.Unknown";

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool done() const { return pos_ >= in_.size(); }
  bool Varint(uint64_t& out) {
    out = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= in_.size()) return false;
      const auto b = static_cast<uint8_t>(in_[pos_++]);
      out |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return true;
    }
    return false;
  }
  bool Bytes(std::string_view& out) {
    uint64_t n = 0;
    if (!Varint(n) || n > in_.size() - pos_) return false;
    out = in_.substr(pos_, n);
    pos_ += n;
    return true;
  }
  bool Fixed(size_t n, uint64_t& out) {
    if (n > in_.size() - pos_) return false;
    out = 0;
    for (size_t i = 0; i < n; ++i) out |= static_cast<uint64_t>(static_cast<uint8_t>(in_[pos_ + i])) << (8 * i);
    pos_ += n;
    return true;
  }

 private:
  std::string_view in_;
  size_t pos_ = 0;
};

// One raw value off the wire.
struct Raw {
  int wire = 0;
  uint64_t number = 0;  // varint or fixed
  std::string_view bytes;
};

bool IsVarintType(const std::string& t) {
  return t == "bool" || t == "int32" || t == "int64" || t == "uint32" || t == "uint64";
}

class Decoder {
 public:
  Result<Json> Message(std::string_view data, const std::string& name, int depth);

 private:
  Result<Json> Value(const Raw& raw, const std::string& type, const std::string& where, int depth);
  Result<Json> Special(std::string_view data, const std::string& name, int depth);
  Status MapEntry(const Raw& raw, const Field& f, const std::string& where, int depth, Json& out);
  Status Packed(const Raw& raw, const Field& f, const std::string& where, int depth, Json& out);
};

Status Malformed(const std::string& where) {
  return BadRequest("malformed protobuf body (" + where + ")");
}

Result<Json> Decoder::Value(const Raw& raw, const std::string& type, const std::string& where, int depth) {
  auto wrong = [&] {
    return BadRequest("malformed protobuf body: field " + where + " has wire type " + std::to_string(raw.wire));
  };
  if (type == "string" || type == "bytes") {
    if (raw.wire != 2) return wrong();
    if (type == "bytes") return Json(Base64Encode(raw.bytes));
    if (!IsUtf8(raw.bytes)) return BadRequest("protobuf field " + where + " is not valid UTF-8");
    return Json(std::string(raw.bytes));
  }
  if (IsVarintType(type)) {
    if (raw.wire != 0) return wrong();
    if (type == "bool") return Json(raw.number != 0);
    if (type == "int32") return Json(static_cast<int64_t>(static_cast<int32_t>(raw.number)));
    if (type == "uint32") return Json(static_cast<uint64_t>(static_cast<uint32_t>(raw.number)));
    if (type == "uint64") return Json(raw.number);
    return Json(static_cast<int64_t>(raw.number));
  }
  if (type == "double" || type == "float") {
    if (raw.wire != (type == "double" ? 1 : 5)) return wrong();
    if (type == "float") {
      float f = 0;
      const auto bits = static_cast<uint32_t>(raw.number);
      std::memcpy(&f, &bits, sizeof(f));
      return Json(static_cast<double>(f));
    }
    double d = 0;
    std::memcpy(&d, &raw.number, sizeof(d));
    return Json(d);
  }
  if (raw.wire != 2) return wrong();
  return Message(raw.bytes, type, depth + 1);
}

// The apimachinery types whose JSON form is not their protobuf shape.
Result<Json> Decoder::Special(std::string_view data, const std::string& name, int depth) {
  auto fields = Message(data, name + "#fields", depth);  // the plain decode of the same message
  if (!fields.ok()) return fields.status();
  const Json& f = *fields;
  if (name == std::string(kMeta) + "Time") {
    const int64_t seconds = f.value("seconds", int64_t{0});
    if (seconds == 0 && f.value("nanos", int64_t{0}) == 0) return Json(nullptr);  // Go's zero Time is null
    return Json(apis::Time{seconds, true}.ToString());
  }
  if (name == std::string(kMeta) + "FieldsV1") {
    std::string raw;
    if (!Base64Decode(f.value("Raw", ""), raw)) return Malformed(name);
    if (raw.empty()) return Json(Json::object());
    if (JsonTooDeep(raw)) return BadRequest("managedFields nest too deeply");
    Json j = Json::parse(raw, nullptr, false);
    if (j.is_discarded()) return BadRequest("managedFields[].fieldsV1 is not JSON");
    return j;
  }
  if (name == "k8s.io.apimachinery.pkg.util.intstr.IntOrString") {
    if (f.value("type", int64_t{0}) == 1) return Json(f.value("strVal", ""));
    return Json(f.value("intVal", int64_t{0}));
  }
  return Json(f.value("string", ""));  // resource.Quantity
}

Status Decoder::MapEntry(const Raw& raw, const Field& f, const std::string& where, int depth, Json& out) {
  if (raw.wire != 2) {
    return BadRequest("malformed protobuf body: map " + where + " has wire type " + std::to_string(raw.wire));
  }
  Reader entry(raw.bytes);
  std::string key;
  Json value = f.value_type == "string" || f.value_type == "bytes" ? Json("") : Json(nullptr);
  while (!entry.done()) {
    uint64_t etag = 0;
    Raw e;
    if (!entry.Varint(etag)) return Malformed(where);
    e.wire = static_cast<int>(etag & 7);
    if (e.wire == 2 ? !entry.Bytes(e.bytes) : e.wire == 0 ? !entry.Varint(e.number) : true) return Malformed(where);
    if ((etag >> 3) == 1) {
      TMCD_ASSIGN_OR_RETURN(Json k, Value(e, "string", where, depth));
      key = k.get<std::string>();
    } else if ((etag >> 3) == 2) {
      TMCD_ASSIGN_OR_RETURN(value, Value(e, f.value_type, where, depth));
    } else {
      return Malformed(where);
    }
  }
  out[f.json][key] = std::move(value);
  return Status::Ok();
}

Status Decoder::Packed(const Raw& raw, const Field& f, const std::string& where, int depth, Json& out) {
  Reader packed(raw.bytes);
  Json& list = out[f.json];
  if (list.is_null()) list = Json::array();
  while (!packed.done()) {
    Raw item{0, 0, {}};
    if (!packed.Varint(item.number)) return Malformed(where);
    TMCD_ASSIGN_OR_RETURN(Json v, Value(item, f.type, where, depth));
    list.push_back(std::move(v));
  }
  return Status::Ok();
}

Result<Json> Decoder::Message(std::string_view data, const std::string& name, int depth) {
  if (depth > 64) return BadRequest("protobuf body nested too deeply");
  constexpr std::string_view kPlain = "#fields";
  const bool plain =
      name.size() > kPlain.size() && name.compare(name.size() - kPlain.size(), kPlain.size(), kPlain) == 0;
  const std::string message = plain ? name.substr(0, name.size() - kPlain.size()) : name;
  if (!plain && (message == std::string(kMeta) + "Time" || message == std::string(kMeta) + "FieldsV1" ||
                 message == "k8s.io.apimachinery.pkg.util.intstr.IntOrString" ||
                 message == "k8s.io.apimachinery.pkg.api.resource.Quantity")) {
    return Special(data, message, depth);
  }
  const auto found = Schema().find(message);
  if (found == Schema().end()) return BadRequest("protobuf message " + message + " is not in tmcd's schema");
  const std::string short_name = message.substr(message.rfind('.') + 1);
  Json out = Json::object();
  Reader r(data);
  while (!r.done()) {
    uint64_t tag = 0;
    Raw raw;
    if (!r.Varint(tag) || tag >> 3 == 0 || tag >> 3 > 0xffffffff) return Malformed(short_name);
    raw.wire = static_cast<int>(tag & 7);
    bool ok = false;
    switch (raw.wire) {
      case 0:
        ok = r.Varint(raw.number);
        break;
      case 1:
        ok = r.Fixed(8, raw.number);
        break;
      case 2:
        ok = r.Bytes(raw.bytes);
        break;
      case 5:
        ok = r.Fixed(4, raw.number);
        break;
      default:
        break;
    }
    if (!ok) return Malformed(short_name);
    const auto number = static_cast<uint32_t>(tag >> 3);
    const auto it = found->second.find(number);
    if (it == found->second.end()) {
      // Skipping it would drop data the client sent: say so, and how to send it instead.
      return BadRequest("protobuf field " + std::to_string(number) + " of " + short_name +
                        " is not in the Kubernetes 1.35 API that tmcd reads; send application/json");
    }
    const Field& f = it->second;
    const std::string where = short_name + "." + f.json;
    if (f.card == 'm') {
      TMCD_TRY(MapEntry(raw, f, where, depth, out));
      continue;
    }
    if (f.card == 'r' && raw.wire == 2 && IsVarintType(f.type)) {  // a packed repeated scalar
      TMCD_TRY(Packed(raw, f, where, depth, out));
      continue;
    }
    TMCD_ASSIGN_OR_RETURN(Json value, Value(raw, f.type, where, depth));
    if (f.card == 'r') {
      out[f.json].push_back(std::move(value));
    } else if (f.card == 'i') {
      if (!value.is_object()) return Malformed(where);
      for (auto m = value.begin(); m != value.end(); ++m) out[m.key()] = std::move(*m);
    } else if (f.card == 'z' && (value == "" || value == 0 || value == false || value.is_null() ||
                                 (value.is_object() && value.empty()))) {
      out.erase(f.json);  // omitempty: Go's JSON leaves the zero value out
    } else {
      out[f.json] = std::move(value);
    }
  }
  return out;
}

// The envelope's apiVersion → the protobuf package of its built-in kinds.
std::string Package(const std::string& api_version) {
  static const std::map<std::string, std::string, std::less<>> kPackages = {
      {"v1", "k8s.io.api.core.v1"},
      {"apps/v1", "k8s.io.api.apps.v1"},
      {"rbac.authorization.k8s.io/v1", "k8s.io.api.rbac.v1"},
      {"authorization.k8s.io/v1", "k8s.io.api.authorization.v1"},
      {"autoscaling/v1", "k8s.io.api.autoscaling.v1"},
  };
  const auto it = kPackages.find(api_version);
  return it == kPackages.end() ? "" : it->second;
}

}  // namespace

Result<Json> DecodeKubeProtobuf(std::string_view body) {
  constexpr std::string_view kMagic("k8s\0", 4);
  if (body.substr(0, 4) != kMagic) return BadRequest("the protobuf body does not start with the k8s envelope");
  Decoder d;
  auto unknown = d.Message(body.substr(4), std::string(kUnknown), 0);
  if (!unknown.ok()) return unknown.status();
  const std::string api_version = unknown->value("apiVersion", "");
  const std::string kind = unknown->value("kind", "");
  if (!unknown->value("contentEncoding", "").empty()) {
    return BadRequest("protobuf bodies with a content encoding are not supported");
  }
  // DeleteOptions travel under the resource's group/version but are meta.k8s.io's.
  const std::string package =
      kind == "DeleteOptions" ? std::string(kMeta.substr(0, kMeta.size() - 1)) : Package(api_version);
  const std::string message = package + "." + kind;
  if (package.empty() || kind.empty() || Schema().count(message) == 0) {
    return Status(Reason::kUnsupportedMediaType,
                  "tmcd reads protobuf bodies only for the built-in kinds it serves, not " +
                      (kind.empty() ? std::string("this body") : api_version + " " + kind) +
                      " - send application/json");
  }
  std::string raw;
  if (!Base64Decode(unknown->value("raw", ""), raw)) return BadRequest("malformed protobuf envelope");
  auto obj = d.Message(raw, message, 0);
  if (!obj.ok()) return obj.status();
  (*obj)["apiVersion"] = api_version;
  (*obj)["kind"] = kind;
  return obj;
}

}  // namespace tmcd::api
