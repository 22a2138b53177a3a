#pragma once
// On-disk encodings of the store (docs/storage-format.md is the specification; golden byte tests fix
// them). Pure functions; thread-safe.
//
//   objects CF  key   ws \0 group \0 resource \0 namespace \0 name
//               value [format u8 = 1][createRev u64be][modRev u64be][uid 16B][JSON]
//   events CF   key   rev u64be
//               value [type u8][unix ms u64be][keyLen u32be][object key][JSON]
//   meta CF     "format" → u32be, "revision" → u64be, "compacted" → u64be, "instance" → 16B

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "observability/trace.h"

namespace tmcd::store {

inline constexpr uint8_t kObjectFormat = 1;
inline constexpr uint32_t kStoreFormat = 1;

// Which object: a workspace (logical cluster), group ("" = core), plural resource, namespace ("" for
// cluster-scoped objects) and name. No component may contain '\0'.
struct ObjectKey {
  std::string workspace;
  std::string group;
  std::string resource;
  std::string namespace_;
  std::string name;
  bool operator==(const ObjectKey&) const = default;
  std::string String() const;  // "ws/group/resource/ns/name" for messages
};

Status CheckKey(const ObjectKey& k);
std::string EncodeKey(const ObjectKey& k);
Result<ObjectKey> DecodeKey(std::string_view raw);
// Prefix of every key of (ws, group, resource), and of one namespace within it. Keys sort by
// (ws, group, resource, namespace, name) because '\0' sorts before every other byte.
std::string ResourcePrefix(std::string_view ws, std::string_view group, std::string_view resource);
std::string NamespacePrefix(std::string_view ws, std::string_view group, std::string_view resource,
                            std::string_view ns);

void PutU64(std::string& out, uint64_t v);
void PutU32(std::string& out, uint32_t v);
uint64_t GetU64(std::string_view in);  // in.size() >= 8
uint32_t GetU32(std::string_view in);  // in.size() >= 4
std::string RevisionKey(uint64_t rev);

struct StoredObject {
  uint64_t create_revision = 0;
  uint64_t mod_revision = 0;
  std::string uid;  // 16 raw bytes
  std::string json;
  bool operator==(const StoredObject&) const = default;
};

std::string EncodeObject(const StoredObject& o);
Result<StoredObject> DecodeObject(std::string_view raw);

enum class EventType : uint8_t { kAdded = 1, kModified = 2, kDeleted = 3 };
std::string_view EventTypeName(EventType t);  // ADDED, MODIFIED, DELETED (watch event types)

struct Event {
  uint64_t revision = 0;
  EventType type = EventType::kAdded;
  uint64_t unix_ms = 0;
  std::string key;      // encoded object key
  StoredObject object;  // for DELETED: the last state, with mod_revision = the delete revision
  // In memory only (never encoded): the span that committed the change, so that the work it causes
  // continues the same trace (docs/design/tracing.md). Invalid for history read back from the log.
  observability::SpanContext trace;
};

std::string EncodeEvent(const Event& e);
Result<Event> DecodeEvent(uint64_t revision, std::string_view raw);

// RFC 4122 textual form of a 16-byte uid.
std::string UidString(std::string_view raw16);
// The 16 raw bytes of a textual uid (32 hex digits, dashes ignored); nullopt when malformed.
std::optional<std::string> ParseUid(std::string_view text);

}  // namespace tmcd::store
