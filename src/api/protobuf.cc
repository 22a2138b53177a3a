#include "api/protobuf.h"

#include <map>
#include <string>
#include <vector>

namespace tmcd::api {
namespace {

using Json = nlohmann::json;

enum class Type { kString, kBool, kInt, kMessage, kSkip };

struct Field {
  std::string json;
  Type type;
  std::string message;  // kMessage: the descriptor's name
  bool repeated = false;
};

using Descriptor = std::map<uint32_t, Field>;

// Field numbers from k8s.io/api/authorization/v1 and k8s.io/apimachinery's meta/v1 and runtime.
const std::map<std::string, Descriptor>& Descriptors() {
  static const std::map<std::string, Descriptor> kTable = {
      {"Unknown",
       {{1, {"typeMeta", Type::kMessage, "TypeMeta"}},
        {2, {"raw", Type::kString, ""}},
        {3, {"contentEncoding", Type::kString, ""}},
        {4, {"contentType", Type::kString, ""}}}},
      {"TypeMeta", {{1, {"apiVersion", Type::kString, ""}}, {2, {"kind", Type::kString, ""}}}},
      {"ObjectMeta",
       {{1, {"name", Type::kString, ""}},
        {2, {"generateName", Type::kString, ""}},
        {3, {"namespace", Type::kString, ""}}}},
      {"SelfSubjectAccessReview",
       {{1, {"metadata", Type::kMessage, "ObjectMeta"}}, {2, {"spec", Type::kMessage, "SelfSubjectAccessReviewSpec"}}}},
      {"SelfSubjectAccessReviewSpec",
       {{1, {"resourceAttributes", Type::kMessage, "ResourceAttributes"}},
        {2, {"nonResourceAttributes", Type::kMessage, "NonResourceAttributes"}}}},
      {"ResourceAttributes",
       {{1, {"namespace", Type::kString, ""}},
        {2, {"verb", Type::kString, ""}},
        {3, {"group", Type::kString, ""}},
        {4, {"version", Type::kString, ""}},
        {5, {"resource", Type::kString, ""}},
        {6, {"subresource", Type::kString, ""}},
        {7, {"name", Type::kString, ""}}}},
      {"NonResourceAttributes", {{1, {"path", Type::kString, ""}}, {2, {"verb", Type::kString, ""}}}},
      {"SelfSubjectRulesReview",
       {{1, {"metadata", Type::kMessage, "ObjectMeta"}}, {2, {"spec", Type::kMessage, "SelfSubjectRulesReviewSpec"}}}},
      {"SelfSubjectRulesReviewSpec", {{1, {"namespace", Type::kString, ""}}}},
  };
  return kTable;
}

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
  bool Skip(size_t n) {
    if (n > in_.size() - pos_) return false;
    pos_ += n;
    return true;
  }

 private:
  std::string_view in_;
  size_t pos_ = 0;
};

Result<Json> Decode(std::string_view data, const std::string& message, int depth) {
  if (depth > 16) return BadRequest("protobuf body nested too deeply");
  const auto found = Descriptors().find(message);
  const Descriptor* d = found == Descriptors().end() ? nullptr : &found->second;
  Json out = Json::object();
  Reader r(data);
  while (!r.done()) {
    uint64_t tag = 0;
    if (!r.Varint(tag)) return BadRequest("malformed protobuf body (" + message + ")");
    const auto number = static_cast<uint32_t>(tag >> 3);
    const auto wire = static_cast<int>(tag & 7);
    uint64_t v = 0;
    std::string_view bytes;
    bool ok = true;
    switch (wire) {
      case 0:
        ok = r.Varint(v);
        break;
      case 1:
        ok = r.Skip(8);
        break;
      case 2:
        ok = r.Bytes(bytes);
        break;
      case 5:
        ok = r.Skip(4);
        break;
      default:
        ok = false;
    }
    if (!ok) return BadRequest("malformed protobuf body (" + message + ")");
    const Field* f = nullptr;
    if (d != nullptr) {
      auto it = d->find(number);
      if (it != d->end()) f = &it->second;
    }
    if (f == nullptr) continue;  // unknown fields are skipped
    Json value;
    if (f->type == Type::kString && wire == 2) {
      value = std::string(bytes);
    } else if (f->type == Type::kBool && wire == 0) {
      value = v != 0;
    } else if (f->type == Type::kInt && wire == 0) {
      value = static_cast<int64_t>(v);
    } else if (f->type == Type::kMessage && wire == 2) {
      auto sub = Decode(bytes, f->message, depth + 1);
      if (!sub.ok()) return sub.status();
      value = std::move(*sub);
    } else {
      return BadRequest("malformed protobuf body: field " + f->json + " of " + message + " has wire type " +
                        std::to_string(wire));
    }
    if (f->repeated) {
      out[f->json].push_back(std::move(value));
    } else {
      out[f->json] = std::move(value);
    }
  }
  return out;
}

}  // namespace

Result<Json> DecodeKubeProtobuf(std::string_view body) {
  constexpr std::string_view kMagic("k8s\0", 4);
  if (body.substr(0, 4) != kMagic) return BadRequest("the protobuf body does not start with the k8s envelope");
  auto unknown = Decode(body.substr(4), "Unknown", 0);
  if (!unknown.ok()) return unknown.status();
  const Json meta = unknown->value("typeMeta", Json::object());
  const std::string kind = meta.value("kind", "");
  if (!unknown->value("contentEncoding", "").empty()) {
    return BadRequest("protobuf bodies with a content encoding are not supported");
  }
  if (kind.empty() || Descriptors().count(kind) == 0 || kind == "Unknown" || kind == "TypeMeta") {
    return Status(Reason::kUnsupportedMediaType,
                  "tmcd reads protobuf only for SelfSubjectAccessReview and SelfSubjectRulesReview, not " +
                      (kind.empty() ? std::string("this body") : kind) + " - send application/json");
  }
  auto obj = Decode(unknown->value("raw", ""), kind, 0);
  if (!obj.ok()) return obj.status();
  (*obj)["apiVersion"] = meta.value("apiVersion", "");
  (*obj)["kind"] = kind;
  return obj;
}

}  // namespace tmcd::api
