#include "store/codec.h"

#include "common/strings.h"

namespace tmcd::store {
namespace {
Status Corrupt(std::string_view what) {
  return Internal("store corruption: " + std::string(what));
}
}  // namespace

std::string ObjectKey::String() const {
  return workspace + "/" + group + "/" + resource + "/" + namespace_ + "/" + name;
}

Status CheckKey(const ObjectKey& k) {
  for (const std::string* part : {&k.workspace, &k.group, &k.resource, &k.namespace_, &k.name}) {
    if (part->find('\0') != std::string::npos) return BadRequest("object key parts must not contain NUL bytes");
  }
  if (k.workspace.empty() || k.resource.empty() || k.name.empty()) {
    return BadRequest("object key needs a workspace, a resource and a name");
  }
  return Status::Ok();
}

std::string EncodeKey(const ObjectKey& k) {
  std::string out;
  out.reserve(k.workspace.size() + k.group.size() + k.resource.size() + k.namespace_.size() + k.name.size() + 4);
  for (const std::string* part : {&k.workspace, &k.group, &k.resource, &k.namespace_}) {
    out += *part;
    out += '\0';
  }
  out += k.name;
  return out;
}

Result<ObjectKey> DecodeKey(std::string_view raw) {
  auto parts = Split(raw, '\0');
  if (parts.size() != 5) return Corrupt("object key with " + std::to_string(parts.size()) + " parts");
  return ObjectKey{parts[0], parts[1], parts[2], parts[3], parts[4]};
}

std::string ResourcePrefix(std::string_view ws, std::string_view group, std::string_view resource) {
  std::string out;
  for (std::string_view part : {ws, group, resource}) {
    out += part;
    out += '\0';
  }
  return out;
}

std::string NamespacePrefix(std::string_view ws, std::string_view group, std::string_view resource,
                            std::string_view ns) {
  std::string out = ResourcePrefix(ws, group, resource);
  out += ns;
  out += '\0';
  return out;
}

void PutU64(std::string& out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out += static_cast<char>((v >> static_cast<unsigned>(shift)) & 0xffU);
}

void PutU32(std::string& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>((v >> static_cast<unsigned>(shift)) & 0xffU);
}

uint64_t GetU64(std::string_view in) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8; ++i) v = (v << 8U) | static_cast<uint8_t>(in[i]);
  return v;
}

uint32_t GetU32(std::string_view in) {
  uint32_t v = 0;
  for (size_t i = 0; i < 4; ++i) v = (v << 8U) | static_cast<uint8_t>(in[i]);
  return v;
}

std::string RevisionKey(uint64_t rev) {
  std::string out;
  PutU64(out, rev);
  return out;
}

std::string EncodeObject(const StoredObject& o) {
  std::string out;
  out.reserve(33 + o.json.size());
  out += static_cast<char>(kObjectFormat);
  PutU64(out, o.create_revision);
  PutU64(out, o.mod_revision);
  std::string uid = o.uid;
  uid.resize(16, '\0');
  out += uid;
  out += o.json;
  return out;
}

Result<StoredObject> DecodeObject(std::string_view raw) {
  if (raw.size() < 33) return Corrupt("object value shorter than its 33-byte header");
  if (static_cast<uint8_t>(raw[0]) != kObjectFormat) {
    return Corrupt("object value format " + std::to_string(static_cast<uint8_t>(raw[0])));
  }
  StoredObject o;
  o.create_revision = GetU64(raw.substr(1));
  o.mod_revision = GetU64(raw.substr(9));
  o.uid = std::string(raw.substr(17, 16));
  o.json = std::string(raw.substr(33));
  return o;
}

std::string_view EventTypeName(EventType t) {
  switch (t) {
    case EventType::kAdded:
      return "ADDED";
    case EventType::kModified:
      return "MODIFIED";
    case EventType::kDeleted:
      return "DELETED";
  }
  return "ERROR";
}

std::string EncodeEvent(const Event& e) {
  std::string out;
  out += static_cast<char>(e.type);
  PutU64(out, e.unix_ms);
  PutU32(out, static_cast<uint32_t>(e.key.size()));
  out += e.key;
  out += EncodeObject(e.object);
  return out;
}

Result<Event> DecodeEvent(uint64_t revision, std::string_view raw) {
  if (raw.size() < 13) return Corrupt("event shorter than its header");
  Event e;
  e.revision = revision;
  auto type = static_cast<uint8_t>(raw[0]);
  if (type < 1 || type > 3) return Corrupt("event type " + std::to_string(type));
  e.type = static_cast<EventType>(type);
  e.unix_ms = GetU64(raw.substr(1));
  uint32_t key_len = GetU32(raw.substr(9));
  if (raw.size() < 13 + size_t{key_len}) return Corrupt("event key length beyond the record");
  e.key = std::string(raw.substr(13, key_len));
  TMCD_ASSIGN_OR_RETURN(e.object, DecodeObject(raw.substr(13 + key_len)));
  return e;
}

std::string UidString(std::string_view raw16) {
  std::string hex = HexEncode(raw16);
  if (hex.size() != 32) return hex;
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" + hex.substr(16, 4) + "-" +
         hex.substr(20);
}

}  // namespace tmcd::store

namespace tmcd::store {

std::optional<std::string> ParseUid(std::string_view text) {
  std::string raw;
  int nibble = -1;
  for (char c : text) {
    if (c == '-') continue;
    int v = c >= '0' && c <= '9'   ? c - '0'
            : c >= 'a' && c <= 'f' ? c - 'a' + 10
            : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                   : -1;
    if (v < 0) return std::nullopt;
    if (nibble < 0) {
      nibble = v;
    } else {
      raw.push_back(static_cast<char>((nibble << 4) | v));
      nibble = -1;
    }
  }
  if (nibble >= 0 || raw.size() != 16) return std::nullopt;
  return raw;
}

}  // namespace tmcd::store
